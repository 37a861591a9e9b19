"""The periodic sweep: act on whatever is due, with the database as the only clock memory."""

from __future__ import annotations

import logging
import math
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from app import clock, events, faults, shared_metrics
from app.booking import alerts, digests, insurance, loop, transitions, visits
from app.booking.sla import allowance
from app.config import Config
from app.db import transaction
from app.hooks import queueing as webhooks
from app.logs import request_id_var
from app.messaging import outbound, receipts
from app.models import Appointment, Fault, Landlord, Message, Ping, Ticket, Vendor
from app.prepared import Param, Prepared, per_shape

log = logging.getLogger(__name__)

BATCH = 200
STALE_QUEUED = timedelta(seconds=30)  # queued but never picked up: the broker lost it
STALE_SENDING = timedelta(minutes=2)  # claimed by a worker that died mid-send
PRUNE_EVERY_SECONDS = 60.0
_pruned_at = float("-inf")


# A due row is claimed for this long: the tick writes the lease (in its fault row) and
# enqueues one `sweep_row` message; a row whose message never ran (Redis lost it, the worker
# died) is due again once the lease has passed.
LEASE = timedelta(seconds=15)
# A tick that hands rows to workers also claims those falling due before the next tick (the
# scheduler's interval) and enqueues each with a delay to its deadline: the interval between
# ticks no longer adds to how late a deadline is acted on.
AHEAD = timedelta(seconds=1)


@dataclass(frozen=True)
class Deadline:
    """One kind of deadline the sweep acts on: rows of model whose field has passed (and
    that match where), and what to do for one row: act(row id, config), True when it acted."""

    kind: str  # the fault kind (app.faults.KINDS) and the message's word for it
    model: type
    field: object
    act: Callable[[int, Config], object]
    where: tuple = ()

    @property
    def scope(self) -> str:  # a vendor's or landlord's fault belongs to its landlord
        return "landlord" if self.model in (Vendor, Landlord) else "ticket"

    @property
    def owner(self):
        model = self.model
        return model.id if model in (Ticket, Landlord) else getattr(model, self.scope)


# Lambdas, so that each act is looked up when it runs (tests replace some).
DEADLINES = {d.kind: d for d in (
    Deadline("ping", Ping, Ping.expires_at,
             lambda ping_id, config: loop.lapse(ping_id, "timed_out", config),
             (Ping.outcome == "pending",)),
    Deadline("dispatch", Ticket, Ticket.dispatch_at,
             lambda ticket_id, config: loop.resume(ticket_id, config)),
    Deadline("ticket", Ticket, Ticket.escalate_at,
             lambda ticket_id, config: _escalate_if_due(ticket_id, config)),
    Deadline("alert", Ticket, Ticket.alert_due_at,
             lambda ticket_id, config: _repeat_if_due(ticket_id, config)),
    Deadline("visit", Appointment, Appointment.remind_at,
             lambda appointment_id, config: visits.remind(appointment_id, config)),
    Deadline("visit_check", Appointment, Appointment.no_show_at,
             lambda appointment_id, config: visits.ask_came(appointment_id)),
    Deadline("insurance", Vendor, Vendor.insurance_notice_at,
             lambda vendor_id, config: insurance.notify(vendor_id)),
    Deadline("digest", Landlord, Landlord.digest_at,
             lambda landlord_id, config: digests.send(landlord_id, config)),
)}

# (kind, row id, lease, delay ms) → enqueue one sweep_row, to run once the delay has passed
Send = Callable[[str, int, str, int], object]


def claim(kind: str, ahead: timedelta = timedelta(0)) -> list[tuple[int, datetime, datetime]]:
    """Lease a bounded batch of kind's rows due now (or within ahead), soonest first: (row id,
    lease, deadline) of each row this call leased. A row is leased by its fault row
    (app.faults: kind, row id, retry_at = the lease's end; attempts and error stay those of
    earlier failed tries), so a row already leased, waiting out a failure's backoff or parked
    is not due; of two ticks that see the same row only one writes its lease (the unique
    (kind, row id), then retry_at compared)."""
    now = clock.now()
    found = _due(kind).rows(now=now, until=now + ahead)  # read first: no cursor across writes
    rows = [(row.id, row.fault_id) for row in found]
    due_at = {row.id: row.due_at for row in found}
    if not rows:
        return []
    until = now + LEASE
    ids = [row_id for row_id, _ in rows]
    fresh = [row_id for row_id, fault_id in rows if fault_id is None]
    held = [fault_id for _, fault_id in rows if fault_id is not None]
    with transaction():
        if fresh:
            (Fault.insert_many([dict(kind=kind, row_id=row_id, attempts=0, error="",
                                     retry_at=until, created_at=now, updated_at=now)
                                for row_id in fresh])
             .on_conflict_ignore().execute())
        if held:  # due again: after a failure's backoff, or an earlier lease that lapsed
            (Fault.update(retry_at=until, updated_at=now)
             .where(Fault.id.in_(held), Fault.failed_at.is_null(), Fault.retry_at <= now)
             .execute())
        mine = {row_id for (row_id,) in Fault.select(Fault.row_id)
                .where(Fault.kind == kind, Fault.row_id.in_(ids), Fault.retry_at == until)
                .tuples()}
    return [(row_id, until, due_at[row_id]) for row_id in ids if row_id in mine]


def _due(kind: str) -> Prepared:
    """The statement that finds kind's rows due by `until` and not held back at `now`
    (rendered once: a tick runs it for every kind, every second)."""
    deadline = DEADLINES[kind]
    model = deadline.model
    return per_shape(("sweep.due", kind), lambda: (
        faults.due_join(model.select(model.id, deadline.field.alias("due_at")), kind, model.id,
                        now=Param("now"))
        .where(deadline.field <= Param("until"), *deadline.where)
        .order_by(deadline.field)
        .limit(BATCH)))


def handle(kind: str, row_id: int, lease: datetime, config: Config) -> bool:
    """Act on one leased row (the `sweep_row` actor; the inline sweep too); True when it
    acted. Safe to run twice: the message's lease is exchanged for a running one in one
    conditional UPDATE, so a redelivered message, one whose row was leased again since, or one
    whose row was handled (its lease gone) does nothing. A row no longer due is let go. A
    failure is the row's alone: retried with backoff by a later tick, then parked. How late a
    first try acts goes to /metrics, measured now, when the work runs.

    The act runs outside any transaction of ours and opens its own (the exchange, the work
    and the release are three): an act may wait on writers of other connections (a webhook's
    YES committing meanwhile, tests/webhooks/test_races.py), which must not wait on a lock we
    hold. A worker killed after the work but before the release leaves a lease row whose
    deadline no longer matches; it is reused or replaced the next time that row falls due."""
    deadline, model = DEADLINES[kind], DEADLINES[kind].model
    now = clock.now()
    # The running lease always differs from the message's, even on a clock that stands still.
    running = max(now + LEASE, lease + timedelta(microseconds=1))
    # In a transaction: SQLite writers then queue on the file lock (app.db), not on SQLite's
    # busy handler, which dozes up to 100 ms between tries.
    with transaction():
        taken = (Fault.update(retry_at=running, updated_at=now)
                 .where(Fault.kind == kind, Fault.row_id == row_id, Fault.retry_at == lease,
                        Fault.failed_at.is_null())
                 .execute())
        if not taken:
            return False
        row = (model.select(deadline.owner.alias("owner_ref"), deadline.field.alias("due_at"),
                            Fault.attempts.alias("attempts"))
               .join(Fault, on=(Fault.kind == kind) & (Fault.row_id == model.id))
               .where(model.id == row_id, deadline.field <= now, *deadline.where)
               .objects().first())
        if row is None:  # handled meanwhile (an answer, a cancel), or its deadline moved
            faults.forget(kind, row_id)
            return False
    if not row.attempts:  # a retry is late by its backoff: the fault figures show it
        shared_metrics.observe("deadline_lateness_seconds", kind,
                               (now - row.due_at).total_seconds())
    done = faults.attempt(kind, row_id, lambda: deadline.act(row_id, config),
                          **{deadline.scope: row.owner_ref})
    if done is not faults.FAILED:
        with transaction():
            faults.forget(kind, row_id)
    return done is True


def _each_due(kind: str, config: Config, send: Send | None = None) -> int:
    """Claim kind's due rows; hand each to a worker (send), with those due before the next
    tick delayed to their deadline, or without send act on each due row here, one after
    another; the count handed over, or acted on."""
    if send is None:
        return sum(1 for row_id, lease, _ in claim(kind)
                   if handle(kind, row_id, lease, config))
    claimed = claim(kind, AHEAD)
    for row_id, lease, due in claimed:  # a send that fails leaves the lease to lapse: due again
        # From the claim's own instant (its lease's start), rounded up, so the message never
        # runs before its deadline (handle would let it go).
        delay_ms = max(0, math.ceil((due - (lease - LEASE)).total_seconds() * 1000))
        send(kind, row_id, lease.isoformat(), delay_ms)
    return len(claimed)


def expire_pings(config: Config) -> int:
    """Pending pings past their expiry time out, and the next vendor is asked."""
    return _each_due("ping", config)


def resume_dispatch(config: Config) -> int:
    """Tickets whose wait for a vendor's hours or the next round is over ask the next vendor."""
    return _each_due("dispatch", config)


def escalate_overdue(config: Config) -> int:
    """Unbooked tickets past their SLA deadline go to the landlord."""
    return _each_due("ticket", config)


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
    return _each_due("visit", config)


def check_visits(config: Config) -> int:
    """Visits past their end and grace ask the tenant whether the vendor came."""
    return _each_due("visit_check", config)


def daily_digests(config: Config, send: Send | None = None) -> int:
    """Landlords whose morning digest is due get it; those never armed are armed."""
    for landlord_id in digests.unarmed():
        digests.send(landlord_id, config)
    return _each_due("digest", config, send)


def insurance_notices(config: Config) -> int:
    """Vendors whose insurance notice is due tell vendor and landlord, and arm the next."""
    return _each_due("insurance", config)


def repeat_alerts(config: Config) -> int:
    """Emergency escalations not yet acknowledged text their landlord again when due."""
    return _each_due("alert", config)


def _repeat_if_due(ticket_id: int, config: Config) -> bool:
    """Repeat one ticket's escalation alert, if it is still due; True when it was sent."""
    with transaction():
        ticket = loop.lock(ticket_id)
        return ticket is not None and alerts.repeat(ticket, config)


# The tick's reads of the outbox, rendered once (they run every second).
STALE_SENDS = Prepared(lambda: Message.select(Message.id).where(
    Message.status == "sending", Message.updated_at <= Param("before")).limit(1))
LOST_MESSAGES = Prepared(lambda: (
    faults.due_join(Message.select(Message.id), "message", Message.id, now=Param("now"))
    .where(Message.status == "queued", Message.direction == "outbound",
           Message.provider_id.is_null(),  # Twilio also calls what it accepted queued
           (Message.updated_at <= Param("queued_before")) | (Message.updated_at < Fault.retry_at),
           Message.send_after.is_null() | (Message.send_after <= Param("now")))
    .limit(BATCH)))


def resend_lost_messages() -> int:
    """Queued messages the broker never delivered, sends a dead worker left, and notices
    held through a landlord's quiet hours once they end, go (again); an at-most-once message
    (a visit reminder) a worker died sending is given up instead."""
    now = clock.now()
    if STALE_SENDS.first(before=now - STALE_SENDING):  # rare: read first, write if so
        stale = (Message.status == "sending") & (Message.updated_at <= now - STALE_SENDING)
        once = (Message.dedupe_key.is_null(False)
                & Message.dedupe_key.startswith(outbound.AT_MOST_ONCE))
        with transaction():
            (Message.update(status="failed", updated_at=now,
                            error="the worker stopped while sending it; sent at most once, "
                                  "so not sent again")
             .where(stale & once).execute())
            (Message.update(status="queued", updated_at=now)
             .where(stale & (Message.dedupe_key.is_null()
                             | ~Message.dedupe_key.startswith(outbound.AT_MOST_ONCE)))
             .execute())
    ids = [message.id for message in LOST_MESSAGES.rows(now=now,
                                                         queued_before=now - STALE_QUEUED)]
    if ids:  # one write for the batch; each goes to a worker once it is committed
        with transaction():
            Message.update(updated_at=now).where(Message.id.in_(ids)).execute()
    for message_id in ids:
        outbound.enqueue(message_id)
    return len(ids)


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


def run(config: Config, send: Send | None = None) -> dict[str, int]:
    """One pass over everything due; returns counts by kind (for logs and tests).

    With send (the `sweep` actor's tick) each due deadline is claimed and handed to a worker
    as its own `sweep_row` message, so the tick is a few queries and the work spreads over
    every worker; without it (tests, a one-off pass) each claimed row is acted on here, by
    the same handle(). Each part runs on its own: one that raises (a bug, the database gone
    for a moment) is logged, and the others still run. The tick has a request id of its own
    (sweep-…) for its log lines and the messages it enqueues, and its duration goes to
    /metrics.
    """
    started = time.perf_counter()
    token = request_id_var.set(f"sweep-{uuid.uuid4().hex[:12]}")
    try:
        return _run(config, send)
    finally:
        request_id_var.reset(token)
        shared_metrics.observe("sweep_tick_seconds", "", time.perf_counter() - started)


def _run(config: Config, send: Send | None) -> dict[str, int]:
    def due(kind: str) -> Callable[[], int]:
        return lambda: _each_due(kind, config, send)

    parts = {
        "republished": republish_events,
        "expired": due("ping"),
        "resumed": due("dispatch"),
        "escalated": due("ticket"),
        "alerted": due("alert"),
        "reminded": due("visit"),
        "checked": due("visit_check"),
        "insurance_notices": due("insurance"),
        "digests": lambda: daily_digests(config, send),
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
