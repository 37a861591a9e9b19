"""The periodic sweep: act on whatever is due, with the database as the only clock memory."""

from __future__ import annotations

import logging
import time
import uuid
from datetime import timedelta

from app import clock, events, faults, shared_metrics
from app.booking import alerts, digests, insurance, loop, transitions, visits
from app.booking.sla import allowance
from app.config import Config
from app.db import transaction
from app.hooks import queueing as webhooks
from app.logs import request_id_var
from app.messaging import outbound, receipts
from app.models import Appointment, Fault, Landlord, Message, Ping, Ticket, Vendor

log = logging.getLogger(__name__)

BATCH = 200
STALE_QUEUED = timedelta(seconds=30)  # queued but never picked up: the broker lost it
STALE_SENDING = timedelta(minutes=2)  # claimed by a worker that died mid-send
PRUNE_EVERY_SECONDS = 60.0
_pruned_at = float("-inf")


def _each_due(kind: str, model, deadline, act, *where) -> int:
    """Act on each row of model (a ticket, ping, appointment, vendor or landlord) whose deadline
    has passed, a bounded batch soonest first, each in isolation (app.faults: a row that raises
    is retried later, then parked; a vendor's fault belongs to its landlord); the count of rows
    act(row id) returned True for. How late each first try fires goes to /metrics."""
    scope = "landlord" if model in (Vendor, Landlord) else "ticket"
    owner = model.id if model in (Ticket, Landlord) else getattr(model, scope)
    due = (faults.due_join(model.select(model.id, owner.alias("owner_ref"),
                                        deadline.alias("due_at")), kind, model.id)
           .where(deadline <= clock.now(), *where)
           .order_by(deadline)
           .limit(BATCH))

    def fire(row) -> bool:
        if row.fault_id is None:  # a retry is late by its backoff: the fault figures show it
            shared_metrics.observe("deadline_lateness_seconds", kind,
                                   (clock.now() - row.due_at).total_seconds())
        return faults.attempt(kind, row.id, lambda: act(row.id), **{scope: row.owner_ref},
                              clear=row.fault_id is not None) is True

    # Read the ids first: a cursor left open across writes pins an old SQLite snapshot.
    return sum(1 for row in list(due) if fire(row))


def expire_pings(config: Config) -> int:
    """Pending pings past their expiry time out, and the next vendor is asked."""
    return _each_due("ping", Ping, Ping.expires_at,
                     lambda ping_id: loop.lapse(ping_id, "timed_out", config),
                     Ping.outcome == "pending")


def resume_dispatch(config: Config) -> int:
    """Tickets whose wait for a vendor's hours or the next round is over ask the next vendor."""
    return _each_due("dispatch", Ticket, Ticket.dispatch_at,
                     lambda ticket_id: loop.resume(ticket_id, config))


def escalate_overdue(config: Config) -> int:
    """Unbooked tickets past their SLA deadline go to the landlord."""
    return _each_due("ticket", Ticket, Ticket.escalate_at,
                     lambda ticket_id: _escalate_if_due(ticket_id, config))


def _escalate_if_due(ticket_id: int, config: Config) -> bool:
    """Escalate one ticket whose SLA deadline passed, if it still has; True when it did."""
    with transaction():
        ticket = loop.lock(ticket_id)
        if ticket is None or ticket.escalate_at is None or ticket.escalate_at > clock.now():
            return False
        if ticket.status not in transitions.UNBOOKED:
            Ticket.update(escalate_at=None).where(Ticket.id == ticket.id).execute()
            return False
        if ticket.status == "new":  # dispatch never started (worker down): start it now
            loop.start(ticket.id, config)
            ticket = loop.lock(ticket_id)
            if ticket.status != "dispatching":
                return False
        loop.escalate(ticket, overdue_reason(ticket, config), config)
    return True


def overdue_reason(ticket: Ticket, config: Config) -> str:
    seconds = allowance(ticket.severity, config)
    if ticket.severity == "emergency":
        return f"emergency not booked within {seconds / 60:g} minutes"
    return f"routine job not booked within {seconds / 3600:g} hours"


def remind_visits(config: Config) -> int:
    """Visits whose next reminder is due remind tenant and vendor."""
    return _each_due("visit", Appointment, Appointment.remind_at,
                     lambda appointment_id: visits.remind(appointment_id, config))


def check_visits() -> int:
    """Visits past their end and grace ask the tenant whether the vendor came."""
    return _each_due("visit_check", Appointment, Appointment.no_show_at, visits.ask_came)


def daily_digests(config: Config) -> int:
    """Landlords whose morning digest is due get it; those never armed are armed."""
    for landlord_id in digests.unarmed():
        digests.send(landlord_id, config)
    return _each_due("digest", Landlord, Landlord.digest_at,
                     lambda landlord_id: digests.send(landlord_id, config))


def insurance_notices() -> int:
    """Vendors whose insurance notice is due tell vendor and landlord, and arm the next."""
    return _each_due("insurance", Vendor, Vendor.insurance_notice_at, insurance.notify)


def repeat_alerts(config: Config) -> int:
    """Emergency escalations not yet acknowledged text their landlord again when due."""
    return _each_due("alert", Ticket, Ticket.alert_due_at,
                     lambda ticket_id: _repeat_if_due(ticket_id, config))


def _repeat_if_due(ticket_id: int, config: Config) -> bool:
    """Repeat one ticket's escalation alert, if it is still due; True when it was sent."""
    with transaction():
        ticket = loop.lock(ticket_id)
        return ticket is not None and alerts.repeat(ticket, config)


def resend_lost_messages() -> int:
    """Queued messages the broker never delivered, sends a dead worker left, and notices
    held through a landlord's quiet hours once they end, go (again); an at-most-once message
    (a visit reminder) a worker died sending is given up instead."""
    now = clock.now()
    stale = (Message.status == "sending") & (Message.updated_at <= now - STALE_SENDING)
    once = Message.dedupe_key.is_null(False) & Message.dedupe_key.startswith(outbound.AT_MOST_ONCE)
    (Message.update(status="failed", updated_at=now,
                    error="the worker stopped while sending it; sent at most once, so not "
                          "sent again")
     .where(stale & once).execute())
    (Message.update(status="queued", updated_at=now)
     .where(stale & (Message.dedupe_key.is_null()
                     | ~Message.dedupe_key.startswith(outbound.AT_MOST_ONCE)))
     .execute())
    lost = (faults.due_join(Message.select(Message.id), "message", Message.id)
            .where(Message.status == "queued", Message.direction == "outbound",
                   Message.provider_id.is_null(),  # Twilio also calls what it accepted queued
                   (Message.updated_at <= now - STALE_QUEUED)
                   | (Message.updated_at < Fault.retry_at),
                   Message.send_after.is_null() | (Message.send_after <= now))
            .limit(BATCH))
    count = 0
    for message in list(lost):
        Message.update(updated_at=now).where(Message.id == message.id).execute()
        outbound.enqueue(message.id)
        count += 1
    return count


def webhook_deliveries() -> int:
    """New events of landlords with webhooks get a delivery each; due ones go to workers."""
    webhooks.collect()
    return webhooks.hand_over()


def republish_events() -> int:
    """Hand events whose handler has not run (lost, or failed and due again) to the broker."""
    return sum(1 for event_id in events.unhandled() if events.publish(event_id))


def prune_receipts() -> int:
    """Forget webhook receipts past their replay window, at most once a minute per process
    (housekeeping, not a deadline: a late prune only keeps a few rows longer)."""
    global _pruned_at
    now = time.monotonic()
    if now - _pruned_at < PRUNE_EVERY_SECONDS:
        return 0
    _pruned_at = now
    return receipts.prune_receipts()


def run(config: Config) -> dict[str, int]:
    """One pass over everything due; returns counts by kind (for logs and tests).

    Each part runs on its own: one that raises (a bug, the database gone for a moment) is
    logged, and the others still run. The tick has a request id of its own (sweep-…) for its
    log lines and the messages it enqueues, and its duration goes to /metrics.
    """
    started = time.perf_counter()
    token = request_id_var.set(f"sweep-{uuid.uuid4().hex[:12]}")
    try:
        return _run(config)
    finally:
        request_id_var.reset(token)
        shared_metrics.observe("sweep_tick_seconds", "", time.perf_counter() - started)


def _run(config: Config) -> dict[str, int]:
    parts = {
        "republished": republish_events,
        "expired": lambda: expire_pings(config),
        "resumed": lambda: resume_dispatch(config),
        "escalated": lambda: escalate_overdue(config),
        "alerted": lambda: repeat_alerts(config),
        "reminded": lambda: remind_visits(config),
        "checked": check_visits,
        "insurance_notices": insurance_notices,
        "digests": lambda: daily_digests(config),
        "resent": resend_lost_messages,
        "webhooks": webhook_deliveries,
        "pruned": prune_receipts,
    }
    counts = {}
    for name, part in parts.items():
        try:
            counts[name] = part()
        except Exception:
            log.exception("sweep: %s failed; the rest of the sweep goes on", name)
            counts[name] = 0
    if any(counts.values()):
        log.info("sweep: %s", counts)
    return counts
