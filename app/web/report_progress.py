"""Where a tenant's report is, in their terms: what the status page shows and how often it asks."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from app.booking import rounds, selection
from app.booking.appointments import active_appointment
from app.models import Appointment, Event, Ping, Ticket

FINAL = ("completed", "cancelled")  # nothing more can happen: the page stops asking
POLL_SECONDS = {"received": 2, "contacting": 2, "escalated": 10, "booked": 30}


@dataclass(frozen=True)
class Progress:
    """Where a ticket is, in the tenant's terms."""

    state: str  # received | contacting | booked | escalated | completed | cancelled
    asking: int = 0  # which vendor is being asked now (1-based), 0 when none
    of: int = 0  # how many vendors in all, as far as is known now
    appointment: Appointment | None = None  # the visit booked (or done)
    reason: str | None = None  # why it was cancelled, when the landlord said
    next_ask_at: datetime | None = None  # asking waits until then (rounds, §10)
    waits_for: str | None = None  # "hours": vendors' working hours; "round": the next round

    @property
    def final(self) -> bool:
        return self.state in FINAL

    @property
    def poll_seconds(self) -> int | None:
        """How often the page asks again: a booked visit may still be done or cancelled, and
        an escalated ticket still booked, so only a final state stops it."""
        return None if self.final else POLL_SECONDS[self.state]

    @property
    def key(self) -> str:
        """Changes whenever what the tenant sees changes (the poll answers 204 otherwise)."""
        visit = self.appointment
        when = visit.starts_at.isoformat() if visit and visit.starts_at else ""
        return (f"{self.state}:{self.asking}:{self.of}:{visit.id if visit else 0}:{when}:"
                f"{self.next_ask_at.isoformat() if self.next_ask_at else ''}")


def _visit_done(ticket: Ticket) -> Appointment | None:
    return (Appointment.select()
            .where(Appointment.ticket == ticket, Appointment.status == "completed")
            .order_by(Appointment.id.desc())
            .first())


def cancel_reason(ticket: Ticket) -> str | None:
    """The reason on the newest ticket.cancelled event, when it carries a usable one."""
    event = (Event.select()
             .where(Event.ticket == ticket, Event.type == "ticket.cancelled")
             .order_by(Event.id.desc())
             .first())
    reason = event.data.get("reason") if event is not None and isinstance(event.data, dict) \
        else None
    return reason.strip() or None if isinstance(reason, str) else None


def _wait(ticket: Ticket) -> dict:
    """When asking waits (dispatch_at) and for what, as Progress fields; {} when it does not."""
    if not rounds.waiting(ticket):
        return {}
    last = (Event.select(Event.type)
            .where(Event.ticket == ticket,
                   Event.type.in_((rounds.WAITING, selection.ROUND_BEGUN)))
            .order_by(Event.id.desc()).first())
    why = "hours" if last is not None and last.type == rounds.WAITING else "round"
    return {"next_ask_at": ticket.dispatch_at, "waits_for": why}


def progress(ticket: Ticket) -> Progress:
    status = ticket.status
    if status == "scheduled":
        return Progress("booked", appointment=active_appointment(ticket))
    if status == "completed":
        return Progress("completed", appointment=_visit_done(ticket))
    if status == "cancelled":
        return Progress("cancelled", reason=cancel_reason(ticket))
    if status == "escalated":
        return Progress("escalated", **_wait(ticket))
    if status == "new":
        return Progress("received")
    asked = Ping.select().where(Ping.ticket == ticket).count()
    pending = Ping.select().where(Ping.ticket == ticket, Ping.outcome == "pending").exists()
    if not pending:
        return Progress("contacting", **_wait(ticket))
    return Progress("contacting", asking=asked, of=asked + len(selection.candidates(ticket)))
