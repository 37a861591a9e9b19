"""The tenant's availability ("today 2-5pm", "tomorrow morning") as a UTC interval."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
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


def _clock(text: str, meridiem_hint: str | None = None) -> tuple[int, int, str | None] | None:
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
    return (hour, minute, match.group(3) or meridiem_hint) if hour <= 24 and minute < 60 else None


def _hour24(hour: int, meridiem: str | None) -> int:
    if meridiem == "pm" and hour < 12:
        return hour + 12
    if meridiem == "am" and hour == 12:
        return 0
    return hour


def _day(text: str, today: date) -> date | None:
    if "tomorrow" in text:
        return today + timedelta(days=1)
    if "today" in text or "tonight" in text:
        return today
    iso = ISO_DATE.search(text)
    if iso:
        try:
            return date(*map(int, iso.groups()))
        except ValueError:
            return None
    for index, name in enumerate(DAYS):
        if re.search(rf"\b{name}[a-z]*\b", text):
            return today + timedelta(days=(index - today.weekday()) % 7)
    return None


def _hours(text: str) -> tuple[int, int] | None:
    """Start and end minute of the day the text names, if it names any."""
    match = RANGE.search(text)
    if match:
        end = _clock(match.group("b"))
        start = _clock(match.group("a"), end[2] if end else None)
        if start and end:
            a = _hour24(start[0], start[2]) * 60 + start[1]
            b = _hour24(end[0], end[2]) * 60 + end[1]
            if b <= a and start[2] is None and end[2] is None and b + 12 * 60 > a:
                b += 12 * 60  # "9-5" means 9am to 5pm
            elif b <= a:
                b += 24 * 60  # "10pm-2am" runs past midnight
            return a, b
    after, before = AFTER.search(text), BEFORE.search(text)
    if after or before:
        a = _clock(after.group("a")) if after else (8, 0, "am")
        b = _clock(before.group("b")) if before else (21, 0, None)
        if a and b:
            start = _hour24(a[0], a[2] or ("pm" if a[0] < 7 else None)) * 60 + a[1]
            end = _hour24(b[0], b[2] or ("pm" if b[0] < 8 else None)) * 60 + b[1]
            return (start, end) if end > start else None
    for part, (start, end) in PARTS.items():
        if re.search(rf"\b{part}s?\b", text):
            return start * 60, end * 60
    return None


def parse_window(text: str, now: datetime, tz: str) -> tuple[datetime, datetime] | None:
    """The [start, end) the tenant is available, as naive UTC; None when not understood."""
    text = (text or "").lower()
    if ANYTIME.search(text):
        return None
    zone = ZoneInfo(tz)
    local_now = now.replace(tzinfo=ZoneInfo("UTC")).astimezone(zone)
    day = _day(text, local_now.date())
    minutes = _hours(ISO_DATE.sub(" ", text))
    if day is None and minutes is None:
        return None
    if day is None:  # times alone: the next such interval that has not ended
        day = local_now.date()
        if minutes[1] <= local_now.hour * 60 + local_now.minute:
            day += timedelta(days=1)
    start_min, end_min = minutes or (0, 24 * 60)
    midnight = datetime.combine(day, time(0), tzinfo=zone)
    start = midnight + timedelta(minutes=start_min)
    end = midnight + timedelta(minutes=end_min)
    utc = ZoneInfo("UTC")
    return (start.astimezone(utc).replace(tzinfo=None), end.astimezone(utc).replace(tzinfo=None))
