"""Booking: the one place an appointment is created and a ticket becomes scheduled."""

from __future__ import annotations

from datetime import datetime

from peewee import IntegrityError

from app import clock, events
from app.booking import questions, schedule, transitions
from app.clock import isoformat
from app.config import Config
from app.db import transaction
from app.models import ACTIVE_APPOINTMENT_STATUSES, Appointment, Ping, Ticket, Vendor
from app.prepared import Param, Prepared

APPOINTMENTS_OF = Prepared(lambda: Appointment.select(Appointment, Vendor).join(Vendor).where(
    Appointment.ticket == Param("ticket")).order_by(Appointment.id))
ACTIVE = Prepared(lambda: Appointment.select().where(
    Appointment.ticket == Param("ticket"),
    Appointment.status.in_(ACTIVE_APPOINTMENT_STATUSES)).limit(1))


class AlreadyBooked(Exception):
    """The ticket already has an active (tentative or confirmed) appointment (an API 409)."""

    def __init__(self, ticket_id: int):
        self.ticket_id = ticket_id
        super().__init__(f"ticket {ticket_id} already has an active appointment")


def appointments_of(ticket: Ticket) -> list[Appointment]:
    """Every appointment of a ticket, oldest first, with its vendor loaded."""
    return APPOINTMENTS_OF.rows(ticket=ticket)


def active_appointment(ticket: Ticket) -> Appointment | None:
    """The ticket's tentative or confirmed appointment, if it has one."""
    return ACTIVE.first(ticket=ticket)


def book(
    ticket: Ticket,
    vendor: Vendor,
    starts_at: datetime | None,
    ends_at: datetime | None,
    method: str,
    actor: str,
    ping: Ping | None = None,
    *,
    config: Config,
    locked: bool = False,
    changes: dict | None = None,
) -> Appointment:
    """Schedule ticket with vendor: status change, tentative appointment and event, atomically.

    A start without an end ends as §9 says (schedule.default_end); a visit with a time gets its
    reminder and no-show deadlines, and its tenant the question "does that time work?" (the
    appointment.confirmed handler sends it with the booking news).

    Raises AlreadyBooked when the ticket has an active appointment (also when a concurrent
    booking wins the partial unique index) and IllegalTransition when its state forbids
    booking; either way nothing is written. Two racing callers give exactly one appointment.

    locked: the caller's transaction holds the ticket (loop.locked), so no other booking can
    race this one (each moves the ticket's status first) and no savepoint is needed. changes:
    more ticket columns the status change sets (the YES's first response).
    """
    args = (ticket, vendor, starts_at, ends_at, method, actor, ping, config, changes or {})
    if locked:  # its status (dispatching, escalated, new) says it has no active visit
        return _book(*args)
    if active_appointment(ticket) is not None:
        raise AlreadyBooked(ticket.id)
    try:
        with transaction():
            return _book(*args)
    except IntegrityError:
        ticket.__data__.update(Ticket.get_by_id(ticket.id).__data__)  # undo the rolled-back change
        raise AlreadyBooked(ticket.id) from None


def _book(ticket: Ticket, vendor: Vendor, starts_at: datetime | None,
          ends_at: datetime | None, method: str, actor: str, ping: Ping | None,
          config: Config, changes: dict) -> Appointment:
    """book()'s writes, in the caller's transaction."""
    try:
        transitions.change_status(ticket, "scheduled", actor=actor, **changes)  # booked_at
    except transitions.IllegalTransition as exc:  # refused before writing anything
        if exc.current != "new":
            raise
        # booked by hand before dispatch began: walk §6's path
        transitions.change_status(ticket, "dispatching", actor=actor)
        transitions.change_status(ticket, "scheduled", actor=actor, **changes)
    if ends_at is None:
        ends_at = schedule.default_end(ticket, starts_at)
    appointment = Appointment.create(
        ticket=ticket, vendor=vendor, ping=ping, starts_at=starts_at, ends_at=ends_at,
        status="tentative", confirmation_method=method, created_at=ticket.booked_at,
        **schedule.deadlines(starts_at, ends_at, config, clock.now()),
    )
    if starts_at is not None:
        questions.ask("confirm", appointment, ticket, new=True)
    events.emit(
        "appointment.confirmed", ticket=ticket, actor=actor,
        vendor=vendor.name, vendorId=vendor.id, appointmentId=appointment.id,
        startsAt=isoformat(starts_at), endsAt=isoformat(ends_at), method=method,
        pingId=ping.id if ping is not None else None,
    )
    return appointment
