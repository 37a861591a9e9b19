"""Vendor hours (app/booking/hours.py): parsing, open at a moment, overlap, description."""

import random
import re
from datetime import UTC, datetime

import pytest

from app.booking.hours import describe, is_open, open_at, overlaps, parse_hours

CHICAGO = "America/Chicago"
WEEKDAYS = range(5)


def on(days, *spans: tuple[int, int]) -> list[list[int]]:
    """The schedule open on these weekdays for each (start, end) span."""
    return [[day, start, end] for day in days for start, end in spans]


def daily(*spans: tuple[int, int]) -> list[list[int]]:
    """The schedule open every day for each (start, end) span."""
    return on(range(7), *spans)


ALWAYS = daily((0, 1440))
NINE_TO_FIVE = daily((540, 1020))

ACCEPTED = [
    # round the clock
    ("24/7", ALWAYS), ("24h", ALWAYS), ("always", ALWAYS), ("  ALWAYS ", ALWAYS),
    ("24 hours", ALWAYS), ("Open 24/7", ALWAYS), ("all day", ALWAYS),
    ("12AM-12AM", ALWAYS), ("midnight-midnight", ALWAYS), ("0-24", ALWAYS),
    # times alone apply every day
    ("9AM-6PM", daily((540, 1080))), ("9am - 6pm", daily((540, 1080))),
    ("9 am-6 pm", daily((540, 1080))), ("9a.m.-6p.m.", daily((540, 1080))),
    ("9AM–6PM", daily((540, 1080))), ("9AM to 6PM", daily((540, 1080))),
    ("9:30AM-5:15PM", daily((570, 1035))), ("9.30am-5.15pm", daily((570, 1035))),
    ("09:00-17:00", NINE_TO_FIVE), ("9-17", NINE_TO_FIVE), ("9-5", NINE_TO_FIVE),
    ("9:00-5:00", NINE_TO_FIVE), ("9 to 5", NINE_TO_FIVE), ("9AM-5", NINE_TO_FIVE),
    ("9-5PM", NINE_TO_FIVE), ("from 9 until 5", NINE_TO_FIVE), ("9AM-5PM.", NINE_TO_FIVE),
    ("noon-midnight", daily((720, 1440))), ("midnight-noon", daily((0, 720))),
    ("12AM-12PM", daily((0, 720))), ("12PM-12AM", daily((720, 1440))),
    ("12-5", daily((720, 1020))), ("1-5PM", daily((780, 1020))), ("1-5", daily((780, 1020))),
    ("1AM-5AM", daily((60, 300))), ("01:00-05:00", daily((60, 300))),
    ("0-6", daily((0, 360))), ("6-2", daily((360, 840))), ("18:00-24:00", daily((1080, 1440))),
    ("12:30-4:30", daily((750, 990))), ("10:00-11:00", daily((600, 660))),
    # days before times
    ("Mon-Fri 8AM-5PM", on(WEEKDAYS, (480, 1020))),
    ("mon - fri 8am - 5pm", on(WEEKDAYS, (480, 1020))),
    ("Mon to Fri 8 to 5", on(WEEKDAYS, (480, 1020))),
    ("Mon thru Fri from 8AM until 5PM", on(WEEKDAYS, (480, 1020))),
    ("weekdays 8-5", on(WEEKDAYS, (480, 1020))), ("M-F 8-5", on(WEEKDAYS, (480, 1020))),
    ("Monday-Friday: 8AM-5PM", on(WEEKDAYS, (480, 1020))),
    ("Mon-Fri 24h", on(WEEKDAYS, (0, 1440))),
    ("Mon,Wed,Fri 9-5", on([0, 2, 4], (540, 1020))),
    ("Mon, Wed, Fri 9-5", on([0, 2, 4], (540, 1020))),
    ("Mon Wed Fri 9-5", on([0, 2, 4], (540, 1020))),
    ("Mon & Wed and Fri 9-5", on([0, 2, 4], (540, 1020))),
    ("Sat-Sun 10AM-2PM", on([5, 6], (600, 840))), ("weekends 10AM-2PM", on([5, 6], (600, 840))),
    ("Saturday-Sunday 10am-2pm", on([5, 6], (600, 840))),
    ("Fri-Mon 10-2", on([0, 4, 5, 6], (600, 840))), ("Sun-Tue 9-5", on([0, 1, 6], (540, 1020))),
    ("Tue 9-5", on([1], (540, 1020))), ("Tues 9-5", on([1], (540, 1020))),
    ("Tuesday 9-5", on([1], (540, 1020))), ("TUESDAY 9-5", on([1], (540, 1020))),
    ("tu 9-5", on([1], (540, 1020))), ("Tuesdays 9-5", on([1], (540, 1020))),
    ("Weds 9-5", on([2], (540, 1020))), ("Thurs 9-5", on([3], (540, 1020))),
    ("daily 7AM-7PM", daily((420, 1140))), ("every day 7AM-7PM", daily((420, 1140))),
    ("Sat 1-5", on([5], (780, 1020))),
    # several groups
    ("Mon-Fri 8AM-5PM, Sat 9AM-1PM", on(WEEKDAYS, (480, 1020)) + on([5], (540, 780))),
    ("Mon-Fri 8AM-5PM; Sat 9AM-1PM", on(WEEKDAYS, (480, 1020)) + on([5], (540, 780))),
    ("Mon-Fri 8AM-5PM Sat 9AM-1PM", on(WEEKDAYS, (480, 1020)) + on([5], (540, 780))),
    ("Mon-Fri 8-12 & 1-5", on(WEEKDAYS, (480, 720), (780, 1020))),
    ("Mon-Fri 8AM-12PM, 1PM-5PM", on(WEEKDAYS, (480, 720), (780, 1020))),
    ("9-1, 2-6", daily((540, 780), (840, 1080))),
    ("7-11, 12-4", daily((420, 660), (720, 960))),
    ("Mon, Wed 9-5, Sat 10-2", on([0, 2], (540, 1020)) + on([5], (600, 840))),
    ("weekdays 9-5, weekends closed", on(WEEKDAYS, (540, 1020))),
    ("Mon-Sat 9-5, Sun off", on(range(6), (540, 1020))),
]

SEED = [
    ("9AM-6PM", daily((540, 1080))),
    ("8AM-5PM", daily((480, 1020))),
    ("7AM-7PM", daily((420, 1140))),
    ("9AM-5PM", daily((540, 1020))),
    ("24/7", ALWAYS),
]


@pytest.mark.parametrize(("text", "schedule"), ACCEPTED + SEED)
def test_parse_accepted(text, schedule):
    assert parse_hours(text) == sorted(schedule)


@pytest.mark.parametrize(("text", "schedule"), [
    ("10PM-6AM", daily((0, 360), (1320, 1440))),
    ("22:00-06:00", daily((0, 360), (1320, 1440))),
    ("Mon-Fri 10PM-6AM", on([0], (1320, 1440)) + on([1, 2, 3, 4], (0, 360), (1320, 1440))
     + on([5], (0, 360))),
    ("Sun 10PM-2AM", on([0], (0, 120)) + on([6], (1320, 1440))),
    ("Sat 11:30PM-12:30AM", on([5], (1410, 1440)) + on([6], (0, 30))),
    ("6PM-12AM", daily((1080, 1440))),
    ("6PM-midnight", daily((1080, 1440))),
    ("10-6AM", daily((0, 360), (1320, 1440))),
])
def test_overnight_hours_continue_into_the_next_day(text, schedule):
    assert parse_hours(text) == sorted(schedule)


@pytest.mark.parametrize(("text", "schedule"), [
    ("9AM-1PM, 12PM-5PM", NINE_TO_FIVE),
    ("9AM-12PM, 12PM-5PM", NINE_TO_FIVE),
    ("9-5, 10-2", NINE_TO_FIVE),
    ("Mon-Fri 9-5, weekdays 9-5", on(WEEKDAYS, (540, 1020))),
    ("Mon-Fri 9-5, Mon 8AM-10AM", on([0], (480, 1020)) + on([1, 2, 3, 4], (540, 1020))),
    ("Sun 10PM-6AM, Mon 5AM-9AM", on([0], (0, 540)) + on([6], (1320, 1440))),
    ("24/7, Mon 9-5", ALWAYS),
    ("Mon-Wed 9-5, Tue-Fri 9-5", on(WEEKDAYS, (540, 1020))),
])
def test_overlapping_windows_are_merged(text, schedule):
    assert parse_hours(text) == sorted(schedule)


@pytest.mark.parametrize(("text", "named"), [
    ("", "no hours given"),
    ("   ", "no hours given"),
    ("closed", "'closed'"),
    ("Sat closed", "'Sat closed'"),
    ("Mon-Fri 9AM-25PM", "'25PM'"),
    ("13PM-5PM", "'13PM'"),
    ("9:75-5", "'9:75'"),
    ("25:00-26:00", "'25:00'"),
    ("Mnday 9-5", "'Mnday'"),
    ("T 9-5", "'T'"),
    ("Mon-Fryday 9-5", "'Mon-Fryday'"),
    ("Mon-Fri", "'Mon-Fri'"),
    ("9AM-5PM Mon-Fri", "'Mon-Fri'"),
    ("9AM", "'9AM'"),
    ("9-5-7", "'9-5-7'"),
    ("9AM-9AM", "'9AM-9AM'"),
    ("Mon-Fri 9AM-5XM", "'5XM'"),
    ("business hours", "'business'"),
])
def test_unreadable_hours_name_the_bad_part(text, named):
    with pytest.raises(ValueError, match=re.escape(named)) as error:
        parse_hours(text)
    assert "Mon-Fri 8AM-5PM" in str(error.value)


def test_error_message_reads_as_advice():
    with pytest.raises(ValueError) as error:
        parse_hours("9AM-25PM")
    assert str(error.value) == (
        "could not read '25PM' as a time; write hours like 'Mon-Fri 8AM-5PM' or '24/7'")


@pytest.mark.parametrize(("text", "weekday", "minute", "expected"), [
    ("9AM-6PM", 0, 539, False), ("9AM-6PM", 0, 540, True),
    ("9AM-6PM", 0, 1079, True), ("9AM-6PM", 0, 1080, False),
    ("Mon-Fri 8AM-5PM", 4, 480, True), ("Mon-Fri 8AM-5PM", 5, 600, False),
    ("24/7", 0, 0, True), ("24/7", 6, 1439, True),
    ("Fri 10PM-6AM", 4, 1319, False), ("Fri 10PM-6AM", 4, 1320, True),
    ("Fri 10PM-6AM", 4, 1439, True), ("Fri 10PM-6AM", 5, 0, True),
    ("Fri 10PM-6AM", 5, 359, True), ("Fri 10PM-6AM", 5, 360, False),
    ("Sun 10PM-2AM", 0, 60, True), ("Sun 10PM-2AM", 6, 60, False),
])
def test_is_open_start_inclusive_end_exclusive(text, weekday, minute, expected):
    assert is_open(parse_hours(text), weekday, minute) is expected


@pytest.mark.parametrize(("text", "moment", "expected"), [
    # Sat 2026-03-07 is CST (UTC-6): 9AM is 15:00 UTC
    ("9AM-6PM", datetime(2026, 3, 7, 14, 59), False),
    ("9AM-6PM", datetime(2026, 3, 7, 15, 0), True),
    # Sun 2026-03-08 clocks spring forward at 2AM: 9AM CDT is 14:00 UTC, 6PM is 23:00
    ("9AM-6PM", datetime(2026, 3, 8, 13, 59), False),
    ("9AM-6PM", datetime(2026, 3, 8, 14, 0), True),
    ("9AM-6PM", datetime(2026, 3, 8, 22, 59), True),
    ("9AM-6PM", datetime(2026, 3, 8, 23, 0), False),
    # 2AM-3AM does not exist that night: 07:59 UTC is 1:59 CST, 08:00 UTC is 3:00 CDT
    ("Sun 2AM-3AM", datetime(2026, 3, 8, 7, 59), False),
    ("Sun 2AM-3AM", datetime(2026, 3, 8, 8, 0), False),
    ("Sun 2:30AM-3:15AM", datetime(2026, 3, 8, 8, 5), True),
    # Sat 2026-10-31 is CDT (UTC-5): 9AM is 14:00 UTC
    ("9AM-6PM", datetime(2026, 10, 31, 14, 0), True),
    # Sun 2026-11-01 clocks fall back at 2AM: 9AM CST is 15:00 UTC
    ("9AM-6PM", datetime(2026, 11, 1, 14, 59), False),
    ("9AM-6PM", datetime(2026, 11, 1, 15, 0), True),
    ("9AM-6PM", datetime(2026, 11, 2, 0, 0), False),  # 6PM CST
    # 1AM-2AM happens twice: 06:30 UTC is 1:30 CDT, 07:30 UTC is 1:30 CST, 08:00 is 2AM CST
    ("Sun 1AM-2AM", datetime(2026, 11, 1, 6, 30), True),
    ("Sun 1AM-2AM", datetime(2026, 11, 1, 7, 30), True),
    ("Sun 1AM-2AM", datetime(2026, 11, 1, 8, 0), False),
    # overnight hours carry the vendor's Friday night into Saturday morning
    ("Fri 10PM-6AM", datetime(2026, 6, 6, 10, 59), True),  # Sat 5:59 CDT
    ("Fri 10PM-6AM", datetime(2026, 6, 6, 11, 0), False),
    # aware datetimes are converted too
    ("9AM-6PM", datetime(2026, 3, 8, 14, 0, tzinfo=UTC), True),
])
def test_open_at_reads_the_moment_in_the_zone_across_dst(text, moment, expected):
    assert open_at(parse_hours(text), moment, CHICAGO) is expected


def test_open_at_depends_on_the_zone():
    schedule = parse_hours("9AM-5PM")
    moment = datetime(2026, 6, 1, 13, 30)  # 8:30 CDT, 9:30 EDT
    assert not open_at(schedule, moment, CHICAGO)
    assert open_at(schedule, moment, "America/New_York")


# Mon 2026-06-01 in Chicago is CDT (UTC-5): Mon-Fri 8AM-5PM is 13:00-22:00 UTC
@pytest.mark.parametrize(("text", "start", "end", "expected"), [
    ("Mon-Fri 8AM-5PM", datetime(2026, 6, 1, 10), datetime(2026, 6, 1, 13), False),
    ("Mon-Fri 8AM-5PM", datetime(2026, 6, 1, 10), datetime(2026, 6, 1, 13, 1), True),
    ("Mon-Fri 8AM-5PM", datetime(2026, 6, 1, 21, 59), datetime(2026, 6, 1, 23), True),
    ("Mon-Fri 8AM-5PM", datetime(2026, 6, 1, 22), datetime(2026, 6, 2, 13), False),
    ("Mon-Fri 8AM-5PM", datetime(2026, 6, 1, 12), datetime(2026, 6, 1, 23), True),  # inside
    ("Mon-Fri 8AM-5PM", datetime(2026, 6, 6), datetime(2026, 6, 8, 13), False),  # weekend
    ("Mon-Fri 8AM-5PM", datetime(2026, 6, 6), datetime(2026, 6, 8, 13, 30), True),
    ("Mon-Fri 8AM-5PM", datetime(2026, 6, 1, 14), datetime(2026, 6, 1, 14), False),  # empty
    ("Mon-Fri 8AM-5PM", datetime(2026, 6, 1, 15), datetime(2026, 6, 1, 14), False),  # reversed
    ("Mon-Fri 8AM-5PM", datetime(2026, 6, 6), datetime(2027, 6, 6), True),  # a year, bounded
    ("Sat 9AM-1PM", datetime(2026, 6, 1), datetime(2026, 6, 5, 23), False),
    ("Sat 9AM-1PM", datetime(2026, 6, 1), datetime(2026, 7, 1), True),
    ("Fri 10PM-6AM", datetime(2026, 6, 6, 10), datetime(2026, 6, 6, 12), True),  # Sat 5-7AM
    ("24/7", datetime(2026, 6, 1, 3), datetime(2026, 6, 1, 3, 1), True),
    # DST: the Sunday 2AM hour is skipped on 2026-03-08; 3:00-3:15 CDT is 08:00-08:15 UTC
    ("Sun 2AM-3AM", datetime(2026, 3, 8), datetime(2026, 3, 9), False),
    ("Sun 2AM-3AM", datetime(2026, 3, 8), datetime(2026, 3, 16), True),
    ("Sun 2:30AM-3:15AM", datetime(2026, 3, 8, 7), datetime(2026, 3, 8, 8), False),
    ("Sun 2:30AM-3:15AM", datetime(2026, 3, 8, 8, 10), datetime(2026, 3, 8, 9), True),
    ("Sun 2:30AM-3:15AM", datetime(2026, 3, 8, 8, 15), datetime(2026, 3, 8, 9), False),
    # DST: on 2026-11-01 1AM-2AM lasts two hours, 06:00-08:00 UTC
    ("Sun 1AM-2AM", datetime(2026, 11, 1, 7, 10), datetime(2026, 11, 1, 7, 50), True),
    ("Sun 1AM-2AM", datetime(2026, 11, 1, 8), datetime(2026, 11, 1, 12), False),
    ("9AM-6PM", datetime(2026, 11, 1, 14), datetime(2026, 11, 1, 15), False),
    ("9AM-6PM", datetime(2026, 11, 1, 14), datetime(2026, 11, 1, 15, 1), True),
])
def test_overlaps(text, start, end, expected):
    assert overlaps(parse_hours(text), start, end, CHICAGO) is expected


@pytest.mark.parametrize(("text", "expected"), [
    ("24/7", "24/7"),
    ("9AM-6PM", "Daily 09:00–18:00"),
    ("Mon-Fri 8AM-5PM, Sat 9AM-1PM", "Mon–Fri 08:00–17:00, Sat 09:00–13:00"),
    ("Mon,Wed,Fri 9-5", "Mon, Wed, Fri 09:00–17:00"),
    ("Fri-Mon 10-2", "Fri–Mon 10:00–14:00"),
    ("Mon-Fri 10PM-6AM", "Mon–Fri 22:00–06:00"),
    ("Mon-Fri 8-12 & 1-5", "Mon–Fri 08:00–12:00 & 13:00–17:00"),
    ("Sat-Sun 24h", "Sat–Sun all day"),
    ("noon-midnight", "Daily 12:00–24:00"),
    ("Mon 12:15AM-12AM, Tue 12AM-12:15AM", "Mon 00:15–24:00, Tue 00:00–00:15"),
])
def test_describe(text, expected):
    assert describe(parse_hours(text)) == expected


def test_describe_nothing_is_closed():
    assert describe([]) == "closed"


@pytest.mark.parametrize("text", [text for text, _ in ACCEPTED + SEED] + [
    "10PM-6AM", "Mon-Fri 10PM-6AM", "Sun 10PM-2AM", "Mon-Fri 9-5, Mon 8AM-10AM"])
def test_describe_reads_back_as_the_same_schedule(text):
    schedule = parse_hours(text)
    assert parse_hours(describe(schedule)) == schedule


def test_describe_reads_back_for_any_schedule():
    rng, names = random.Random(7), ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
    for _ in range(500):
        parts = []
        for _ in range(rng.randint(1, 6)):
            start = rng.randrange(0, 1435, 5)
            end = rng.randrange(start + 5, 1441, 5)
            parts.append(f"{rng.choice(names)} {start // 60:02d}:{start % 60:02d}"
                         f"-{end // 60:02d}:{end % 60:02d}")
        schedule = parse_hours(", ".join(parts))
        assert parse_hours(describe(schedule)) == schedule, describe(schedule)
