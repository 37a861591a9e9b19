"""From events to deliveries: the sweep queues one delivery per (endpoint, event) and hands
due ones to the deliver_webhook actor, one message each.

Deliveries are queued by the sweep from the event table, not in the event's transaction: a
booking then costs no statement more (tests/engine/test_statements_per_booking.py), and an
event is read only once it is committed. Each endpoint keeps scan_from_id, the id up to which
its landlord's events are queued; it moves only past events older than SETTLED, so an event
whose transaction commits a little after a later id's still is seen.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta

from peewee import JOIN

from app import clock
from app.db import after_commit, transaction
from app.hooks.endpoints import wants
from app.models import Event, WebhookDelivery, WebhookEndpoint
from app.prepared import Param, Prepared

log = logging.getLogger(__name__)

BATCH = 200
SETTLED = timedelta(minutes=2)  # an event this old is committed (or rolled back) for good
WINDOW = timedelta(hours=24)  # a delivery is retried this long (CONTRACT.md §12)
LEASE = timedelta(seconds=60)  # a handed-over delivery is handed over again after this

Sender = Callable[[int], None]
_sender: Sender | None = None


def set_sender(sender: Sender | None) -> None:
    """Install how a delivery id reaches a worker (the deliver_webhook actor's send)."""
    global _sender
    _sender = sender


def enqueue(delivery_id: int) -> None:
    """Hand one delivery to a worker; a broker failure leaves it for the next hand-over."""
    if _sender is None:
        return
    try:
        _sender(delivery_id)
    except Exception:  # next_attempt_at was moved LEASE ahead: the sweep tries again then
        log.warning("could not enqueue webhook delivery %s", delivery_id, exc_info=True)


def collect() -> int:
    """Queue a delivery for each new event of each enabled endpoint's landlord; the count."""
    count = 0
    endpoints = ENABLED_ENDPOINTS.rows()
    for endpoint in endpoints:
        try:
            count += _collect(endpoint)
        except Exception:  # one endpoint's trouble stays with it
            log.exception("webhooks: queueing events for endpoint %s failed", endpoint.id)
    return count


def _collect(endpoint: WebhookEndpoint) -> int:
    now = clock.now()
    rows = list(Event.select(Event.id, Event.type, Event.created_at,
                             WebhookDelivery.id.alias("delivery_id"))
                .join(WebhookDelivery, JOIN.LEFT_OUTER,
                      on=(WebhookDelivery.event == Event.id)
                      & (WebhookDelivery.endpoint == endpoint.id))
                .where(Event.landlord == endpoint.landlord_id, Event.id > endpoint.scan_from_id)
                .order_by(Event.id).limit(BATCH).objects())
    new = [{"endpoint": endpoint.id, "event": row.id, "next_attempt_at": now,
            "retry_until": now + WINDOW, "created_at": now}
           for row in rows if row.delivery_id is None and wants(endpoint.events, row.type)]
    floor = endpoint.scan_from_id
    for row in rows:
        if row.created_at > now - SETTLED:
            break
        floor = row.id
    with transaction():
        if new:
            WebhookDelivery.insert_many(new).on_conflict_ignore().execute()
        if floor != endpoint.scan_from_id:
            (WebhookEndpoint.update(scan_from_id=floor)
             .where(WebhookEndpoint.id == endpoint.id).execute())
    return len(new)


DUE_DELIVERIES = Prepared(lambda: (  # rendered once: the sweep asks every second
    WebhookDelivery.select(WebhookDelivery.id).join(WebhookEndpoint)
    .where(WebhookDelivery.next_attempt_at <= Param("now"),
           WebhookEndpoint.disabled_at.is_null())
    .order_by(WebhookDelivery.next_attempt_at).limit(BATCH)))
ENABLED_ENDPOINTS = Prepared(lambda: WebhookEndpoint.select().where(
    WebhookEndpoint.disabled_at.is_null()))


def hand_over() -> int:
    """Hand each due delivery of an enabled endpoint to a worker, soonest first; the count."""
    now = clock.now()
    ids = [row.id for row in DUE_DELIVERIES.rows(now=now)]
    if not ids:
        return 0
    with transaction():
        (WebhookDelivery.update(next_attempt_at=now + LEASE)
         .where(WebhookDelivery.id.in_(ids)).execute())
        for delivery_id in ids:
            after_commit(lambda delivery_id=delivery_id: enqueue(delivery_id))
    return len(ids)


def redeliver(delivery: WebhookDelivery) -> None:
    """Send a delivery again now (delivered or given up alike), retried for another WINDOW."""
    now = clock.now()
    with transaction():
        (WebhookDelivery.update(delivered_at=None, gave_up_at=None, claimed_at=None,
                                next_attempt_at=now + LEASE, retry_until=now + WINDOW)
         .where(WebhookDelivery.id == delivery.id).execute())
        after_commit(lambda: enqueue(delivery.id))
