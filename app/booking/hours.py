"""Vendor working hours: '9AM-6PM', '24/7', 'Mon-Fri 8AM-5PM' → weekly windows.

A schedule is [[weekday, start_minute, end_minute], ...]: weekday 0=Monday, minutes of the
vendor's local day, start < end <= 1440, sorted and merged. Days come before their times;
times with no days apply daily; a time past midnight ('10PM-6AM') goes to the next day.
Without AM/PM, hours are the 24-hour clock ('09:00', '10:30', '17') unless a bare 1-12
('9', '9:30', '12') reads better as PM: an end before a start earlier than 1PM ('9-5' is
09:00-17:00), a range starting 1-5 and ending before noon ('1-5'), a start of 1-6 before
the previous end ('8-12, 1-5'). A bare start before an AM/PM end takes the half of the day
giving the shorter window ('1-5PM' is 13:00-17:00, '10-6AM' is 22:00-06:00).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
DAY_SETS = {"daily": range(7), "everyday": range(7), "weekdays": range(5),
            "weekday": range(5), "weekends": range(5, 7), "weekend": range(5, 7)}
ALL_DAY = {"24/7", "24x7", "24h", "24hr", "24hrs", "always", "allday"}
CLOSED = {"closed", "off"}
NOISE = {"open", "from"}
HINT = "; write hours like 'Mon-Fri 8AM-5PM' or '24/7'"


def shorter_half(bare_start: int, end: int) -> int:
    """The start minute of '1-5PM': a start without am/pm takes the half of the day that
    gives the shorter span to an end that has one."""
    bare_start %= 720
    return min(bare_start, bare_start + 720, key=lambda s: (end - s) % 1440 or 1440)
_REWRITES = [
    (re.compile(r"\b(?:all day|24 ?hours|24 ?hrs?|any ?time|(?:a)?round the clock)\b", re.I),
     "24h"),
    (re.compile(r"\bevery ?day\b", re.I), "daily"),
    (re.compile(r"(\d)\s+([ap]\.?(?:m\.?)?)(?![a-z])", re.I), r"\1\2"),
    (re.compile(r"\s*(?:[-–—]|\b(?:to|till|until|thru|through)\b)\s*", re.I), "-"),
]
_SPLIT = re.compile(r"(?:[\s,;&]|\band\b)+", re.I)
_DAY_TOKEN = re.compile(r"([a-z]+)[.:]?(?:-([a-z]+)[.:]?)?", re.I)
_TIME = re.compile(r"(noon|midnight)|(\d{1,2})(?:[:.](\d{2}))?(?:([ap])\.?(?:m\.?)?)?", re.I)
_TICK = timedelta(microseconds=1)

Schedule = list[list[int]]


def _day(word: str) -> list[int] | None:
    """Weekdays named by a word ('Tue', 'Tues', 'Tuesday', 'weekends'), or None."""
    word = word.lower()
    if word in DAY_SETS:
        return list(DAY_SETS[word])
    for candidate in (word, word[:-1] if word.endswith("s") else ""):
        found = [i for i, name in enumerate(DAYS) if candidate and name.startswith(candidate)]
        if len(found) == 1:
            return found
    return None


def _days(token: str) -> list[int] | None:
    """The weekdays of a day token ('Mon', 'Mon-Fri', 'Fri-Mon', 'weekdays'), or None."""
    match = _DAY_TOKEN.fullmatch(token)
    first = _day(match[1]) if match else None
    if first is None or not match[2]:
        return first
    last = _day(match[2])
    if last is None or len(first) > 1 or len(last) > 1:
        raise ValueError(f"could not read {token!r} as a range of days" + HINT)
    return [(first[0] + i) % 7 for i in range((last[0] - first[0]) % 7 + 1)]


def _time(text: str) -> tuple[int, str]:
    """Minute of the day and how it was written: 'ampm', 'bare' (could be either) or '24h'."""
    match = _TIME.fullmatch(text)
    if match and match[1]:
        return (720 if match[1].lower() == "noon" else 0), "24h"
    if match:
        hour, minute, half = int(match[2]), int(match[3] or 0), (match[4] or "").lower()
        if minute < 60 and (1 <= hour <= 12 if half else hour < 24 or (hour, minute) == (24, 0)):
            if half:
                return (hour % 12 + (12 if half == "p" else 0)) * 60 + minute, "ampm"
            bare = len(match[2]) == 1 and hour > 0 or 10 <= hour <= 12 and not match[3]
            return hour * 60 + minute, "bare" if bare else "24h"
    kind = "a day or time" if text.isalpha() else "a time"
    raise ValueError(f"could not read {text!r} as {kind}" + HINT)


def _span(token: str, after: int) -> tuple[int, int]:
    """(start, end) of a time token, end < start past midnight; after: the previous end."""
    if token.lower() in CLOSED:
        return 0, 0
    if token.lower() in ALL_DAY:
        return 0, 1440
    sides = token.split("-")
    if len(sides) != 2 or not all(sides):
        kind = "a day" if token.isalpha() else "a time range like 9AM-5PM"
        raise ValueError(f"could not read {token!r} as {kind}" + HINT)
    (start, start_kind), (end, end_kind) = _time(sides[0]), _time(sides[1])
    later = start_kind == "bare" and (start < min(after, 420) or (  # '8-12, 1-5' and '1-5'
        end_kind == "bare" and start < 360 and start < end < 720))
    if start_kind == "bare" and end_kind == "ampm":  # '1-5PM': the shorter of 1AM and 1PM
        start = shorter_half(start, end)
    elif later:
        start, end = start + 720, end + (720 if end_kind == "bare" and end < 720 else 0)
    elif end_kind == "bare" and end < start < 780 and end < 720:  # '9-5': 5 is 17:00
        end += 720
    start, end = start % 1440, end or 1440
    if start == end:
        raise ValueError(f"{token!r} opens and closes at the same time" + HINT)
    return start, end


def _merge(windows: list[tuple[int, int, int]]) -> Schedule:
    """Sort windows and join those of the same day that overlap or touch."""
    merged: Schedule = []
    for day, start, end in sorted(windows):
        if merged and merged[-1][0] == day and start <= merged[-1][2]:
            merged[-1][2] = max(merged[-1][2], end)
        else:
            merged.append([day, start, end])
    return merged


def parse_hours(text: str) -> Schedule:
    """Parse hours as a person writes them; ValueError names the part that could not be read."""
    clean = (text or "").strip().rstrip(".")
    for pattern, replacement in _REWRITES:
        clean = pattern.sub(replacement, clean)
    tokens = [t for t in _SPLIT.split(clean) if t and t.lower() not in NOISE]
    if not tokens:
        raise ValueError("no hours given" + HINT)
    windows: list[tuple[int, int, int]] = []
    groups: list[tuple[list[int], list[str], list[tuple[int, int]]]] = []
    for token in tokens:
        days = _days(token)
        if not groups or days is not None and groups[-1][2]:  # days after times: a new group
            groups.append(([], [], []))
        day_list, words, spans = groups[-1]
        if days is None:
            spans.append(_span(token, spans[-1][1] if spans else 0))
        else:
            day_list.extend(days)
            words.append(token)
    for days, words, spans in groups:
        if not spans:
            raise ValueError(f"{' '.join(words)!r} has no hours after it; put the days first, "
                             "like 'Mon-Fri 8AM-5PM'")
        for day in days or range(7):
            for start, end in spans:
                if start < end:
                    windows.append((day, start, end))
                elif start > end:
                    windows += [(day, start, 1440), ((day + 1) % 7, 0, end)]
    if not windows:
        raise ValueError(f"{text.strip()!r} has no open hours" + HINT)
    return _merge(windows)


def is_open(schedule: Schedule, weekday: int, minute: int) -> bool:
    """Whether the schedule is open at this weekday and minute (start inclusive, end exclusive)."""
    return any(day == weekday and start <= minute < end for day, start, end in schedule)


def _utc(moment: datetime) -> datetime:
    """An aware UTC datetime; a naive one is taken to be UTC already."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def open_at(schedule: Schedule, moment: datetime, tz: str) -> bool:
    """Whether the schedule is open at a (naive UTC) moment, read in time zone tz."""
    local = _utc(moment).astimezone(ZoneInfo(tz))
    return is_open(schedule, local.weekday(), local.hour * 60 + local.minute)


def _wall_overlaps(schedule: Schedule, start: datetime, end: datetime) -> bool:
    """Whether any window meets the naive wall-clock interval [start, end)."""
    day = start.date()
    while (midnight := datetime.combine(day, time())) < end:
        for weekday, first, last in schedule:
            if (weekday == day.weekday() and midnight + timedelta(minutes=first) < end
                    and start < midnight + timedelta(minutes=last)):
                return True
        day += timedelta(days=1)
    return False


def overlaps(schedule: Schedule, start: datetime, end: datetime, tz: str) -> bool:
    """Whether any of [start, end) (naive UTC) is open in zone tz; looks at most 15 days on."""
    zone = ZoneInfo(tz)
    start = _utc(start)
    end = min(_utc(end), start + timedelta(days=15))  # every weekday twice: nothing new after
    while start < end:
        offset, stop = start.astimezone(zone).utcoffset(), min(end, start + timedelta(days=1))
        if (stop - _TICK).astimezone(zone).utcoffset() != offset:  # clocks change: find when
            low = start
            while stop - low > _TICK:
                mid = low + (stop - low) / 2
                same = mid.astimezone(zone).utcoffset() == offset
                low, stop = (mid, stop) if same else (low, mid)
        wall = (start + offset).replace(tzinfo=None)
        if _wall_overlaps(schedule, wall, wall + (stop - start)):
            return True
        start = stop
    return False


def _clock(minute: int) -> str:
    """'HH:MM' for a minute of the day; 1440 is '24:00'."""
    return f"{minute // 60:02d}:{minute % 60:02d}"


def _day_list(days: list[int]) -> str:
    """'Daily', 'Mon–Fri', 'Mon, Wed, Fri' or 'Fri–Mon' for a set of weekdays."""
    if len(days) == 7:
        return "Daily"
    first = min(d for d in days if (d - 1) % 7 not in days)
    runs: list[list[int]] = []
    for day in sorted(days, key=lambda d: (d - first) % 7):
        if runs and (runs[-1][1] + 1) % 7 == day:
            runs[-1][1] = day
        else:
            runs.append([day, day])
    names = [d[:3].capitalize() for d in DAYS]
    return ", ".join(names[a] if a == b else f"{names[a]}–{names[b]}" for a, b in runs)


def describe(schedule: Schedule) -> str:
    """A short human form: 'Mon–Fri 08:00–17:00, Sat 09:00–13:00', '24/7' or 'closed'."""
    by_day: dict[int, list[list[int]]] = {day: [] for day in range(7)}
    for day, start, end in sorted(schedule):
        by_day[day].append([start, end])
    if all(spans == [[0, 1440]] for spans in by_day.values()):
        return "24/7"
    for day in range(7):  # Mon 22:00–24:00 + Tue 00:00–06:00 reads as Mon 22:00–06:00
        today, tomorrow = by_day[day], by_day[(day + 1) % 7]
        if (today and tomorrow and today[-1][0] > 0 and today[-1][1] == 1440
                and tomorrow[0][0] == 0 and tomorrow[0][1] < today[-1][0]):
            today[-1][1] = tomorrow.pop(0)[1]
    groups: dict[tuple[tuple[int, ...], ...], list[int]] = {}
    for day, spans in by_day.items():
        if spans:
            groups.setdefault(tuple(map(tuple, spans)), []).append(day)
    texts = [f"{_day_list(days)} " + " & ".join(
        "all day" if (s, e) == (0, 1440) else f"{_clock(s)}–{_clock(e)}" for s, e in spans)
        for spans, days in groups.items()]
    return ", ".join(texts) or "closed"


def next_open(schedule: Schedule, moment: datetime, tz: str) -> datetime | None:
    """The first (naive UTC) moment at or after moment when the schedule is open in zone tz;
    None for a schedule that never opens. A start that clocks skip (spring forward) opens at
    the first real moment after it."""
    zone = ZoneInfo(tz)
    now = _utc(moment)
    local = now.astimezone(zone)
    if is_open(schedule, local.weekday(), local.hour * 60 + local.minute):
        return moment
    for days in range(8):
        day = local.date() + timedelta(days=days)
        starts = sorted(start for weekday, start, _ in schedule if weekday == day.weekday())
        for start in starts:
            wall = datetime.combine(day, time()) + timedelta(minutes=start)
            later = [at for at in wall_instants(wall, zone) if at > now]
            if later:
                return min(later).replace(tzinfo=None)
    return None


def wall_instants(wall: datetime, zone: ZoneInfo) -> list[datetime]:
    """The UTC moments a naive wall-clock time names in zone: two in the hour clocks repeat
    (fall back; the second may be still ahead when the first has passed), else one (for a time
    clocks skip, the moment as read with the offset before the change)."""
    first = wall.replace(tzinfo=zone).astimezone(UTC)
    second = wall.replace(tzinfo=zone, fold=1).astimezone(UTC)
    repeated = second != first and second.astimezone(zone).replace(tzinfo=None) == wall
    return [first, second] if repeated else [first]
