"""Rounds of asking (CONTRACT.md §10): routine offers inside working hours, the silent asked
again after a pause, escalation only when the rules say; on a fake clock, across midnight and
daylight saving time."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from app.booking import loop, rounds, selection, sweep
from app.booking.hours import next_open, parse_hours
from app.models import Event, Ticket
from app.web.report_progress import progress
from tests.engine.conftest import CHICAGO, asked, events_of, fresh, messages_to, pending

WED_11PM = datetime(2026, 3, 5, 5, 0)  # Wed 4 Mar 2026, 23:00 in Chicago (CST, UTC-6)
THU_8AM = datetime(2026, 3, 5, 14, 0)  # Thu 5 Mar, 08:00 CST
SAT_11PM_BEFORE_DST = datetime(2026, 3, 8, 5, 0)  # Sat 7 Mar 23:00 CST; clocks spring forward
MON_8AM_CDT = datetime(2026, 3, 9, 13, 0)  # Mon 9 Mar 08:00 CDT (UTC-5)
SAT_11PM_BEFORE_FALL_BACK = datetime(2026, 11, 1, 4, 0)  # Sat 31 Oct 23:00 CDT; clocks go back
SUN_8AM_CST = datetime(2026, 11, 1, 14, 0)  # Sun 1 Nov 08:00 CST (UTC-6): 02:00 CDT was 01:00 CST


def sweep_until(bus, config, fake_clock, moment: datetime, step: int = 5) -> None:
    """Sweep every step seconds until moment, running what the sweep hands to workers."""
    while fake_clock.now < moment:
        fake_clock.advance(min(step, (moment - fake_clock.now).total_seconds()))
        sweep.run(config)
        bus.settle()


def lapse_all(bus, config, fake_clock) -> None:
    """Let the open offer time out, and run what follows."""
    fake_clock.advance(config.vendor_reply_timeout + 1)
    sweep.run(config)
    bus.settle()


# -- hours.next_open --------------------------------------------------------------------


@pytest.mark.parametrize("hours, now, opens", [
    ("Mon-Fri 8AM-5PM", WED_11PM, THU_8AM),  # across midnight
    ("Mon-Fri 8AM-5PM", datetime(2026, 3, 4, 16, 0), datetime(2026, 3, 4, 16, 0)),  # open now
    ("Mon-Fri 8AM-5PM", datetime(2026, 3, 7, 5, 0), MON_8AM_CDT),  # Fri 11pm → Mon, past DST
    ("10PM-6AM", datetime(2026, 3, 4, 18, 0), datetime(2026, 3, 5, 4, 0)),  # opens tonight
    ("Sun 2AM-4AM", datetime(2026, 3, 8, 6, 0), datetime(2026, 3, 8, 8, 0)),  # 2am skipped: 3am
    ("closed", WED_11PM, None),
    # The night the clocks go back (Sun 1 Nov 2026, 02:00 CDT → 01:00 CST): 01:00-02:00 twice.
    ("Mon-Fri 8AM-5PM", datetime(2026, 10, 31, 4, 0), datetime(2026, 11, 2, 14, 0)),  # Fri 11pm
    ("8AM-5PM", SAT_11PM_BEFORE_FALL_BACK, SUN_8AM_CST),  # 8am CST, not 13:00 UTC (8am CDT)
    ("10PM-6AM", datetime(2026, 10, 31, 22, 0), datetime(2026, 11, 1, 3, 0)),  # 10pm CDT tonight
    ("Sun 1AM-4AM", datetime(2026, 11, 1, 5, 30), datetime(2026, 11, 1, 6, 0)),  # the first 1am
    ("Sun 1AM-4AM", datetime(2026, 11, 1, 7, 30), datetime(2026, 11, 1, 7, 30)),  # 1:30 CST: open
    ("Sun 2AM-4AM", datetime(2026, 11, 1, 6, 30), datetime(2026, 11, 1, 8, 0)),  # 2am comes once
    ("Mon-Fri 8AM-5PM", datetime(2026, 11, 2, 15, 0), datetime(2026, 11, 2, 15, 0)),  # open now
    # inside the repeated hour (01:10 CST, the second 1am), 1:30 comes again 20 minutes on
    ("Sun 1:30AM-4AM", datetime(2026, 11, 1, 7, 10), datetime(2026, 11, 1, 7, 30)),
])
def test_next_open_finds_the_first_moment_the_hours_begin(hours, now, opens):
    schedule = parse_hours(hours) if hours != "closed" else []
    assert next_open(schedule, now, CHICAGO) == opens


# -- routine offers only inside working hours ------------------------------------------------


def test_a_routine_job_at_night_waits_for_the_vendors_hours_then_asks(
        bus, make_vendor, intake, config, fake_clock, landlord):
    make_vendor("Day Plumber", hours="Mon-Fri 8AM-5PM")
    fake_clock.set(WED_11PM)
    ticket = intake()
    bus.run_events()

    assert asked(ticket) == []
    ticket = fresh(ticket)
    assert (ticket.status, ticket.dispatch_at) == ("dispatching", THU_8AM)
    [waiting] = events_of(ticket, rounds.WAITING)
    assert waiting.data == {"why": "hours", "startsAt": THU_8AM.isoformat()}
    shown = progress(ticket)
    assert (shown.state, shown.next_ask_at, shown.waits_for) == ("contacting", THU_8AM, "hours")
    assert messages_to("landlord", ticket) == []  # a dripping sink texts nobody at night

    sweep_until(bus, config, fake_clock, THU_8AM - timedelta(seconds=5), step=600)
    assert asked(ticket) == []  # nothing before the hours begin, and nothing twice
    assert len(events_of(ticket, rounds.WAITING)) == 1
    sweep_until(bus, config, fake_clock, THU_8AM + timedelta(seconds=5))
    assert asked(ticket) == [("Day Plumber", "pending")]
    assert fresh(ticket).dispatch_at is None


def test_the_open_vendor_is_asked_before_one_still_off_work(
        bus, make_vendor, intake, config, fake_clock):
    make_vendor("Sleeper", hours="Mon-Fri 8AM-5PM")
    make_vendor("Night Owl", hours="6PM-6AM", priority=2)
    fake_clock.set(WED_11PM)
    ticket = intake()
    bus.run_events()
    assert asked(ticket) == [("Night Owl", "pending")]
    lapse_all(bus, config, fake_clock)
    # Night Owl was silent; Sleeper is still to ask this round, at 8am.
    assert fresh(ticket).dispatch_at == THU_8AM
    sweep_until(bus, config, fake_clock, THU_8AM + timedelta(seconds=5), step=900)
    assert asked(ticket)[-1] == ("Sleeper", "pending")


def test_waiting_across_the_spring_forward_weekend_opens_at_8am_daylight_time(
        bus, make_vendor, intake, config, fake_clock):
    make_vendor("Weekday", hours="Mon-Fri 8AM-5PM")
    fake_clock.set(SAT_11PM_BEFORE_DST)
    ticket = intake(window="Monday 8am-noon")
    bus.run_events()
    assert fresh(ticket).dispatch_at == MON_8AM_CDT
    fake_clock.set(MON_8AM_CDT - timedelta(minutes=1))
    sweep.run(config)
    bus.settle()
    assert asked(ticket) == []
    fake_clock.set(MON_8AM_CDT)
    sweep.run(config)
    bus.settle()
    assert asked(ticket) == [("Weekday", "pending")]


def test_waiting_across_the_fall_back_night_opens_at_8am_standard_time(
        bus, make_vendor, intake, config, fake_clock):
    """Sat 31 Oct 23:00 CDT a routine job waits for a daily 8AM vendor; the clocks go back in
    the night, so 8am Sunday is 14:00 UTC (CST), an hour later than Saturday's offset says."""
    make_vendor("Daily", hours="8AM-5PM")
    fake_clock.set(SAT_11PM_BEFORE_FALL_BACK)
    ticket = intake()
    bus.run_events()
    assert asked(ticket) == []
    ticket = fresh(ticket)
    assert (ticket.status, ticket.dispatch_at) == ("dispatching", SUN_8AM_CST)
    [waiting] = events_of(ticket, rounds.WAITING)
    assert waiting.data == {"why": "hours", "startsAt": SUN_8AM_CST.isoformat()}
    shown = progress(ticket)
    assert (shown.next_ask_at, shown.waits_for) == (SUN_8AM_CST, "hours")

    # Through the night and the repeated 1am hour, past 13:00 UTC (08:00 by Saturday's CDT).
    sweep_until(bus, config, fake_clock, SUN_8AM_CST - timedelta(minutes=30), step=900)
    assert asked(ticket) == []
    sweep_until(bus, config, fake_clock, SUN_8AM_CST - timedelta(seconds=5), step=60)
    assert asked(ticket) == []
    assert len(events_of(ticket, rounds.WAITING)) == 1
    sweep_until(bus, config, fake_clock, SUN_8AM_CST + timedelta(seconds=5))
    assert asked(ticket) == [("Daily", "pending")]
    ping = pending(ticket)
    assert SUN_8AM_CST <= ping.sent_at <= SUN_8AM_CST + timedelta(seconds=5)
    assert fresh(ticket).dispatch_at is None


def test_an_emergency_never_waits_for_hours(bus, make_vendor, intake, config, fake_clock):
    make_vendor("Day Plumber", hours="Mon-Fri 8AM-5PM")
    make_vendor("Any Hour", hours="24/7", priority=2)
    fake_clock.set(WED_11PM)
    ticket = intake(severity="emergency", window="now")
    bus.run_events()
    assert asked(ticket) == [("Any Hour", "pending")]  # an emergency at 11pm: who works now
    assert fresh(ticket).dispatch_at is None


# -- rounds ------------------------------------------------------------------------------


@pytest.fixture
def two(make_vendor):
    return make_vendor("Ann"), make_vendor("Bob")


def test_the_silent_are_asked_again_after_the_pause_and_those_who_said_no_are_not(
        bus, two, intake, config, fake_clock, landlord):
    ticket = intake()
    bus.run_events()
    loop.decline(pending(ticket).id, config)  # Ann: NO
    bus.settle()
    lapse_all(bus, config, fake_clock)  # Bob: silent
    ticket = fresh(ticket)
    pause_ends = fake_clock.now + timedelta(seconds=config.round_pause)
    assert (ticket.status, ticket.round, ticket.dispatch_at) == ("dispatching", 2, pause_ends)
    [begun] = events_of(ticket, selection.ROUND_BEGUN)
    assert begun.data["round"] == 2 and begun.data["startsAt"] == pause_ends.isoformat()
    assert progress(ticket).waits_for == "round"
    assert messages_to("landlord", ticket) == []  # a routine job does not escalate yet

    sweep_until(bus, config, fake_clock, pause_ends - timedelta(seconds=1))
    assert asked(ticket) == [("Ann", "declined"), ("Bob", "timed_out")]
    sweep_until(bus, config, fake_clock, pause_ends + timedelta(seconds=1))
    assert asked(ticket) == [("Ann", "declined"), ("Bob", "timed_out"), ("Bob", "pending")]


def test_rounds_stop_at_dispatch_rounds_and_the_sla_then_escalates_a_routine_job(
        bus, two, intake, config, fake_clock):
    ticket = intake()
    bus.run_events()
    sweep_until(bus, config, fake_clock, fake_clock.now + timedelta(minutes=30), step=10)
    outcomes = asked(ticket)
    assert outcomes == [("Ann", "timed_out"), ("Bob", "timed_out")] * config.dispatch_rounds
    ticket = fresh(ticket)
    assert (ticket.status, ticket.round, ticket.dispatch_at) == (
        "dispatching", config.dispatch_rounds, None)
    fake_clock.set(ticket.escalate_at)
    sweep.run(config)
    bus.settle()
    assert fresh(ticket).status == "escalated"
    assert "not booked within" in fresh(ticket).escalation_reason


def test_a_routine_job_escalates_at_once_when_everyone_said_no(
        bus, two, intake, config, fake_clock):
    ticket = intake()
    bus.run_events()
    loop.decline(pending(ticket).id, config)
    lapse_all(bus, config, fake_clock)  # Bob silent: round 2 asks him again
    sweep_until(bus, config, fake_clock, fresh(ticket).dispatch_at + timedelta(seconds=1))
    loop.decline(pending(ticket).id, config)  # Bob: NO this time
    bus.settle()
    ticket = fresh(ticket)
    assert (ticket.status, ticket.escalation_reason) == ("escalated", loop.NOBODY_LEFT)
    assert ticket.dispatch_at is None


def test_an_emergency_escalates_once_everyone_was_asked_and_its_rounds_go_on_sooner(
        bus, two, intake, config, fake_clock):
    ticket = intake(severity="emergency", window="now")
    bus.run_events()
    lapse_all(bus, config, fake_clock)
    lapse_all(bus, config, fake_clock)
    ticket = fresh(ticket)
    assert (ticket.status, ticket.escalation_reason) == ("escalated", loop.NOBODY_LEFT)
    short_pause = timedelta(seconds=config.round_pause / rounds.EMERGENCY_PAUSE_SHARE)
    assert ticket.dispatch_at == fake_clock.now + short_pause
    sweep_until(bus, config, fake_clock, ticket.dispatch_at + timedelta(seconds=1))
    assert asked(ticket)[-1] == ("Ann", "pending")
    assert loop.accept(pending(ticket).id, "sms", config) == "booked"  # an escalated job books
    assert fresh(ticket).dispatch_at is None


def test_the_landlords_dispatch_again_does_not_wait_out_the_pause(
        bus, two, intake, config, fake_clock):
    ticket = intake()
    bus.run_events()
    lapse_all(bus, config, fake_clock)
    lapse_all(bus, config, fake_clock)
    assert fresh(ticket).dispatch_at is not None
    ping = loop.redispatch(ticket.id, config, actor="landlord:1")
    assert ping.vendor.name == "Ann" and fresh(ticket).dispatch_at is None


def test_resuming_twice_asks_once(bus, make_vendor, intake, config, fake_clock):
    make_vendor("Day Plumber", hours="Mon-Fri 8AM-5PM")
    fake_clock.set(WED_11PM)
    ticket = intake()
    bus.run_events()
    fake_clock.set(THU_8AM)
    assert loop.resume(ticket.id, config) is True
    assert loop.resume(ticket.id, config) is False
    assert asked(ticket) == [("Day Plumber", "pending")]


def test_booking_clears_the_wait(bus, two, intake, config, fake_clock):
    ticket = intake()
    bus.run_events()
    first = pending(ticket)
    lapse_all(bus, config, fake_clock)
    lapse_all(bus, config, fake_clock)
    assert fresh(ticket).dispatch_at is not None
    assert loop.accept(first.id, "sms", config) == "booked"  # a late YES during the pause
    ticket = fresh(ticket)
    assert (ticket.status, ticket.dispatch_at) == ("scheduled", None)
    assert not Ticket.select().where(Ticket.dispatch_at.is_null(False)).exists()
    assert Event.select().where(Event.type == "vendor.pinged").count() == 2
