"""Rounds of asking (CONTRACT.md §10): waiting for working hours, asking the silent again.

Every wait is Ticket.dispatch_at, a deadline in the database the sweep acts on
(loop.resume); Ticket.round counts the rounds since the last fresh start.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from peewee import fn

from app import clock, events
from app.booking import selection
from app.config import Config
from app.models import Ping, Ticket

WAITING = "dispatch.waiting"  # every vendor to ask is off work: the first opens at startsAt
EMERGENCY_PAUSE_SHARE = 5  # an emergency waits a fifth of ROUND_PAUSE_SECONDS


def _set(ticket: Ticket, **values) -> None:
    Ticket.update(**values).where(Ticket.id == ticket.id).execute()
    ticket.__data__.update(values)


def _last_ping(ticket: Ticket) -> int | None:
    return Ping.select(fn.MAX(Ping.id)).where(Ping.ticket == ticket).scalar()


def wait(ticket: Ticket, until: datetime) -> None:
    """Ask nobody before until (a vendor's hours open then); said once per opening."""
    if ticket.dispatch_at == until:
        return
    _set(ticket, dispatch_at=until)
    events.emit(WAITING, ticket=ticket, why="hours", startsAt=until.isoformat())


def clear(ticket: Ticket) -> None:
    """Stop waiting: asking may go on now."""
    if ticket.dispatch_at is not None:
        _set(ticket, dispatch_at=None)


def waiting(ticket: Ticket, now: datetime | None = None) -> bool:
    """Whether asking is paused until dispatch_at (hours or the pause between rounds)."""
    return ticket.dispatch_at is not None and ticket.dispatch_at > (now or clock.now())


def silent(ticket: Ticket) -> bool:
    """Whether a vendor asked this round let the offer time out (and may be asked again)."""
    after, _ = selection.round_marks(ticket)
    return Ping.select().where(Ping.ticket == ticket, Ping.id > after,
                               Ping.outcome == "timed_out").exists()


def pause(ticket: Ticket, config: Config) -> timedelta:
    seconds = config.round_pause
    if ticket.severity == "emergency":
        seconds /= EMERGENCY_PAUSE_SHARE
    return timedelta(seconds=seconds)


def again(ticket: Ticket, config: Config) -> bool:
    """The round ended: when someone did not answer and rounds are left, begin the next one
    after the pause (those who said NO stay done); True when it did."""
    if ticket.round >= config.dispatch_rounds or not silent(ticket):
        return False
    _, answers_after = selection.round_marks(ticket)
    starts = clock.now() + pause(ticket, config)
    _set(ticket, round=ticket.round + 1, dispatch_at=starts)
    events.emit(selection.ROUND_BEGUN, ticket=ticket, round=ticket.round,
                afterPingId=_last_ping(ticket) or 0, answersAfter=answers_after,
                startsAt=starts.isoformat())
    return True


def fresh_start(ticket: Ticket, actor: str) -> None:
    """Everyone may be asked again, now (the landlord's "dispatch again", a reopened job)."""
    _set(ticket, round=1, dispatch_at=None)
    last = _last_ping(ticket)
    if last is not None:
        events.emit(selection.ROUND_RESTARTED, ticket=ticket, actor=actor, afterPingId=last)
