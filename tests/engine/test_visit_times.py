"""The visit time a vendor or landlord names, read in the property's zone as naive UTC."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from app.booking.visit_times import (
    EXAMPLE,
    UnreadableTime,
    VisitTime,
    choices,
    local_text,
    read_visit,
    visit_end,
)
from tests.engine.conftest import CHICAGO

LA = "America/Los_Angeles"
WEDNESDAY = datetime(2026, 3, 4, 15, 0)  # Wed 4 Mar 2026, 09:00 CST (UTC-6)
WEDNESDAY_4PM = datetime(2026, 3, 4, 22, 0)  # Wed 4 Mar, 16:00 CST
WEDNESDAY_11PM = datetime(2026, 3, 5, 5, 0)  # Wed 4 Mar, 23:00 CST
TUESDAY_9AM = datetime(2026, 3, 3, 15, 0)  # Tue 3 Mar, 09:00 CST
TUESDAY_11AM = datetime(2026, 3, 3, 17, 0)  # Tue 3 Mar, 11:00 CST
SPRING_EVE = datetime(2026, 3, 8, 0, 0)  # Sat 7 Mar, 18:00 CST: tonight 2:00 jumps to 3:00
FALL_EVE = datetime(2026, 10, 31, 23, 0)  # Sat 31 Oct, 18:00 CDT: tonight 2:00 falls to 1:00


def utc(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute)


def offset(moment: datetime, tz: str = CHICAGO) -> timedelta:
    return moment.replace(tzinfo=UTC).astimezone(ZoneInfo(tz)).utcoffset()


@pytest.mark.parametrize("text, start", [
    ("3pm", utc(3, 4, 21)),
    ("at 3", utc(3, 4, 21)),  # a bare 3 is 3pm
    ("3 p.m.", utc(3, 4, 21)),
    ("tomorrow 9:30am", utc(3, 5, 15, 30)),
    ("today 3pm", utc(3, 4, 21)),
    ("12/9 2pm", utc(12, 9, 20)),  # December is CST again
    ("Fri 10am", utc(3, 6, 16)),
    ("Mon 10am", utc(3, 9, 15)),  # after the clocks change: 10:00 CDT is 15:00 UTC
    ("noon", utc(3, 4, 18)),
    ("12pm", utc(3, 4, 18)),
    ("12am", utc(3, 5, 6)),
    ("midnight", utc(3, 5, 6)),
    ("tomorrow 9:30am PT", utc(3, 5, 17, 30)),  # a named zone wins over the property's
])
def test_a_lone_time_is_a_moment(text, start):
    assert read_visit(text, WEDNESDAY, CHICAGO) == VisitTime(start, None)


def test_a_lone_time_still_ahead_today_is_today():
    assert read_visit("9:30am", WEDNESDAY, CHICAGO) == VisitTime(utc(3, 4, 15, 30), None)


@pytest.mark.parametrize("text, now, start", [
    ("3pm", WEDNESDAY_4PM, utc(3, 5, 21)),
    ("9:30am", WEDNESDAY + timedelta(minutes=31), utc(3, 5, 15, 30)),
    ("9am", WEDNESDAY, utc(3, 5, 15)),  # begun this very minute
])
def test_a_lone_time_gone_today_is_tomorrow(text, now, start):
    assert read_visit(text, now, CHICAGO) == VisitTime(start, None)


@pytest.mark.parametrize("now, start", [
    (TUESDAY_9AM, utc(3, 3, 16)),  # said on Tuesday at 9: today at 10
    (TUESDAY_11AM, utc(3, 10, 15)),  # said on Tuesday at 11: next week (CDT by then)
])
def test_a_weekday_is_the_next_one_still_ahead(now, start):
    assert read_visit("Tue 10am", now, CHICAGO) == VisitTime(start, None)


@pytest.mark.parametrize("text, start, end", [
    ("2-4pm", utc(3, 4, 20), utc(3, 4, 22)),
    ("tomorrow 9-11am", utc(3, 5, 15), utc(3, 5, 17)),
    ("tomorrow 10-12", utc(3, 5, 16), utc(3, 5, 18)),  # two hours, yet a range: it has an end
    ("tomorrow morning", utc(3, 5, 14), utc(3, 5, 18)),
    ("late morning", utc(3, 4, 16), utc(3, 4, 18)),  # a two-hour part of day, not a lone time
    ("after 10pm", utc(3, 5, 4), utc(3, 5, 6)),  # until midnight: two hours, still a span
    ("tomorrow", utc(3, 5, 14), utc(3, 6, 2)),  # a day without hours is 8am-8pm
])
def test_a_span_has_a_start_and_an_end(text, start, end):
    assert read_visit(text, WEDNESDAY, CHICAGO) == VisitTime(start, end)


@pytest.mark.parametrize("text", ["now", "ASAP", "right away"])
def test_now_starts_now_without_an_end(text):
    assert read_visit(text, WEDNESDAY, CHICAGO) == VisitTime(WEDNESDAY, None)


def test_midnight_said_late_in_the_evening_is_in_an_hour_the_next_day():
    visit = read_visit("12am", WEDNESDAY_11PM, CHICAGO)
    assert visit == VisitTime(WEDNESDAY_11PM + timedelta(hours=1), None)
    assert local_text(visit.start, CHICAGO) == "Thu Mar 5, 12 AM"


@pytest.mark.parametrize("now, tz, start, before, after", [
    # said on the Saturday before each change; Sunday 9:30 is on the new offset
    (SPRING_EVE, CHICAGO, utc(3, 8, 14, 30), -6, -5),
    (FALL_EVE, CHICAGO, utc(11, 1, 15, 30), -5, -6),
    (datetime(2026, 3, 8, 2, 0), LA, utc(3, 8, 16, 30), -8, -7),  # Sat 18:00 PST
])
def test_tomorrow_across_a_clock_change_keeps_the_local_time(now, tz, start, before, after):
    visit = read_visit("tomorrow 9:30am", now, tz)
    assert visit == VisitTime(start, None)
    assert offset(now, tz) == timedelta(hours=before)
    assert offset(visit.start, tz) == timedelta(hours=after)
    assert local_text(visit.start, tz).endswith(", 9:30 AM")


@pytest.mark.parametrize("text", ["2:30am", "tomorrow 2:30am"])
def test_a_time_the_clocks_skip_keeps_the_offset_from_before(text):
    # 2:30 CST does not exist on 8 Mar: 08:30 UTC, which the clock shows as 3:30 CDT
    visit = read_visit(text, SPRING_EVE, CHICAGO)
    assert visit == VisitTime(utc(3, 8, 8, 30), None)
    assert local_text(visit.start, CHICAGO) == "Sun Mar 8, 3:30 AM"


def test_a_repeated_hour_is_its_first_pass():
    visit = read_visit("1:30am", FALL_EVE, CHICAGO)
    assert visit == VisitTime(utc(11, 1, 6, 30), None)  # 1:30 CDT, not 1:30 CST (07:30)


@pytest.mark.parametrize("text, now", [
    ("today 3pm", WEDNESDAY_4PM),
    ("today 9am", WEDNESDAY + timedelta(seconds=1)),
    ("2-4pm", datetime(2026, 3, 4, 21, 0)),  # said at 3pm: its start is gone
    ("yesterday 10am", WEDNESDAY),
    ("3/1/2025 2pm", WEDNESDAY),  # more than a year ago
])
def test_a_start_already_past_is_refused(text, now):
    with pytest.raises(UnreadableTime) as refused:
        read_visit(text, now, CHICAGO)
    assert "passed" in str(refused.value)
    assert f"for example {EXAMPLE}" in str(refused.value)


def test_today_at_the_very_minute_is_not_past():
    assert read_visit("today 9am", WEDNESDAY, CHICAGO) == VisitTime(WEDNESDAY, None)


@pytest.mark.parametrize("text", [
    "", "   ", "blorp fizzle", "whenever", "any time", "anytime", "sometime", "5",
    "2/30 3pm",  # no such day
    " " * 200 + "3pm",  # only the first 200 characters are read
])
def test_unreadable_words_get_the_example(text):
    with pytest.raises(UnreadableTime) as refused:
        read_visit(text, WEDNESDAY, CHICAGO)
    message = str(refused.value)
    assert message.endswith(f"for example {EXAMPLE}.")
    assert "passed" not in message and "year" not in message


def test_the_200th_character_is_still_read():
    assert read_visit(" " * 197 + "3pm", WEDNESDAY, CHICAGO) == VisitTime(utc(3, 4, 21), None)


def test_more_than_a_year_away_is_refused():
    with pytest.raises(UnreadableTime) as refused:
        read_visit("12/9/2030 2pm", WEDNESDAY, CHICAGO)
    assert "more than a year away" in str(refused.value)
    assert f"for example {EXAMPLE}" in str(refused.value)


def test_unreadable_time_is_a_value_error():
    assert issubclass(UnreadableTime, ValueError)


@pytest.mark.parametrize("window_end, end", [
    (utc(3, 4, 23), utc(3, 4, 23)),  # the tenant's window ends after the start
    (utc(3, 5, 3), utc(3, 5, 3)),
    (utc(3, 4, 20), utc(3, 4, 22)),  # it ends at the start: two hours
    (utc(3, 4, 18), utc(3, 4, 22)),  # it ended before: two hours
    (None, utc(3, 4, 22)),  # no window: two hours
])
def test_visit_end_defaults(window_end, end):
    assert visit_end(utc(3, 4, 20), window_end) == end


@pytest.mark.parametrize("moment, tz, text", [
    (utc(12, 8, 15, 30), CHICAGO, "Tue Dec 8, 9:30 AM"),
    (utc(12, 8, 21), CHICAGO, "Tue Dec 8, 3 PM"),
    (utc(12, 8, 17, 30), LA, "Tue Dec 8, 9:30 AM"),
    (utc(12, 8, 20), LA, "Tue Dec 8, 12 PM"),
    (utc(12, 9, 8), LA, "Wed Dec 9, 12 AM"),
    (utc(7, 7, 14, 30), CHICAGO, "Tue Jul 7, 9:30 AM"),  # summer: CDT
    (utc(3, 4, 16, 10), CHICAGO, "Wed Mar 4, 10:10 AM"),  # ':10' kept, only ':00' dropped
    (utc(3, 4, 16, 5), CHICAGO, "Wed Mar 4, 10:05 AM"),
])
def test_local_text(moment, tz, text):
    assert local_text(moment, tz) == text


def test_choices_are_future_local_hours_inside_the_window():
    # window 9am-noon CST, said at 10:20: 11am only (noon is where the window ends)
    assert choices(utc(3, 4, 15), utc(3, 4, 18), utc(3, 4, 16, 20), CHICAGO) == [utc(3, 4, 17)]


def test_choices_start_on_the_hour_after_an_odd_window_start():
    # 9:30am-1pm PST, said the evening before: 10, 11, 12 (not 9:30)
    assert choices(utc(3, 4, 17, 30), utc(3, 4, 21), utc(3, 4, 3), LA) == [
        utc(3, 4, 18), utc(3, 4, 19), utc(3, 4, 20)]


def test_choices_are_on_the_local_hour_not_the_utc_hour():
    # India is UTC+5:30: local 10:00 and 11:00 are 04:30 and 05:30 UTC
    found = choices(utc(3, 4, 4), utc(3, 4, 6), utc(3, 4, 0), "Asia/Kolkata")
    assert found == [utc(3, 4, 4, 30), utc(3, 4, 5, 30)]


def test_choices_honour_the_limit_and_step():
    start, end = utc(3, 5, 14), utc(3, 6, 2)  # tomorrow 8am-8pm CST
    twelve = [start + timedelta(hours=n) for n in range(12)]  # 8am to 7pm; 8pm is the end
    assert choices(start, end, WEDNESDAY, CHICAGO) == twelve
    assert choices(start, end, WEDNESDAY, CHICAGO, limit=20) == twelve
    assert choices(start, end, WEDNESDAY, CHICAGO, limit=3) == [
        utc(3, 5, 14), utc(3, 5, 15), utc(3, 5, 16)]
    assert choices(start, end, WEDNESDAY, CHICAGO, step_minutes=30, limit=3) == [
        utc(3, 5, 14), utc(3, 5, 14, 30), utc(3, 5, 15)]


def test_a_choice_at_this_very_moment_is_not_ahead():
    assert choices(WEDNESDAY, utc(3, 4, 17), WEDNESDAY, CHICAGO) == [utc(3, 4, 16)]


@pytest.mark.parametrize("window", [(None, None), (utc(3, 4, 15), None), (None, utc(3, 4, 18)),
                                    (utc(3, 4, 10), utc(3, 4, 14))])  # the last is over
def test_no_choices_without_a_window_ahead(window):
    assert choices(*window, WEDNESDAY, CHICAGO) == []


@pytest.mark.parametrize("now, start, end, expected", [
    # spring forward: 1am CST, then 3am CDT; 2am does not exist
    (SPRING_EVE, utc(3, 8, 7), utc(3, 8, 9), [utc(3, 8, 7), utc(3, 8, 8)]),
    # fall back: midnight, 1am CDT, then 2am CST; the second 1am is not offered again
    (FALL_EVE, utc(11, 1, 5), utc(11, 1, 9), [utc(11, 1, 5), utc(11, 1, 6), utc(11, 1, 8)]),
])
def test_choices_across_a_clock_change(now, start, end, expected):
    found = choices(start, end, now, CHICAGO)
    assert found == expected
    assert all(local_text(moment, CHICAGO).endswith(" AM") for moment in found)
    assert len({local_text(moment, CHICAGO) for moment in found}) == len(found)
