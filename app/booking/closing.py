"""The landlord closes a ticket: cancel it (with an optional reason) or mark the job completed.

Each writes its status change and one event in a transaction; the event's handler tells the
people involved after commit (app/booking/handlers.py, app/messaging/notices.py).
"""

from __future__ import annotations

from app import events
from app.booking import loop, quotes, transitions, visits
from app.booking.appointments import active_appointment
from app.db import transaction
from app.models import Ping, Ticket

REASON_MAX = 500


class ReasonTooLong(ValueError):
    """A cancel reason longer than REASON_MAX characters (a 422, or a form error)."""


def clean_reason(reason: str | None) -> str | None:
    """The reason as stored: stripped, None when blank; ReasonTooLong past REASON_MAX."""
    reason = (reason or "").strip()
    if len(reason) > REASON_MAX:
        raise ReasonTooLong(f"a reason is at most {REASON_MAX} characters")
    return reason or None


def cancel(ticket: Ticket, *, actor: str, reason: str | None = None) -> Ticket:
    """Cancel a ticket (any state but completed): its visit and open offers end with it, and
    ticket.cancelled {reason, appointmentId, pingIds} tells tenant and vendors.

    Raises IllegalTransition (nothing written) or ReasonTooLong (nothing written).
    """
    reason = clean_reason(reason)
    with transaction():
        loop.lock(ticket.id)
        visit = active_appointment(ticket)
        offers = [ping.id for ping in (Ping.select(Ping.id)
                                       .where(Ping.ticket == ticket, Ping.outcome == "pending")
                                       .order_by(Ping.id))]
        transitions.change_status(ticket, "cancelled", actor=actor)
        quotes.withdraw(ticket, actor=actor)
        events.emit("ticket.cancelled", ticket=ticket, actor=actor, reason=reason,
                    appointmentId=visit.id if visit else None,
                    vendorId=visit.vendor_id if visit else None, pingIds=offers)
    return ticket


def complete(ticket: Ticket, *, actor: str) -> Ticket:
    """Mark a scheduled job completed: ticket.completed {appointmentId}, and its visit's
    appointment.completed with the tenant asked to rate it (visits.finish).

    Raises IllegalTransition (nothing written).
    """
    with transaction():
        loop.lock(ticket.id)
        visit = active_appointment(ticket)
        transitions.change_status(ticket, "completed", actor=actor)
        events.emit("ticket.completed", ticket=ticket, actor=actor,
                    appointmentId=visit.id if visit else None,
                    vendorId=visit.vendor_id if visit else None)
        if visit is not None:
            visits.finish(visit, ticket, actor=actor)
    return ticket
