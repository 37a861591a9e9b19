"""The booking loop: start dispatch, ask vendors one at a time, take answers, time out, escalate."""

from __future__ import annotations

import logging
from datetime import datetime

from peewee import fn

from app import clock, events
from app.booking import alerts, rounds, selection, transitions
from app.booking.appointments import AlreadyBooked, book
from app.booking.dispatch import PingRefused, send_ping
from app.booking.windows import parse_window
from app.config import Config
from app.db import is_postgres, transaction
from app.joined import joined
from app.messaging import notices
from app.models import Appointment, Ping, Property, Tenant, Ticket
from app.prepared import Param, Prepared

log = logging.getLogger(__name__)

BOOKABLE = ("dispatching", "escalated")  # a YES still books the job in these states
ANSWERABLE = ("pending", "timed_out", "failed")  # pings a vendor may still say YES/NO to
NOBODY_LEFT = "no vendor left to ask: every matching vendor declined or did not answer"
NOBODY_FITS = "no vendor can take this job"  # followed by why (nobody_fits)


def _lock_query():
    """The ticket with its property and tenant (what the engine's texts and clocks read next),
    only the ticket's row locked."""
    query = (Ticket.select(Ticket, Property, Tenant).join(Property).switch(Ticket).join(Tenant)
             .where(Ticket.id == Param("id")).limit(1))
    if is_postgres():  # NO KEY: rows that merely reference the ticket do not conflict
        query = query.for_update("FOR NO KEY UPDATE", of=Ticket)
    return query


LOCK = Prepared(_lock_query)
TICKET_OF_PING = Prepared(lambda: Ping.select(Ping.ticket).where(Ping.id == Param("id")))
PENDING = Prepared(lambda: Ping.select(Ping.id).where(Ping.ticket == Param("ticket"),
                                                      Ping.outcome == "pending").limit(1))
ANY_PING = Prepared(lambda: Ping.select(Ping.id).where(
    Ping.ticket == Param("ticket")).limit(1))
FIRST_RESPONSE = Prepared(lambda: Ticket.update(
    first_response_at=Param("at", Ticket.first_response_at)).where(
    Ticket.id == Param("id"), Ticket.first_response_at.is_null()))


def lock(ticket_id: int) -> Ticket | None:
    """Re-read a ticket inside a transaction, locking its row where the database can."""
    return LOCK.first(id=ticket_id)


def locked(ping_id: int, ticket_id: int | None = None) -> tuple[Ping | None, Ticket | None]:
    """A ping and its locked ticket, or (None, None) when either is gone; the ping is read
    after the lock, so no answer is stale. Pass the ping's ticket_id when it is known."""
    if ticket_id is None:
        ticket_id = TICKET_OF_PING.scalar(id=ping_id)
    ticket = lock(ticket_id) if ticket_id is not None else None
    ping = Ping.find(ping_id) if ticket is not None else None
    if ping is None:
        return None, None
    ping.ticket = ticket
    return ping, ticket


def start(ticket_id: int, config: Config) -> None:
    """Move a new ticket to dispatching and ask the first vendor (does nothing twice)."""
    with joined():  # the intake.completed handler's transaction, when it runs there
        ticket = lock(ticket_id)
        if ticket is None or ticket.status != "new":
            return
        transitions.change_status(ticket, "dispatching")
        ask_next(ticket, config, first=True)


def ask_next(ticket: Ticket, config: Config, *, first: bool = False) -> Ping | None:
    """Ping the next vendor unless one is still pending or asking waits (rounds); at the end
    of a round, ask the silent again later and escalate as §10 says.

    Call inside a transaction holding the ticket (lock()), so one ping is open at a time.
    first: dispatch is just starting, so nobody left means nobody fits.
    """
    if ticket.status not in BOOKABLE or rounds.waiting(ticket):
        return None
    if PENDING.scalar(ticket=ticket) is not None:
        return None
    while True:
        up = selection.next_up(ticket, first=first)
        if up.vendor is None:
            break
        try:
            return send_ping(ticket, up.vendor, up.vendor.preferred_channel, config,
                             actor="system", event_data=selection.demotion(up.vendor))
        except PingRefused as exc:  # changed under us (opted out, lost its phone): skip
            log.info("skipping vendor %s for ticket %s: %s", up.vendor.id, ticket.id, exc)
            events.emit("vendor.skipped", ticket=ticket, vendorId=up.vendor.id, reason=str(exc))
    if up.opens_at is not None:  # a routine job: every vendor to ask is off work now
        rounds.wait(ticket, up.opens_at)
        return None
    _end_of_round(ticket, config, first=first)
    return None


def nobody_fits(ticket: Ticket) -> str:
    """The escalation reason when no vendor can be asked at all, with why each is not."""
    return f"{NOBODY_FITS} ({selection.why_nobody(ticket)})"


def _end_of_round(ticket: Ticket, config: Config, *, first: bool) -> None:
    """Nobody is left to ask this round: the silent are asked again after a pause while rounds
    are left; an emergency escalates once everyone was asked, a routine job only when nobody
    fits or everyone said NO (otherwise its SLA deadline escalates it). An escalated ticket
    asked again (AGAIN, an emergency's later rounds) tells its landlord when asking ends."""
    again = rounds.again(ticket, config)
    if ticket.status == "escalated":
        if not again:
            _still_nobody(ticket, config)
        return
    if ticket.status != "dispatching":
        return
    if first or ANY_PING.scalar(ticket=ticket) is None:
        escalate(ticket, nobody_fits(ticket), config)
    elif ticket.severity == "emergency" or not (again or rounds.silent(ticket)):
        escalate(ticket, NOBODY_LEFT, config)


def _still_nobody(ticket: Ticket, config: Config) -> None:
    """Asking an escalated ticket's vendors ended with nobody booked: its landlord is told."""
    event = events.emit("dispatch.exhausted", ticket=ticket, reason=NOBODY_LEFT)
    notices.still_nobody(ticket, NOBODY_LEFT, event, config)


def resume(ticket_id: int, config: Config) -> bool:
    """A ticket's wait (dispatch_at) is over: ask the next vendor; True when one was asked."""
    with transaction():
        ticket = lock(ticket_id)
        if ticket is None or ticket.dispatch_at is None or rounds.waiting(ticket):
            return False
        rounds.clear(ticket)
        return ask_next(ticket, config) is not None


def escalate(ticket: Ticket, reason: str, config: Config) -> None:
    """Hand the ticket to its landlord: status, event and messages to landlord and tenant;
    an emergency's landlord is also called, and texted again until they acknowledge (alerts)."""
    transitions.change_status(ticket, "escalated", escalation_reason=reason,
                              **alerts.armed(ticket))
    event = events.emit("ticket.escalated", ticket=ticket, reason=reason)
    notices.escalated(ticket, reason, event, config)
    alerts.call(ticket, reason, event, config)


def _first_response(ticket: Ticket) -> None:
    FIRST_RESPONSE.execute(id=ticket.id, at=clock.now())


def accept(ping_id: int, via: str, config: Config,
           when: tuple[datetime, datetime | None] | None = None) -> str:
    """A vendor said YES: 'booked' for the first YES on an unbooked ticket, else 'filled'.

    when is the visit (start, end or None) the YES named; without it the visit starts where
    the tenant's window does (CONTRACT.md §9).
    """
    with transaction():
        ping, ticket = locked(ping_id)
        return take(ping, ticket, via, config, when)[0]


def take(ping: Ping | None, ticket: Ticket | None, via: str, config: Config,
         when: tuple[datetime, datetime | None] | None = None
         ) -> tuple[str, Appointment | None]:
    """accept() for a caller whose transaction holds the ticket (locked() gave both): its
    outcome, with the visit when this YES booked one."""
    if ping is None or ticket is None:
        return "unknown", None
    if ping.outcome == "accepted":
        return "booked", None  # the same YES again
    # A vendor who said NO may change their mind while the job is still unbooked; a vendor
    # asked by hand before dispatch began (the ticket still new) may take it too.
    if ticket.status not in (*BOOKABLE, "new") or ping.outcome not in (*ANSWERABLE, "declined"):
        _first_response(ticket)
        if ping.outcome == "pending":
            _close(ping, "filled")
        return "filled", None
    _close(ping, "accepted", force=True)
    vendor = ping.vendor
    events.emit("vendor.confirmed", ticket=ticket, actor=f"vendor:{vendor.id}",
                vendor=vendor.name, vendorId=vendor.id, pingId=ping.id, via=via)
    if when is None:
        when = _from_now(parse_window(ticket.window, ticket.created_at,
                                      ticket.property.timezone), clock.now())
    try:  # the booking's status change also stamps the first response
        visit = book(ticket, vendor, when[0] if when else None, when[1] if when else None,
                     via, f"vendor:{vendor.id}", ping=ping, config=config, locked=True,
                     changes={"first_response_at": ticket.first_response_at or clock.now()})
    except (AlreadyBooked, transitions.IllegalTransition):
        _first_response(ticket)
        _close(ping, "filled", force=True)
        return "filled", None
    # Offers still open were marked filled by the booking; the appointment.confirmed
    # handler tells those vendors.
    return "booked", visit


def _from_now(window: tuple[datetime, datetime] | None,
              now: datetime) -> tuple[datetime, datetime] | None:
    """The visit a window gives: one already begun ("all day", said at 1:50pm) starts now, to
    the minute, never in the past."""
    if window is not None and window[0] < now < window[1]:
        return now.replace(second=0, microsecond=0), window[1]
    return window


def decline(ping_id: int, config: Config) -> str:
    """A vendor said NO: record it and, if they held the open offer, ask the next one."""
    with transaction():
        ping, ticket = locked(ping_id)
        return decline_locked(ping, ticket, config)


def decline_locked(ping: Ping | None, ticket: Ticket | None, config: Config) -> str:
    """decline() for a caller whose transaction holds the ticket (locked() gave both)."""
    if ping is None or ticket is None:
        return "unknown"
    _first_response(ticket)
    if ping.outcome not in ANSWERABLE:
        return ping.outcome
    was_pending = ping.outcome == "pending"
    _close(ping, "declined")
    vendor = ping.vendor
    events.emit("vendor.declined", ticket=ticket, actor=f"vendor:{vendor.id}",
                vendor=vendor.name, vendorId=vendor.id, pingId=ping.id)
    if was_pending:
        ask_next(ticket, config)
    return "declined"


def lapse(ping_id: int, outcome: str, config: Config) -> bool:
    """A pending ping expired ('timed_out') or could not be delivered ('failed'): move on.

    A vendor whose offer timed out is told so (a late YES may still win it), so that their
    silence is not mistaken for a booking; an undeliverable one is not texted again.
    """
    with transaction():
        ping, ticket = locked(ping_id)
        if ping is None or ticket is None or not _close(ping, outcome, only_pending=True):
            return False
        vendor = ping.vendor
        kind = "vendor.timed_out" if outcome == "timed_out" else "vendor.unreachable"
        events.emit(kind, ticket=ticket, vendor=vendor.name, vendorId=vendor.id, pingId=ping.id)
        if outcome == "timed_out":
            notices.offer_lapsed(ping)
        ask_next(ticket, config)
    return True


def _close_query(*guard) -> Prepared:
    """Set outcome, and answered_at when given (an answer, not a lapse), on one ping."""
    return Prepared(lambda: Ping.update(
        outcome=Param("outcome", Ping.outcome),
        answered_at=fn.COALESCE(Param("at", Ping.answered_at), Ping.answered_at),
    ).where(Ping.id == Param("id"), *guard))


CLOSE_PENDING = _close_query(Ping.outcome == "pending")
CLOSE_ANSWERABLE = _close_query(Ping.outcome.in_(ANSWERABLE))
CLOSE_ANY = _close_query()


def _close(ping: Ping, outcome: str, *, only_pending: bool = False, force: bool = False) -> bool:
    """Set a ping's outcome with a conditional update; True when this call changed it."""
    query = CLOSE_PENDING if only_pending else CLOSE_ANY if force else CLOSE_ANSWERABLE
    at = clock.now() if outcome in ("accepted", "declined") else None
    changed = query.execute(id=ping.id, outcome=outcome, at=at) == 1
    if changed:
        ping.outcome = outcome
    return changed


def redispatch(ticket_id: int, config: Config, *, actor: str) -> Ping | None:
    """The landlord's "dispatch again": ask the next vendor, or start a new round.

    A new ticket starts dispatch (None when nobody fits: it escalates as start() would). An
    escalated ticket stays escalated while the next vendor not yet asked is pinged; once every
    matching vendor has been asked, a new round begins from the top of the list. Raises
    IllegalTransition when the ticket is booked or closed, and PingRefused while a vendor
    still holds the offer or when no vendor fits the job; either way nothing is written.
    """
    with transaction():
        ticket = lock(ticket_id)
        if ticket is None:
            raise LookupError(f"ticket {ticket_id} not found")
        if ticket.status == "new":
            transitions.change_status(ticket, "dispatching", actor=actor)
            return ask_next(ticket, config, first=True)
        if ticket.status not in BOOKABLE:
            raise transitions.IllegalTransition(ticket.id, ticket.status, "dispatching")
        alerts.landlord_acted(ticket, "dispatch again", actor)
        pending = (Ping.select()
                   .where(Ping.ticket == ticket, Ping.outcome == "pending")
                   .first())
        if pending is not None:
            raise PingRefused(f"{pending.vendor.name} still holds the offer; wait for their "
                              "answer or for it to time out")
        rounds.clear(ticket)  # the landlord asks now: no waiting out a pause
        if not selection.candidates(ticket):
            rounds.fresh_start(ticket, actor)
        ping = ask_next(ticket, config)
        if ping is None and rounds.waiting(ticket):
            raise PingRefused("every matching vendor is off work now; the first is asked "
                              "when their hours begin")
        if ping is None:
            raise PingRefused(nobody_fits(ticket))
    return ping
