"""One bad row harms nobody else: a row whose handling fails is retried with backoff a bounded
number of times, then parked until the landlord (or `events replay`) retries it.

The sweep also leases a due deadline here while a worker has it (app.booking.sweep.claim): a
row with attempts 0 and retry_at at the lease's end; its handler deletes it on success, and a
failure counts against it like any other try."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from typing import TypeVar

from peewee import JOIN

from app import clock, events
from app.db import transaction
from app.models import Fault, Ticket

log = logging.getLogger(__name__)

# alert: a ticket's repeated alert; visit: an appointment's reminder; visit_check: its
# no-show question; insurance: a vendor's insurance notice; dispatch: a ticket's wait for
# hours or the next round (rounds)
KINDS = ("ticket", "event", "message", "ping", "alert", "visit", "visit_check", "insurance",
         "dispatch", "digest")
BACKOFF_SECONDS = (2, 15, 60, 300)  # waits before the 2nd … 5th try
MAX_ATTEMPTS = len(BACKOFF_SECONDS) + 1
ERROR_CHARS = 1000
FAILED = object()  # what attempt() returns when the work raised

T = TypeVar("T")


def attempt(kind: str, row_id: int, work: Callable[[], T], *, ticket: int | None = None,
            landlord: int | None = None, clear: bool = False) -> T | object:
    """Run work() for one row; an exception is recorded against the row (and logged) instead
    of propagating, and FAILED is returned. With clear, success forgets an earlier fault.

    work must do its own writes in its own transaction(), which an exception rolls back.
    """
    try:
        result = work()
    except Exception as exc:  # any bug or bad data in one row stays with that row
        record(kind, row_id, exc, ticket=ticket, landlord=landlord)
        return FAILED
    if clear:
        forget(kind, row_id)
    return result


def record(kind: str, row_id: int, exc: BaseException, *, ticket: int | None = None,
           landlord: int | None = None) -> Fault:
    """Count one failed try of a row: schedule the next with backoff, or park it."""
    now = clock.now()
    error = f"{type(exc).__name__}: {exc}"[:ERROR_CHARS]
    with transaction():
        fault = Fault.get_or_none(Fault.kind == kind, Fault.row_id == row_id)
        if fault is None:
            fault = Fault(kind=kind, row_id=row_id, attempts=0, created_at=now)
        if fault.ticket_id is None and fault.landlord_id is None:  # new, or the sweep's lease
            if landlord is None and ticket is not None:
                landlord = Ticket.find(ticket).landlord_id
            fault.ticket, fault.landlord = ticket, landlord
        fault.attempts += 1
        fault.error, fault.updated_at = error, now
        if fault.attempts >= MAX_ATTEMPTS:
            fault.retry_at, fault.failed_at = None, now
        else:
            fault.retry_at = now + timedelta(seconds=BACKOFF_SECONDS[fault.attempts - 1])
        fault.save()
        if fault.failed_at is not None and (fault.ticket_id or fault.landlord_id):
            events.emit("fault.parked", ticket=fault.ticket_id, landlord=fault.landlord_id,
                        kind=kind, rowId=row_id, attempts=fault.attempts, error=error)
    if fault.failed_at is not None:
        log.error("%s %s parked after %d tries: %s", kind, row_id, fault.attempts, error,
                  exc_info=exc)
    else:
        log.warning("%s %s failed (try %d of %d, next at %s): %s", kind, row_id,
                    fault.attempts, MAX_ATTEMPTS, fault.retry_at, error, exc_info=exc)
    return fault


def record_row(kind: str, row_id: int, exc: BaseException, row) -> Fault:
    """record(), scoped to row's ticket and landlord: for a caller that knows them only once
    it has read (claimed) the row; row is None when it never got that far."""
    return record(kind, row_id, exc, ticket=getattr(row, "ticket_id", None),
                  landlord=getattr(row, "landlord_id", None))


def forget(kind: str, row_id: int) -> None:
    """The row was handled: drop its fault, if it had one."""
    with transaction():
        Fault.delete().where(Fault.kind == kind, Fault.row_id == row_id).execute()


def due_join(query, kind: str, id_field, now=None):
    """Restrict a sweep's query over one kind of row to rows without a fault that holds them
    back (parked, or waiting out its backoff) at now (default the clock's; a Param for a
    Prepared query); selects `fault_id` (None for a clean row)."""
    now = clock.now() if now is None else now
    return (query.select_extend(Fault.id.alias("fault_id"))
            .join(Fault, JOIN.LEFT_OUTER, on=(Fault.kind == kind) & (Fault.row_id == id_field))
            .where(Fault.id.is_null() | (Fault.failed_at.is_null() & (Fault.retry_at <= now)))
            .objects())


def parked(*, landlord: int | None = None, ticket: int | None = None) -> list[Fault]:
    """Parked faults of a landlord or of one ticket, newest first."""
    query = Fault.select().where(Fault.failed_at.is_null(False))
    if landlord is not None:
        query = query.where(Fault.landlord == landlord)
    if ticket is not None:
        query = query.where(Fault.ticket == ticket)
    return list(query.order_by(Fault.failed_at.desc()))


def retry(fault: Fault, *, actor: str) -> None:
    """Unpark a row for one more try now (a failure parks it again at once)."""
    now = clock.now()
    with transaction():
        (Fault.update(failed_at=None, retry_at=now, attempts=MAX_ATTEMPTS - 1, updated_at=now)
         .where(Fault.id == fault.id)
         .execute())
        if fault.ticket_id or fault.landlord_id:
            events.emit("fault.retried", ticket=fault.ticket_id, landlord=fault.landlord_id,
                        actor=actor, kind=fault.kind, rowId=fault.row_id)


def retry_all(*, ticket: int | None = None, actor: str) -> int:
    """Unpark every parked row (of one ticket); `events replay` calls this."""
    query = Fault.select().where(Fault.failed_at.is_null(False))
    if ticket is not None:
        query = query.where(Fault.ticket == ticket)
    faults = list(query)
    for fault in faults:
        retry(fault, actor=actor)
    return len(faults)


def describe(fault: Fault) -> str:
    """What the stuck row is, in a landlord's words."""
    from app.models import Event, Message, Ping, Vendor

    if fault.kind == "event":
        event = Event.find(fault.row_id)
        return f"handling “{event.type}”" if event else f"event {fault.row_id}"
    if fault.kind == "message":
        message = Message.find(fault.row_id)
        return f"sending a {message.channel} to {message.to_number}" if message else "a message"
    if fault.kind == "ping":
        ping = Ping.find(fault.row_id)
        return f"moving on from {ping.vendor.name}'s offer" if ping else "an offer"
    if fault.kind == "alert":
        return "repeating the escalation alert"
    if fault.kind == "visit":
        return "sending the visit reminder"
    if fault.kind == "dispatch":
        return "asking the next vendor after a wait"
    if fault.kind == "digest":
        return "sending the daily digest"
    if fault.kind == "visit_check":
        return "asking the tenant whether the vendor came"
    if fault.kind == "insurance":
        vendor = Vendor.find(fault.row_id)
        return f"telling {vendor.name} their insurance expires" if vendor else "an insurance notice"
    return "checking the ticket's deadline"
