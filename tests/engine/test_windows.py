"""What tenants write about when they are in, read as UTC intervals in the property's zone."""

from __future__ import annotations

from datetime import datetime

import pytest

from app.booking.windows import parse_window
from tests.engine.conftest import CHICAGO

WEDNESDAY = datetime(2026, 3, 4, 15, 0)  # Wed 4 Mar 2026, 09:00 CST (UTC-6); DST starts Sun 8 Mar
SPRING_EVE = datetime(2026, 3, 8, 0, 0)  # Sat 7 Mar, 18:00 CST: tonight clocks jump 2:00 → 3:00
FALL_EVE = datetime(2026, 10, 31, 23, 0)  # Sat 31 Oct, 18:00 CDT: tonight 2:00 falls back to 1:00


def utc(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute)


@pytest.mark.parametrize("text, expected", [
    ("today 2-5pm", (utc(3, 4, 20), utc(3, 4, 23))),
    ("Tomorrow 9-11AM", (utc(3, 5, 15), utc(3, 5, 17))),
    ("tomorrow morning", (utc(3, 5, 14), utc(3, 5, 18))),
    ("Friday afternoon", (utc(3, 6, 18), utc(3, 6, 23))),
    # next Monday is after the clocks change: 09:00 CDT is 14:00 UTC, not 15:00
    ("Mon 9am-noon", (utc(3, 9, 14), utc(3, 9, 17))),
    ("tues morning", (utc(3, 10, 13), utc(3, 10, 17))),
    ("2026-12-01 14:00-16:00", (utc(12, 1, 20), utc(12, 1, 22))),
    ("after 5pm", (utc(3, 4, 23), utc(3, 5, 3))),
    ("after 10pm", (utc(3, 5, 4), utc(3, 5, 6))),  # until midnight
    ("before noon", (utc(3, 4, 14), utc(3, 4, 18))),
    ("tonight", (utc(3, 4, 23), utc(3, 5, 5))),
    ("10pm-2am", (utc(3, 5, 4), utc(3, 5, 8))),
    ("9-5", (utc(3, 4, 15), utc(3, 4, 23))),
    ("2-4", (utc(3, 4, 20), utc(3, 4, 22))),  # a bare 2 is 2pm, as in vendor hours
    ("11-1pm", (utc(3, 4, 17), utc(3, 4, 19))),  # 11am to 1pm, not 11pm to 1pm
    ("10-2am", (utc(3, 5, 4), utc(3, 5, 8))),  # 10pm to 2am, not 10am to 2am
    ("noon-2", (utc(3, 4, 18), utc(3, 4, 20))),
    ("7-8am", (utc(3, 5, 13), utc(3, 5, 14))),  # today's 7-8am is over: tomorrow's
    ("Wednesday 7-8am", (utc(3, 11, 12), utc(3, 11, 13))),  # said on a Wednesday at 9: next week
    ("Wednesday 1-3pm", (utc(3, 4, 19), utc(3, 4, 21))),  # still ahead today
    ("anytime", None),
    ("whenever suits", None),
    ("ASAP please", (utc(3, 4, 15), utc(3, 4, 19))),  # from now for four hours
    ("blorp fizzle", None),
    ("sometime this month", None),  # 'month' is not Monday
    ("when the fridge is fixed", None),  # nor 'fridge' Friday
    ("", None),
])
def test_tenant_phrases(text, expected):
    assert parse_window(text, WEDNESDAY, CHICAGO) == expected


@pytest.mark.parametrize("now, text, expected, hours", [
    # spring forward: 22:00 CST to 03:00 CDT is four real hours
    (SPRING_EVE, "10pm-3am", (utc(3, 8, 4), utc(3, 8, 8)), 4),
    (SPRING_EVE, "tomorrow 1am-4am", (utc(3, 8, 7), utc(3, 8, 9)), 2),
    (SPRING_EVE, "tomorrow morning", (utc(3, 8, 13), utc(3, 8, 17)), 4),  # already CDT
    # fall back: 22:00 CDT to 03:00 CST is six real hours; 1am is read as the first 1am (CDT)
    (FALL_EVE, "10pm-3am", (utc(11, 1, 3), utc(11, 1, 9)), 6),
    (FALL_EVE, "tomorrow 1am-3am", (utc(11, 1, 6), utc(11, 1, 9)), 3),
    (FALL_EVE, "tomorrow morning", (utc(11, 1, 14), utc(11, 1, 18)), 4),  # already CST
])
def test_daylight_saving_days(now, text, expected, hours):
    window = parse_window(text, now, CHICAGO)
    assert window == expected
    assert (window[1] - window[0]).total_seconds() == hours * 3600


@pytest.mark.parametrize("tz, expected", [
    (CHICAGO, (utc(3, 4, 20), utc(3, 4, 23))),
    ("America/New_York", (utc(3, 4, 19), utc(3, 4, 22))),
    ("Europe/Berlin", (utc(3, 4, 13), utc(3, 4, 16))),
])
def test_read_in_the_property_zone(tz, expected):
    assert parse_window("today 2-5pm", WEDNESDAY, tz) == expected
