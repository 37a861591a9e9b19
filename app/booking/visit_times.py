"""The visit time a vendor or landlord names ("3pm", "tomorrow 9:30am", "Tue 10am") in UTC.

The words are read by app.booking.windows, the tenants' grammar (its first 200 characters, the
property's zone unless a US zone is named), with these differences for a visit:

- A lone time ("3pm", "at 3", "noon", "12am") is the next such moment not yet begun and names
  no end; "now" or "asap" starts now, also without an end. A range ("2-4pm") or a day or part
  of day ("tomorrow morning") gives its start and end.
- A start already past is refused ("today 3pm" said at 4pm, "2-4pm" said at 3pm), as are words
  naming no time ("whenever", "any time") and days more than a year away.
- Daylight saving: a day is read on its own clock ("tomorrow 9:30am" after the change is 9:30
  on the new offset). A time the clocks skip keeps the offset from before the change: 2:30am
  on the spring-forward day is 3:30am daylight time; a repeated hour is its first pass.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from babel.dates import format_datetime

from app.booking.windows import LONE_HOURS, TOO_FAR, interpret, names_moment, window_problem
from app.i18n import DEFAULT, N_, babel_pattern, current, gettext

# Said in the language of the moment (i18n.speaking: a vendor's SMS answer is in theirs).
EXAMPLE = N_("3pm, tomorrow 9:30am or Tue 10am")
UNREADABLE = N_("That time could not be read: say when, for example %(example)s.")
PASSED = N_("That time has already passed: name one still ahead, for example %(example)s.")
FAR = N_("That is more than a year away: name a time in the coming months, for example "
         "%(example)s.")
VISIT_HOURS = timedelta(hours=LONE_HOURS)  # a visit without an end lasts this long (§9)


@dataclass(frozen=True)
class VisitTime:
    """When a visit starts and, if the words said, ends: naive UTC."""

    start: datetime
    end: datetime | None  # None when the words named only a moment


class UnreadableTime(ValueError):
    """Words that name no visit time; the message is a sentence to send back as it is."""


def read_visit(text: str, now: datetime, tz: str) -> VisitTime:
    """The visit time the words name, in zone tz unless they name a US zone."""
    window = interpret(text, now, tz)
    if window is None:
        problem = window_problem(text, now, tz)
        raise UnreadableTime(_said(FAR if problem == TOO_FAR else PASSED if problem
                                   else UNREADABLE))
    if window.start < now:
        raise UnreadableTime(_said(PASSED))
    return VisitTime(window.start, None if names_moment(text, now, tz) else window.end)


def _said(problem: str) -> str:
    return gettext(problem, example=gettext(EXAMPLE))


def visit_end(start: datetime, window_end: datetime | None) -> datetime:
    """endsAt when none was said: the tenant's window end if after start, else start + 2h."""
    if window_end is not None and window_end > start:
        return window_end
    return start + VISIT_HOURS


def local_text(moment: datetime, tz: str) -> str:
    """A naive-UTC moment on the property's clock: 'Tue Dec 8, 9:30 AM', 'Tue Dec 8, 3 PM' (in
    Spanish 'mar 8 de dic, 9:30')."""
    local = moment.replace(tzinfo=UTC).astimezone(ZoneInfo(tz))
    if current() != DEFAULT:
        return format_datetime(local, babel_pattern("%a %b %-d, %-I:%M %p"), locale=current())
    return local.strftime("%a %b %-d, %-I:%M %p").replace(":00 ", " ")


def choices(window_start: datetime | None, window_end: datetime | None, now: datetime, tz: str,
            step_minutes: int = 60, limit: int = 12) -> list[datetime]:
    """Visit starts to offer on the job page, naive UTC: local times on a multiple of
    step_minutes from midnight, inside [window_start, window_end) and after now; an hour the
    clocks skip is left out, a repeated one offered once; none without a window."""
    if step_minutes <= 0:
        raise ValueError("step_minutes must be positive")
    if window_start is None or window_end is None:
        return []
    zone = ZoneInfo(tz)
    first = max(window_start, now).replace(tzinfo=UTC).astimezone(zone).replace(tzinfo=None)
    midnight = first.replace(hour=0, minute=0, second=0, microsecond=0)
    steps = -(-(first - midnight) // timedelta(minutes=step_minutes))  # rounded up
    wall = midnight + steps * timedelta(minutes=step_minutes)
    found: list[datetime] = []
    while len(found) < limit:
        moment = wall.replace(tzinfo=zone).astimezone(UTC).replace(tzinfo=None)
        if moment >= window_end:
            break
        exists = moment.replace(tzinfo=UTC).astimezone(zone).replace(tzinfo=None) == wall
        if exists and moment > now and moment >= window_start:
            found.append(moment)
        wall += timedelta(minutes=step_minutes)
    return found
