"""The ticket state machine of CONTRACT.md §6, written once."""

from __future__ import annotations

from datetime import datetime

from app import clock, events
from app.booking import alerts, questions
from app.models import ACTIVE_APPOINTMENT_STATUSES, Appointment, Ping, Ticket
from app.prepared import Param, Prepared, per_shape

TRANSITIONS: dict[str, frozenset[str]] = {
    "new": frozenset({"dispatching", "cancelled"}),
    "dispatching": frozenset({"scheduled", "escalated", "cancelled"}),
    "escalated": frozenset({"scheduled", "cancelled"}),
    # §9: a visit cancelled or missed sends the ticket back; NOT FIXED reopens it
    "scheduled": frozenset({"completed", "cancelled", "dispatching"}),
    "completed": frozenset({"dispatching"}),
    "cancelled": frozenset(),
}

# The timestamp column each arrival sets, when it has one.
STAMPS = {
    "scheduled": "booked_at",
    "escalated": "escalated_at",
    "completed": "completed_at",
    "cancelled": "cancelled_at",
}
UNBOOKED = ("new", "dispatching")  # the only states an SLA deadline (escalate_at) runs in
NO_OFFERS = ("scheduled", "completed", "cancelled")  # booked or closed: no job to offer

STATUS = Prepared(lambda: Ticket.select(Ticket.status).where(Ticket.id == Param("id")))
FILL_OPEN_OFFERS = Prepared(lambda: Ping.update(outcome=Param("outcome", Ping.outcome)).where(
    Ping.ticket == Param("ticket"), Ping.outcome == "pending"))


def _move(columns: tuple[str, ...]) -> Prepared:
    """UPDATE ticket SET those columns WHERE id and status are still as read, RETURNING the
    row as it now is (none when the status was not as read)."""
    return per_shape(("ticket move", columns), lambda: Ticket.update(
        {getattr(Ticket, c): Param(c, getattr(Ticket, c)) for c in columns}).where(
        Ticket.id == Param("ticket_id"), Ticket.status == Param("previous")).returning(Ticket))


class IllegalTransition(Exception):
    """A status change the state machine does not allow (an API 409)."""

    def __init__(self, ticket_id: int, current: str, target: str):
        self.ticket_id, self.current, self.target = ticket_id, current, target
        super().__init__(f"ticket {ticket_id} cannot go from {current} to {target}")


def path(start: str, target: str) -> list[str]:
    """The shortest run of legal changes from start to target (not including start)."""
    routes = {start: []}
    frontier = [start]
    while frontier and target not in routes:
        reached = []
        for status in frontier:
            for nxt in sorted(TRANSITIONS[status]):
                if nxt not in routes:
                    routes[nxt] = routes[status] + [nxt]
                    reached.append(nxt)
        frontier = reached
    if target not in routes:
        raise IllegalTransition(0, start, target)
    return routes[target]


def allowed(current: str, target: str) -> bool:
    return target in TRANSITIONS.get(current, frozenset())


def change_status(
    ticket: Ticket,
    target: str,
    *,
    actor: str = "system",
    at: datetime | None = None,
    **changes,
) -> Ticket:
    """Move ticket to target with a conditional UPDATE; call inside transaction().

    Exactly one of several racing callers wins; the others get IllegalTransition.
    The change and its event are written in the caller's transaction.
    """
    at = at or clock.now()
    values = {"status": target, "updated_at": at}
    stamp = STAMPS.get(target)
    if stamp:
        values[stamp] = at
    if target not in UNBOOKED:  # booked, escalated or closed: the SLA clock stops
        values["escalate_at"] = None
    if target in NO_OFFERS:  # nobody is to be asked any more (rounds)
        values["dispatch_at"] = None
    values.update(changes)
    move = _move(tuple(values))
    # Usually the status in hand is the stored one (the caller just read it under its lock):
    # the conditional UPDATE alone proves it; otherwise the stored status decides.
    previous = ticket.status
    moved = (move.first(ticket_id=ticket.id, previous=previous, **values)
             if allowed(previous, target) else None)
    if moved is None:
        previous = STATUS.scalar(id=ticket.id)
        if previous is None or not allowed(previous, target):
            raise IllegalTransition(ticket.id, previous or "missing", target)
        moved = move.first(ticket_id=ticket.id, previous=previous, **values)
        if moved is None:
            current = STATUS.scalar(id=ticket.id)  # a concurrent change won the race
            raise IllegalTransition(ticket.id, current or "missing", target)
    ticket.__data__.update(moved.__data__)  # the row as stored, from the UPDATE itself
    _settle_offers_and_visits(ticket, target)
    events.emit(
        "ticket.status_changed",
        ticket=ticket,
        actor=actor,
        **{"from": previous, "to": target},
    )
    if previous == "escalated":  # its alert stops; the landlord moving it acknowledged it
        alerts.left_escalation(ticket, actor)
    return ticket


def _settle_offers_and_visits(ticket: Ticket, target: str) -> None:
    """Booked or closed: open offers end, and a closed ticket's visit ends with it."""
    if target in NO_OFFERS:
        outcome = "filled" if target == "scheduled" else "cancelled"
        FILL_OPEN_OFFERS.execute(ticket=ticket, outcome=outcome)
    if target in ("completed", "cancelled"):
        stamp = {"completed": Appointment.completed_at, "cancelled": Appointment.cancelled_at}
        (Appointment.update({Appointment.status: target, stamp[target]: clock.now(),
                             Appointment.remind_at: None, Appointment.no_show_at: None})
         .where(Appointment.ticket == ticket,
                Appointment.status.in_(ACTIVE_APPOINTMENT_STATUSES))
         .execute())
    if target == "cancelled":
        questions.close_of_ticket(ticket, "cancelled")
