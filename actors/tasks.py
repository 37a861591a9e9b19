"""Thin actors: each takes ids and calls app.booking / app.messaging; safe to run twice."""

from __future__ import annotations

from datetime import datetime

import dramatiq

from actors import runtime
from app import events
from app.booking import sweep as sweeping
from app.hooks import delivery as webhooks
from app.messaging import outbound


@dramatiq.actor(max_retries=5, min_backoff=200, max_backoff=5000, time_limit=30_000)
def handle_event(event_id: int) -> None:
    """Run the handler of one recorded event, then deliver the messages it queued."""
    config = runtime.config()
    with outbound.delivered_here(config):
        events.handle(event_id, config)


@dramatiq.actor(max_retries=0, time_limit=30_000)
def send_message(message_id: int) -> None:
    """Deliver one queued message through the configured channel (retries are in outbound)."""
    outbound.deliver(message_id, runtime.config())


# Its own queue and a low priority, so bookings go first; the limit is above the POST's 10 s
# timeout (the sweep hands a delivery whose worker died over again after its lease).
@dramatiq.actor(max_retries=0, time_limit=30_000, queue_name="webhooks", priority=100)
def deliver_webhook(delivery_id: int) -> None:
    """POST one webhook delivery, signed; record the attempt and schedule any retry."""
    webhooks.deliver(delivery_id, runtime.config())


@dramatiq.actor(max_retries=0, time_limit=10_000, max_age=5_000)
def sweep() -> None:
    """One tick: claim what is due and hand each due deadline to sweep_row; the outbox and
    events the broker lost are handed over again."""
    sweeping.run(runtime.config(), send=_sweep_row_sender)


# Retries are the sweep's (app.faults: backoff, then parked), not Dramatiq's: a failed row
# is leased again by a later tick. A lost message costs its row the lease (sweep.LEASE).
# Its own queue and priority: a backlog of due rows never holds up the next tick (which
# would wait behind them in one queue), nor bookings; webhooks (100) come after.
@dramatiq.actor(max_retries=0, time_limit=30_000, queue_name="deadlines", priority=50)
def sweep_row(kind: str, row_id: int, lease: str) -> None:
    """Act on one due deadline the sweep leased (an offer timing out, a reminder, …), then
    deliver the messages it queued (the next vendor's offer)."""
    config = runtime.config()
    with outbound.delivered_here(config):
        sweeping.handle(kind, row_id, datetime.fromisoformat(lease), config)


def _sweep_row_sender(kind: str, row_id: int, lease: str, delay_ms: int) -> None:
    sweep_row.send_with_options(args=(kind, row_id, lease), delay=delay_ms or None)
