"""What the tenant's status page and the landlord's ticket page say about a ticket's visit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from app.booking import questions, visits
from app.booking.visit_times import local_text
from app.config import Config
from app.i18n import gettext, lazy
from app.models import ACTIVE_APPOINTMENT_STATUSES, Appointment, Question, Ticket

# state → (the tenant's words, the landlord's words)
WORDS = {  # the tenant's in their language (app/i18n.py), the landlord's in English
    "no_time": (lazy("No time set yet: the repair person will propose one."),
                "Waiting for the vendor to set a time"),
    "waiting": (lazy("Waiting for your confirmation"), "Waiting for the tenant to confirm"),
    "confirmed": (lazy("Confirmed"), "Confirmed by the tenant"),
    "refused": (lazy("You said that time does not work: the repair person is asked for "
                     "another."),
                "Tenant cannot make this time: the vendor is asked for another"),
    "done": (lazy("Done"), "Done"),
    "cancelled": (lazy("Cancelled"), "Cancelled"),
    "no_show": (lazy("The repair person did not come"), "Vendor did not come (no-show)"),
}
NOT_ACTIVE = {  # NotActive.status → what the tenant or landlord is told
    "completed": lazy("This visit is already done."),
    "cancelled": lazy("This visit was cancelled."),
    "no_show": lazy("This visit was recorded as a no-show."),
}


@dataclass(frozen=True)
class VisitView:
    """One visit as the pages show it; state names a key of WORDS."""

    visit: Appointment
    state: str
    when: str  # the time on the property's clock, '' when none is set
    came: Question | None = None  # the open "did they come?" question
    reopenable: bool = False  # NOT FIXED would reopen the ticket now

    @property
    def tenant_words(self) -> str:
        return str(WORDS[self.state][0])

    @property
    def landlord_words(self) -> str:
        return WORDS[self.state][1]

    @property
    def active(self) -> bool:
        return self.visit.status in ACTIVE_APPOINTMENT_STATUSES

    @property
    def can_confirm(self) -> bool:
        return self.state == "waiting" and self.came is None

    @property
    def can_refuse(self) -> bool:
        return self.state in ("waiting", "confirmed") and self.came is None

    @property
    def can_rate(self) -> bool:
        return self.state == "done" and self.visit.rating is None

    @property
    def key(self) -> str:
        """Changes whenever what the tenant sees of the visit changes (for the 204 poll)."""
        visit = self.visit
        times = ":".join(t.isoformat() if t else "" for t in (visit.starts_at, visit.ends_at))
        return (f"{visit.id}:{self.state}:{times}:{visit.rating or 0}:"
                f"{self.came.id if self.came else 0}:{int(self.reopenable)}")


def state_of(visit: Appointment) -> str:
    if visit.status == "completed":
        return "done"
    if visit.status in ("cancelled", "no_show"):
        return visit.status
    if visit.starts_at is None:
        return "no_time"
    if visit.time_refused_at is not None:
        return "refused"
    return "confirmed" if visit.status == "confirmed" else "waiting"


def view(visit: Appointment | None, ticket: Ticket, config: Config) -> VisitView | None:
    """The visit's view; the questions only an active or done visit can have are looked up."""
    if visit is None:
        return None
    state = state_of(visit)
    tz = ticket.property.timezone
    when = span(visit.starts_at, visit.ends_at, tz) if visit.starts_at else ""
    came = questions.open_about(visit, "came") if visit.status in ACTIVE_APPOINTMENT_STATUSES \
        else None
    again = state == "done" and visits.reopenable(ticket, config) is not None
    return VisitView(visit, state, when, came, again)


def span(start: datetime, end: datetime | None, tz: str) -> str:
    """'Tue Mar 3, 2 PM – 4 PM CST' on the property's clock (the end's date when it differs)."""
    first = local_text(start, tz)
    if end is not None:
        last = local_text(end, tz)
        same_day = last.split(", ")[0] == first.split(", ")[0]
        first += " – " + (last.split(", ", 1)[1] if same_day else last)
    return f"{first} {start.replace(tzinfo=UTC).astimezone(ZoneInfo(tz)):%Z}"


def current(appointments: list[Appointment]) -> Appointment | None:
    """The visit a landlord looks at: the active one, else the newest (appointments oldest
    first, as appointments_of gives them)."""
    active = [a for a in appointments if a.status in ACTIVE_APPOINTMENT_STATUSES]
    return active[-1] if active else (appointments[-1] if appointments else None)


def not_active(exc: visits.NotActive) -> str:
    return str(NOT_ACTIVE.get(exc.status) or gettext("This visit can no longer be changed."))
