"""The tenant's availability ("today 2-5pm", "tomorrow morning") as a UTC interval."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from app.booking.hours import DAYS, shorter_half

PARTS = {  # part of day → (start hour, end hour)
    "morning": (8, 12), "afternoon": (12, 17), "evening": (17, 21), "tonight": (17, 23),
    "night": (19, 23),
    "all day": (0, 24), "day": (0, 24),
}
ANYTIME = re.compile(r"\b(any ?time|anytime|flexible|whenever|asap|any day)\b")
TIME = r"(\d{1,2})(?::(\d{2}))?\s*(am|pm)?|noon|midnight"
RANGE = re.compile(rf"(?P<a>{TIME})\s*(?:-|–|to|until|till)\s*(?P<b>{TIME})")
AFTER = re.compile(rf"\b(after|from)\s+(?P<a>{TIME})")
ISO_DATE = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")
BEFORE = re.compile(rf"\b(before|by|until)\s+(?P<b>{TIME})")
WORD = re.compile(r"[a-z]+")
HORIZON = timedelta(days=366)  # a window further ahead is refused at intake, ignored if stored
TOO_FAR = "That is more than a year away: say when someone can come in the coming months."
PASSED = "That time has already passed: tell us when someone can come from now on."


def _clock(text: str) -> tuple[int, int, str | None] | None:
    """'2', '2:30pm', 'noon' → (hour, minute, am/pm or None)."""
    text = text.strip()
    if text == "noon":
        return 12, 0, "pm"
    if text == "midnight":
        return 0, 0, "am"
    match = re.fullmatch(r"(\d{1,2})(?::(\d{2}))?\s*(am|pm)?", text)
    if not match:
        return None
    hour, minute = int(match.group(1)), int(match.group(2) or 0)
    return (hour, minute, match.group(3)) if hour <= 24 and minute < 60 else None


def _hour24(hour: int, meridiem: str | None) -> int:
    if meridiem == "pm" and hour < 12:
        return hour + 12
    if meridiem == "am" and hour == 12:
        return 0
    return hour


def _weekday(text: str) -> int | None:
    """The weekday a word names ('mon', 'Tues', 'fridays'), or None: 'month' names no day."""
    for word in WORD.findall(text):
        for stem in (word, word[:-1] if word.endswith("s") else ""):
            if len(stem) >= 3 and (found := [i for i, d in enumerate(DAYS) if d.startswith(stem)]):
                return found[0]
    return None


def _day(text: str, today: date) -> tuple[date | None, bool]:
    """The day the text names, and whether it named it by weekday (so it recurs weekly)."""
    if "tomorrow" in text:
        return today + timedelta(days=1), False
    if "today" in text or "tonight" in text:
        return today, False
    iso = ISO_DATE.search(text)
    if iso:
        try:
            return date(*map(int, iso.groups())), False
        except ValueError:
            return None, False
    weekday = _weekday(text)
    if weekday is None:
        return None, False
    return today + timedelta(days=(weekday - today.weekday()) % 7), True


def _range(first: str, last: str) -> tuple[int, int] | None:
    """Start and end minute of 'a-b': '9-5' is 9am-5pm, '11-1pm' 11am-1pm, '10-2am' 10pm-2am."""
    start, end = _clock(first), _clock(last)
    if not start or not end:
        return None
    b = _hour24(end[0], end[2]) * 60 + end[1]
    if start[2] is None and end[2] is not None and 1 <= start[0] <= 12:
        a = shorter_half(start[0] % 12 * 60 + start[1], b)
    else:
        a = _hour24(start[0], start[2]) * 60 + start[1]
        if start[2] is None and end[2] is None and 60 <= a < 6 * 60 and a < b < 12 * 60:
            a, b = a + 12 * 60, b + 12 * 60  # "2-4" means 2pm to 4pm, as in vendor hours
        elif b <= a and end[2] is None and b + 12 * 60 > a:
            b += 12 * 60  # "9-5" means 9am to 5pm, "noon-2" noon to 2pm
    if b <= a:
        b += 24 * 60  # "10pm-2am" runs past midnight
    return a, b


def _hours(text: str) -> tuple[int, int] | None:
    """Start and end minute of the day the text names, if it names any."""
    match = RANGE.search(text)
    if match and (span := _range(match.group("a"), match.group("b"))):
        return span
    after, before = AFTER.search(text), BEFORE.search(text)
    if after or before:
        a = _clock(after.group("a")) if after else (8, 0, "am")
        b = _clock(before.group("b")) if before else (21, 0, None)
        if a and b:
            start = _hour24(a[0], a[2] or ("pm" if a[0] < 7 else None)) * 60 + a[1]
            end = _hour24(b[0], b[2] or ("pm" if b[0] < 8 else None)) * 60 + b[1]
            if not before and end <= start:
                end = 24 * 60  # "after 10pm": until midnight
            return (start, end) if end > start else None
    for part, (start, end) in PARTS.items():
        if re.search(rf"\b{part}s?\b", text):
            return start * 60, end * 60
    return None


def parse_window(text: str, now: datetime, tz: str) -> tuple[datetime, datetime] | None:
    """The [start, end) the tenant is available, as naive UTC; None when not understood or
    further ahead than HORIZON (such a row predates the intake check: read it as no window)."""
    if _far(_local_day(text, now, tz), now):
        return None
    return _parse(text, now, tz)


def window_problem(text: str, now: datetime, tz: str) -> str | None:
    """Why intake refuses these words as a window (a day more than a year away), or None."""
    day = _local_day(text, now, tz)
    if not _far(day, now):
        return None
    return TOO_FAR if day > now.date() else PASSED


def _far(day: date | None, now: datetime) -> bool:
    """Whether a named day lies more than HORIZON from now, either way (such dates also
    overflow datetime arithmetic near the years 1 and 9999)."""
    return day is not None and abs(day - now.date()) > HORIZON


def _local_day(text: str, now: datetime, tz: str) -> date | None:
    """The day the text names, if it names one."""
    lowered = (text or "").lower()
    if ANYTIME.search(lowered):
        return None
    local_now = now.replace(tzinfo=ZoneInfo("UTC")).astimezone(ZoneInfo(tz))
    return _day(lowered, local_now.date())[0]


def _parse(text: str, now: datetime, tz: str) -> tuple[datetime, datetime] | None:
    text = (text or "").lower()
    if ANYTIME.search(text):
        return None
    zone = ZoneInfo(tz)
    local_now = now.replace(tzinfo=ZoneInfo("UTC")).astimezone(zone)
    day, weekly = _day(text, local_now.date())
    minutes = _hours(ISO_DATE.sub(" ", text))
    if day is None and minutes is None:
        return None
    if day is None:  # times alone: the next such interval that has not ended
        day = local_now.date()
        if minutes[1] <= local_now.hour * 60 + local_now.minute:
            day += timedelta(days=1)
    start_min, end_min = minutes or (0, 24 * 60)
    if weekly and _utc(day, end_min, zone) <= now:  # "Mon 9-11am" said on a Monday at noon
        day += timedelta(days=7)
    return _utc(day, start_min, zone), _utc(day, end_min, zone)


def _utc(day: date, minute: int, zone: ZoneInfo) -> datetime:
    """A minute of a local day (past 1440 runs into the next day) as naive UTC."""
    local = datetime.combine(day, time(0), tzinfo=zone) + timedelta(minutes=minute)
    return local.astimezone(ZoneInfo("UTC")).replace(tzinfo=None)
