"""A visit's derived times: its default end, and its reminder and no-show deadlines (§9)."""

from __future__ import annotations

from datetime import datetime, timedelta

from app.booking import visit_times
from app.booking.windows import parse_window
from app.config import Config
from app.models import Ticket


def next_reminder(starts_at: datetime | None, after: datetime, config: Config) -> datetime | None:
    """The first reminder moment of a visit starting at starts_at that lies after `after`."""
    if starts_at is None:
        return None
    ahead = [starts_at - timedelta(seconds=offset) for offset in config.visit_reminders]
    ahead = [moment for moment in ahead if moment > after]
    return min(ahead) if ahead else None


def deadlines(starts_at: datetime | None, ends_at: datetime | None, config: Config,
              now: datetime) -> dict:
    """A visit's reminder and no-show deadlines for this time (none without one)."""
    return dict(remind_at=next_reminder(starts_at, now, config),
                no_show_at=(ends_at + timedelta(seconds=config.no_show_grace)
                            if ends_at is not None and starts_at is not None else None))


def default_end(ticket: Ticket, starts_at: datetime | None) -> datetime | None:
    """§9: the end of the tenant's window when it is after the start, else two hours on."""
    if starts_at is None:
        return None
    window = parse_window(ticket.window, ticket.created_at, ticket.property.timezone)
    return visit_times.visit_end(starts_at, window[1] if window else None)
