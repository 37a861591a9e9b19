"""The tenant's availability ("tomorrow morning", "12/05 10am-2pm PST") as a UTC interval.

How the words are read (the first 200 characters, case and a.m./p.m. spelling ignored):

- Zone: the property's, unless a US zone is named (PST, PDT, PT, Pacific, MST, MT, Mountain,
  CST, CT, Central, EST, ET, Eastern, AKST, Alaska, HST, Hawaii). A name stands for the region's
  clock, summer or winter ("2pm PST" in July is 2pm in Los Angeles); a named zone whose standard
  offset is the property's keeps the property's ("MST" at a Phoenix property stays Phoenix).
- Day, in that zone: a date (12/05, 12/5, 12/05/2026, 12/5/26, 2026-12-05, Dec 5, December 5th,
  5 Dec, Dec 5, 2026); a date without a year is this year's, or next year's once more than 30
  days have passed (so a date just gone reads as passed, and intake refuses it); yesterday,
  today, tonight, this morning/afternoon/evening, tomorrow, the day after tomorrow; "next week"
  (its Monday) and "Tuesday next week". A date more than HORIZON away is no window at all.
- Weekdays (Tue, tues, Tuesday, Tuesdays, Mon-Fri, weekdays, weekends): the first such day from
  today whose window has not ended (said on a Wednesday at 9, "Wed 7-8am" is next week's);
  "next Tuesday" is the first Tuesday after today, never today. Recurring words ("weekday
  mornings", "weekends") mean the next matching day only.
- Hours: ranges with or without am/pm ("9-5" 9am-5pm, "2-5pm", "2-4" 2pm-4pm, "11-1pm"
  11am-1pm, "noon-2", "14:00-16:00", "between 9 and 11", "10pm-2am" runs past midnight);
  "after X" until max(9pm, X + 3 hours) but not past midnight; "before X" from
  min(8am, X - 3 hours); a lone time ("3pm", "at 3", "around 10:30") is two hours from then.
  A bare hour 1-6 is PM, 7-11 AM (a part of day said with it decides instead: "evening 6-8").
  Parts of day: morning 8-12, afternoon 12-5, evening 5-9, tonight 5-11, night 7-11, all day
  8-8 and the others in PARTS. A day named without hours means 8am-8pm.
- Hours without a day: the next such interval that has not ended (for a lone time: not begun).
  An explicit day is never moved: "today 9-11am" said at 3pm has passed (intake refuses it).
- now, right now, ASAP, right away, immediately, as soon as possible: from now for NOW_HOURS,
  unless hours or a day other than today are named too ("ASAP tomorrow morning").
- any time, anytime, whenever, flexible, any day, no preference: no window (None), as are
  words naming neither a day nor hours. Either way the tenant's words go to the vendor as typed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from app.booking.hours import shorter_half
from app.i18n import N_

MAX_CHARS = 200  # what the form and the API accept
HORIZON = timedelta(days=366)  # a window further ahead is refused at intake, ignored if stored
RECENT = timedelta(days=30)  # a yearless date this recently gone reads as passed, not next year
NOW_HOURS = 4
LONE_HOURS = 2  # a lone time: as long as a visit without an end (CONTRACT.md §9)
DAY_HOURS = (8 * 60, 20 * 60)  # a day named without hours
TOO_FAR = N_("That is more than a year away: say when someone can come in the coming months.")
PASSED = N_("That time has already passed: tell us when someone can come from now on.")

ZONES = {
    "America/Los_Angeles": ("pst", "pdt", "pt", "pacific"),
    "America/Denver": ("mst", "mdt", "mt", "mountain"),
    "America/Chicago": ("cst", "cdt", "ct", "central"),
    "America/New_York": ("est", "edt", "et", "eastern"),
    "America/Anchorage": ("akst", "akdt", "akt", "alaska"),
    "Pacific/Honolulu": ("hst", "hawaii"),
}
ZONE_OF = {word: zone for zone, words in ZONES.items() for word in words}
PARTS = {  # part of day → (start hour, end hour, am/pm for a bare hour said with it)
    "early morning": (6, 9, "am"), "late morning": (10, 12, "am"),
    "early afternoon": (12, 15, "pm"), "late afternoon": (15, 18, "pm"),
    "early evening": (17, 19, "pm"), "late evening": (20, 23, "pm"),
    "business hours": (9, 17, None), "working hours": (9, 17, None), "work hours": (9, 17, None),
    "after work": (17, 21, "pm"), "after school": (15, 18, "pm"), "lunch ?time": (11, 14, None),
    "lunch": (11, 14, None), "midday": (11, 14, None), "all day": (8, 20, None),
    "morning": (8, 12, "am"), "afternoon": (12, 17, "pm"), "evening": (17, 21, "pm"),
    "tonight": (17, 23, "pm"), "tonite": (17, 23, "pm"), "night": (19, 23, "pm"),
}
WEEKDAYS = {"mon": 0, "monday": 0, "tue": 1, "tues": 1, "tuesday": 1, "wed": 2, "weds": 2,
            "wednesday": 2, "thu": 3, "thur": 3, "thurs": 3, "thursday": 3, "fri": 4,
            "friday": 4, "sat": 5, "saturday": 5, "sun": 6, "sunday": 6}
MONTHS = {name: number for number, names in enumerate((
    ("jan", "january"), ("feb", "february"), ("mar", "march"), ("apr", "april"), ("may",),
    ("jun", "june"), ("jul", "july"), ("aug", "august"), ("sep", "sept", "september"),
    ("oct", "october"), ("nov", "november"), ("dec", "december")), 1) for name in names}
RELATIVE = {"day after tomorrow": 2, "tomorrow": 1, "tomorow": 1, "tommorow": 1,
            "tommorrow": 1, "tmrw": 1, "tmr": 1, "today": 0, "tonight": 0, "tonite": 0,
            "this morning": 0, "this afternoon": 0, "this evening": 0, "yesterday": -1}


def _words(*alternatives: str) -> str:
    """A regex alternation, longest first (so 'tuesday' wins over 'tue')."""
    return "|".join(sorted(alternatives, key=len, reverse=True))


def _re(pattern: str) -> re.Pattern[str]:
    """A pattern whose digits and word boundaries are ASCII only."""
    return re.compile(pattern, re.ASCII)


ANYTIME = _re(r"\b(any ?time|whenever|flexible|any ?day|no preference)\b")
NOW = _re(r"(?<!not )(?<!not right )\b(right now|now|asap|a\.s\.a\.p|right away|straight away"
          r"|immediately|as soon as (?:possible|you can))\b")
ZONE = _re(rf"\b({_words(*ZONE_OF)})\b(?: time)?")
DAY = rf"(?:{_words(*WEEKDAYS)})s?"
DAY_RANGE = _re(rf"\b({DAY}) ?(?:-|to|thru|through|till|until) ?({DAY})\b")
WEEKDAY = _re(rf"\b(next |this |every )?({DAY})\b")
DAY_SETS = {"weekend": (5, 6), "week ?day": range(5), "work ?day": range(5)}
DAY_SET = _re(rf"\b({_words(*DAY_SETS)})s?\b")
NEXT_WEEK = _re(r"\bnext week\b")
RELATIVE_DAY = _re(rf"\b({_words(*RELATIVE)})\b")
MONTH = rf"({_words(*MONTHS)})\.?"
ORDINAL = r"([0-9]{1,2})(?:st|nd|rd|th)?"
YEAR = r"(?:,? ([0-9]{4}))?(?![0-9:])"
DATES = (  # (pattern, order of year, month, day among its groups)
    (_re(r"(?<![0-9/.:-])([0-9]{4})[-/]([0-9]{1,2})[-/]([0-9]{1,2})(?![0-9/:-])"), (0, 1, 2)),
    (_re(r"(?<![0-9/.:-])([0-9]{1,2})/([0-9]{1,2})(?:/([0-9]{4}|[0-9]{2}))?(?![0-9/:])"),
     (2, 0, 1)),
    (_re(r"(?<![0-9/.:-])([0-9]{1,2})-([0-9]{1,2})-([0-9]{4})(?![0-9/:-])"), (2, 0, 1)),
    (_re(rf"\b{MONTH} {ORDINAL}\b(?! ?(?:am|pm|:|-))(?! (?:to|till|until|and) ){YEAR}"),
     (2, 0, 1)),
    (_re(rf"\b{ORDINAL} (?:of )?{MONTH}\b{YEAR}"), (2, 1, 0)),
)
CLOCK = r"(?:\bnoon\b|\bmidnight\b|[0-9]{1,2}(?:[:.][0-9]{2})? ?(?:am|pm)?)"
T = rf"(?<![0-9:./])({CLOCK})(?![0-9:/])"
RANGE = _re(rf"\bbetween {T} and {T}|{T} ?(?:-|to|till|til|until|thru|through) ?{T}")
AFTER = _re(rf"\b(?:after|from|starting(?: at)?|since) {T}")
BEFORE = _re(rf"\b(?:before|by|until|till|til|up to) {T}")
AT = _re(rf"(\b(?:at|around|about|approx|approximately) |@ ?)?{T}")
PART = _re(rf"\b({_words(*PARTS)})s?\b")
CLEAN = ((_re(r"\s+"), " "), (_re(r"[\u2010-\u2015\u2212]"), "-"),
         (_re(r"([0-9]) ?([ap])\.? ?m\b\.?"), r"\1\2m"), (_re(r"([0-9])([ap])\b"), r"\1\2m"),
         (_re(r" ?o'?clock\b"), ""))
# Spanish words as the English ones above (CONTRACT §13), read before them; most specific first
# ("mañana" is both tomorrow and morning).
SPANISH = tuple((_re(pattern), english) for pattern, english in (
    (r"\bpasado mañana\b", "day after tomorrow"),
    (r"\bmañana (?:por|en) la mañana\b", "tomorrow morning"),
    (r"\bmañana (?:por|en) la tarde\b", "tomorrow afternoon"),
    (r"\bmañana (?:por|en) la noche\b", "tomorrow evening"),
    (r"\besta noche\b", "tonight"), (r"\besta mañana\b", "this morning"),
    (r"\besta tarde\b", "this afternoon"),
    (r"\b(?:por|en) la mañana\b", "morning"), (r"\b(?:por|en) la tarde\b", "afternoon"),
    (r"\b(?:por|en) la noche\b", "evening"),
    (r"\b(?:la |una )?(?:próxima|proxima) semana\b|\bla semana que viene\b", "next week"),
    (r"\bfin(?:es)? de semana\b", "weekend"),
    (r"\bmañana\b", "tomorrow"), (r"\btarde\b", "afternoon"), (r"\bnoche\b", "evening"),
    (r"\bhoy\b", "today"), (r"\bahora(?: mismo)?\b|\bcuanto antes\b", "now"),
    (r"\bmediod[ií]a\b", "noon"), (r"\b(?:cualquier hora|cuando sea)\b", "any time"),
    (r"\blunes\b", "monday"), (r"\bmartes\b", "tuesday"), (r"\bmi[ée]rcoles\b", "wednesday"),
    (r"\bjueves\b", "thursday"), (r"\bviernes\b", "friday"),
    (r"\bs[áa]bado(s?)\b", r"saturday\1"), (r"\bdomingo(s?)\b", r"sunday\1"),
    (r"\b(?:el |la )?(?:próximo|proximo|próxima|proxima)\b", "next"),
    (r"\b(?:este|esta)\b", "this"),
    (r"\bde ([0-9:]+(?:[ap]m)?) a ([0-9])", r"\1-\2"),
    (r"\bentre (?:las )?([0-9:]+(?:[ap]m)?) y (?:las )?([0-9])", r"\1-\2"),
    (r"\ba las\b|\ba la\b", "at"),
))


@dataclass(frozen=True)
class Window:
    """When the tenant can be in: [start, end) as naive UTC, and the zone the words were read in."""

    start: datetime
    end: datetime
    zone: str


@dataclass(frozen=True)
class _Reading:
    """What the words named: a calendar day (checked against HORIZON) and the window."""

    day: date | None  # the calendar day the words named, if they named one
    window: Window | None
    moment: bool = False  # a lone time or now: the window's length is a convention, not said


def parse_window(text: str, now: datetime, tz: str) -> tuple[datetime, datetime] | None:
    """The [start, end) the tenant is available, as naive UTC; None when not understood, "any
    time", or further ahead than HORIZON (such a row predates the intake check)."""
    window = interpret(text, now, tz)
    return (window.start, window.end) if window else None


def interpret(text: str, now: datetime, tz: str) -> Window | None:
    """parse_window's answer with the zone it used (the one the tenant named, else tz)."""
    return _read(text, now, tz).window


def names_moment(text: str, now: datetime, tz: str) -> bool:
    """Whether the words name a moment (a lone time like "3pm", or now), not a span."""
    return _read(text, now, tz).moment


def window_problem(text: str, now: datetime, tz: str) -> str | None:
    """Why intake refuses these words as a window (a day more than a year away), or None."""
    day = _read(text, now, tz).day
    if not _far(day, now):
        return None
    return TOO_FAR if day > now.date() else PASSED


def _far(day: date | None, now: datetime) -> bool:
    """Whether a named day lies more than HORIZON from now, either way (such dates also
    overflow datetime arithmetic near the years 1 and 9999)."""
    return day is not None and abs(day - now.date()) > HORIZON


def _read(text: str, now: datetime, tz: str) -> _Reading:
    """The day the words name and the window they mean, by the rules above."""
    words = text[:MAX_CHARS].lower() if isinstance(text, str) else ""
    for pattern, replacement in (*SPANISH, *CLEAN):
        words = pattern.sub(replacement, words)
    zone, words = _zone(words, tz, now)
    local_now = now.replace(tzinfo=UTC).astimezone(ZoneInfo(zone))
    today = local_now.date()
    day, words = _date(words, today)
    if day is False:
        return _Reading(None, None)  # '2/30': a date that does not exist
    if day is not None and _far(day, now):
        return _Reading(day, None)
    days, skip_today, words = _weekdays(words)
    if NEXT_WEEK.search(words) and day is None:
        monday = today + timedelta(days=7 - today.weekday())
        day = monday + timedelta(days=min(days)) if days else monday
    hours, lone = _hours(words)
    if NOW.search(words) and hours is None and not days and day in (None, today):
        return _Reading(day, Window(now, now + timedelta(hours=NOW_HOURS), zone), True)
    if day is None and not days and hours is None:
        return _Reading(None, None)
    start, end = hours or DAY_HOURS
    if day is not None:
        return _Reading(day, _window(day, start, end, zone), lone)
    ahead = [today + timedelta(days=n) for n in range(skip_today, 15)
             if not days or (today + timedelta(days=n)).weekday() in days]
    for candidate in ahead[:8]:
        window = _window(candidate, start, end, zone)
        if window and (window.start if lone else window.end) > now:
            return _Reading(None, window, lone)
    return _Reading(None, None)


def _window(day: date, start: int, end: int, zone: str) -> Window | None:
    """Minutes start to end of a local day as a Window (None past the calendar's ends)."""
    try:
        return Window(_utc(day, start, zone), _utc(day, end, zone), zone)
    except (OverflowError, ValueError):  # days next to date.min/max; _far keeps them out
        return None


def _utc(day: date, minute: int, zone: str) -> datetime:
    """A minute of a local day (past 1440 runs into the next day) as naive UTC."""
    local = datetime.combine(day, time(0), tzinfo=ZoneInfo(zone)) + timedelta(minutes=minute)
    return local.astimezone(UTC).replace(tzinfo=None)


def _zone(words: str, tz: str, now: datetime) -> tuple[str, str]:
    """The zone the words are in and the words without its name."""
    match = ZONE.search(words)
    if not match:
        return tz, words
    named = ZONE_OF[match[1]]
    rest = words[:match.start()] + " " + words[match.end():]
    return (tz if _standard(named, now) == _standard(tz, now) else named), rest


def _standard(zone: str, now: datetime) -> timedelta:
    """A zone's offset from UTC in winter (the smaller of January's and July's)."""
    return min(datetime(now.year, month, 1, tzinfo=ZoneInfo(zone)).utcoffset()
               for month in (1, 7))


def _date(words: str, today: date) -> tuple[date | None | bool, str]:
    """The calendar day the words name (False: one that does not exist), and the rest."""
    for pattern, (y, m, d) in DATES:
        if match := pattern.search(words):
            parts = match.groups()
            month = MONTHS.get(parts[m]) or int(parts[m])
            rest = words[:match.start()] + " " + words[match.end():]
            return _calendar(parts[y], month, int(parts[d]), today), rest
    if match := RELATIVE_DAY.search(words):
        return today + timedelta(days=RELATIVE[match[1]]), words
    return None, words


def _calendar(year: str | None, month: int, day: int, today: date) -> date | bool:
    """The date of a year (two digits: 20xx), month and day; without a year, the coming one."""
    try:
        if year:
            return date(int(year) + (2000 if len(year) == 2 else 0), month, day)
        found = date(today.year, month, day)
        if found < today - RECENT and today.year < date.max.year:
            found = date(today.year + 1, month, day)
        return found
    except ValueError:
        return False


def _weekdays(words: str) -> tuple[set[int], int, str]:
    """The weekdays the words name, 1 when 'next' rules out today (else 0), and the rest."""
    days: set[int] = set()
    skip_today = 0
    for match in DAY_RANGE.finditer(words):
        first, last = (WEEKDAYS[_singular(match[i])] for i in (1, 2))
        days.update((first + n) % 7 for n in range((last - first) % 7 + 1))
    words = DAY_RANGE.sub(" ", words)
    for match in WEEKDAY.finditer(words):
        days.add(WEEKDAYS[_singular(match[2])])
        skip_today |= match[1] == "next "
    for match in DAY_SET.finditer(words):
        days.update(DAY_SETS[next(k for k in DAY_SETS if re.fullmatch(k, match[1]))])
    return days, int(skip_today), WEEKDAY.sub(" ", words)


def _singular(word: str) -> str:
    """'tuesdays' → 'tuesday'; 'tues' stays."""
    return word if word in WEEKDAYS else word[:-1]


def _time(text: str) -> tuple[int, int, str | None] | None:
    """'2', '2:30pm', 'noon' → (hour, minute, am/pm or None); None when no such time."""
    if text in ("noon", "midnight"):
        return 12, 0, "pm" if text == "noon" else "am"
    match = re.fullmatch(r"([0-9]{1,2})(?:[:.]([0-9]{2}))? ?(am|pm)?", text)
    hour, minute, half = int(match[1]), int(match[2] or 0), match[3]
    if minute >= 60 or hour > 24 or half and not 1 <= hour <= 12 or hour == 24 and minute:
        return None
    return hour, minute, half


def _minute(hour: int, minute: int, half: str | None) -> int:
    """The minute of the day; without am/pm, the 24-hour clock."""
    return ((hour % 12 + (12 if half == "pm" else 0)) if half else hour) * 60 + minute


def _clock(text: str, hint: str | None) -> int | None:
    """A lone time's minute of the day: a bare 1-6 is PM, 7-11 AM (unless hinted), 12 noon."""
    found = _time(text)
    if found is None:
        return None
    hour, minute, half = found
    if half is None and 1 <= hour <= 11:
        half = hint or ("pm" if hour <= 6 else "am")
    return _minute(hour, minute, half)


def _forward(start: int, hour: int, minute: int) -> int:
    """A bare 1-12 end as AM or PM, whichever comes sooner after start ('9-5': 5pm)."""
    base = hour % 12 * 60 + minute
    return min(base, base + 720, key=lambda end: (end - start) % 1440 or 1440)


def _range(first: str, last: str, hint: str | None) -> tuple[int, int] | None:
    """'9-5' is 9am-5pm, '2-4' 2pm-4pm, '11-1pm' 11am-1pm, '10-2am' 10pm-2am, 'noon-2' noon to
    2pm, '10pm-2am' runs past midnight; a part of day said with it halves a bare start."""
    a, b = _time(first), _time(last)
    if a is None or b is None:
        return None
    end = _minute(*b)
    bare_start, bare_end = a[2] is None and 1 <= a[0] <= 12, b[2] is None and 1 <= b[0] <= 12
    if bare_start and b[2]:  # '1-5pm': the shorter of 1am and 1pm
        start = shorter_half(a[0] % 12 * 60 + a[1], end)
    elif bare_start and bare_end and hint:  # 'evening 6-8'
        start = _clock(first, hint)
        end = _forward(start, b[0], b[1])
    elif bare_start and bare_end:
        start = _minute(*a)
        if a[0] <= 6 and start < end < 720:
            start, end = start + 720, end + 720  # '2-4' is 2pm to 4pm, '6-8' 6pm to 8pm
        else:
            end = _forward(start, b[0], b[1])
    else:
        start = _minute(*a)
        if bare_end and a[2]:
            end = _forward(start, b[0], b[1])
    start %= 24 * 60  # '24-2' is midnight to 2am
    if end <= start:
        end += 24 * 60  # '10pm-2am' runs past midnight
    return start, end


def _hours(words: str) -> tuple[tuple[int, int] | None, bool]:
    """The minutes of the day the words name, if any, and whether they named a lone time."""
    part = PART.search(words)
    first, last, hint = PARTS[_part_key(part[1])] if part else (None, None, None)
    if match := RANGE.search(words):
        first_text, last_text = (match[1], match[2]) if match[1] else (match[3], match[4])
        if span := _range(first_text, last_text, hint):
            return span, False
    after, before = AFTER.search(words), BEFORE.search(words)
    start = _clock(after[1], hint) if after else None
    end = _clock(before[1], hint) if before else None
    if start is not None and end is not None:
        if end <= start < end + 720 and not re.search("am|pm|noon|midnight", before[1]):
            end += 720  # 'after 6 before 9' is 6pm to 9pm
    elif start is not None:
        end = last * 60 if last is not None and last * 60 > start else min(
            24 * 60, max(21 * 60, start + 180))
    elif end is not None:
        start = first * 60 if first is not None and first * 60 < end else max(
            0, min(8 * 60, end - 180))
    if start is not None:
        return ((start, end) if end > start else None), False
    for match in AT.finditer(words):
        said = match[1] or re.search("am|pm|noon|midnight|:", match[2])
        if said and (start := _clock(match[2], hint)) is not None:
            return (start, start + LONE_HOURS * 60), True
    if part:
        return (first * 60, last * 60), False
    return None, False


def _part_key(found: str) -> str:
    """The PARTS key a matched part of day came from ('lunch time' → 'lunch ?time')."""
    return next(key for key in PARTS if re.fullmatch(key, found))
