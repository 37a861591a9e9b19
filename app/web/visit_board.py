"""The dashboard's visit lists: today's visits, times the tenant has not confirmed, finished
jobs waiting for a rating, recent no-shows; and which tickets' tenants refused the time.

Each list is one bounded query of appointments with their ticket, property and vendor joined.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from app.config import Config
from app.models import ACTIVE_APPOINTMENT_STATUSES, Appointment, Landlord, Property, Ticket, Vendor
from app.web.visit_view import WORDS, span, state_of

VISIT_ROWS = 20  # rows shown per list
NO_SHOW_DAYS = 30
TODAY_SCAN = 500  # active visits within two days of now, read to find each property's today


@dataclass(frozen=True)
class VisitRow:
    visit: Appointment
    when: str  # on the property's clock
    note: str


@dataclass(frozen=True)
class VisitList:
    key: str
    title: str
    empty: str
    rows: list[VisitRow]
    more: bool  # more rows than shown


def _visits(landlord: Landlord):
    return (Appointment.select(Appointment, Ticket, Property, Vendor)
            .join(Ticket, on=(Appointment.ticket == Ticket.id))
            .join(Property, on=(Ticket.property == Property.id))
            .switch(Appointment)
            .join(Vendor, on=(Appointment.vendor == Vendor.id))
            .where(Ticket.landlord == landlord))


def _row(visit: Appointment, note: str | None = None) -> VisitRow:
    tz = visit.ticket.property.timezone
    when = span(visit.starts_at, visit.ends_at, tz) if visit.starts_at else "no time yet"
    return VisitRow(visit, when, note or WORDS[state_of(visit)][1])


def _list(key: str, title: str, empty: str, visits: list[Appointment], notes=None) -> VisitList:
    rows = [_row(v, notes(v) if notes else None) for v in visits[:VISIT_ROWS]]
    return VisitList(key, title, empty, rows, len(visits) > VISIT_ROWS)


def _local_day(moment: datetime, tz: str):
    return moment.replace(tzinfo=UTC).astimezone(ZoneInfo(tz)).date()


def today(landlord: Landlord, now: datetime) -> list[Appointment]:
    """Active visits starting today on their property's clock, earliest first."""
    near = (_visits(landlord)
            .where(Appointment.status.in_(ACTIVE_APPOINTMENT_STATUSES),
                   Appointment.starts_at.between(now - timedelta(days=2), now + timedelta(days=2)))
            .order_by(Appointment.starts_at, Appointment.id)
            .limit(TODAY_SCAN))
    return [v for v in near if _local_day(v.starts_at, v.ticket.property.timezone)
            == _local_day(now, v.ticket.property.timezone)]


def unconfirmed(landlord: Landlord) -> list[Appointment]:
    """Visits with a time the tenant has not confirmed (refused ones included), soonest first."""
    return list(_visits(landlord)
                .where(Appointment.status == "tentative", Appointment.starts_at.is_null(False))
                .order_by(Appointment.starts_at, Appointment.id)
                .limit(VISIT_ROWS + 1))


def awaiting_rating(landlord: Landlord, now: datetime, config: Config) -> list[Appointment]:
    """Finished jobs (ticket still completed) not rated, inside the reopen window; newest first."""
    since = now - timedelta(seconds=config.reopen_window)
    return list(_visits(landlord)
                .where(Appointment.status == "completed", Appointment.rating.is_null(),
                       Appointment.completed_at >= since, Ticket.status == "completed")
                .order_by(Appointment.completed_at.desc(), Appointment.id.desc())
                .limit(VISIT_ROWS + 1))


def no_shows(landlord: Landlord, now: datetime) -> list[Appointment]:
    """Visits recorded as no-shows in the last NO_SHOW_DAYS days, newest first."""
    since = now - timedelta(days=NO_SHOW_DAYS)
    return list(_visits(landlord)
                .where(Appointment.status == "no_show", Appointment.cancelled_at >= since)
                .order_by(Appointment.cancelled_at.desc(), Appointment.id.desc())
                .limit(VISIT_ROWS + 1))


def lists(landlord: Landlord, now: datetime, config: Config) -> list[VisitList]:
    """The four visit lists the dashboard shows (four queries, each bounded)."""
    return [
        _list("today", "Visits today", "No visit today.", today(landlord, now)),
        _list("unconfirmed", "Not confirmed by the tenant", "Every visit time is confirmed.",
              unconfirmed(landlord)),
        _list("rating", "Waiting for the tenant's rating", "No finished job waits for a rating.",
              awaiting_rating(landlord, now, config), lambda v: "done, not rated yet"),
        _list("no_show", f"No-shows, last {NO_SHOW_DAYS} days", "No vendor missed a visit.",
              no_shows(landlord, now), lambda v: "the vendor did not come"),
    ]


def refused(landlord: Landlord) -> set[int]:
    """Tickets whose tenant said the visit time does not work (one query)."""
    return {ticket_id for (ticket_id,) in (
        Appointment.select(Appointment.ticket)
        .join(Ticket, on=(Appointment.ticket == Ticket.id))
        .where(Ticket.landlord == landlord,
               Appointment.status.in_(ACTIVE_APPOINTMENT_STATUSES),
               Appointment.time_refused_at.is_null(False))
        .tuples())}
