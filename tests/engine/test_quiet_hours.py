"""A landlord's quiet hours (§10): routine notices to the landlord wait until they end, in the
property's time zone; an emergency's never wait; tenants and vendors are never held."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

import pytest

from app.booking import loop, sweep
from app.config import Config, ConfigError
from app.messaging.quiet import quiet_until
from app.models import Message
from tests.engine.conftest import events_of

NIGHT = (21 * 60, 8 * 60)


@pytest.mark.parametrize("now, expected", [
    (datetime(2026, 3, 5, 3, 0), datetime(2026, 3, 5, 14, 0)),  # 21:00 CST → 08:00 CST
    (datetime(2026, 3, 5, 5, 59), datetime(2026, 3, 5, 14, 0)),  # 23:59 CST, same night
    (datetime(2026, 3, 5, 12, 0), datetime(2026, 3, 5, 14, 0)),  # 06:00 CST, same morning
    (datetime(2026, 3, 5, 14, 0), None),  # 08:00: over
    (datetime(2026, 3, 5, 2, 59), None),  # 20:59: not yet
    # The night the clocks go forward (Sun 8 Mar 2026): 08:00 CDT is 13:00 UTC.
    (datetime(2026, 3, 8, 7, 0), datetime(2026, 3, 8, 13, 0)),
    # The night the clocks go back (Sun 1 Nov 2026, 01:00-02:00 twice): 08:00 CST is 14:00 UTC.
    (datetime(2026, 11, 1, 2, 0), datetime(2026, 11, 1, 14, 0)),  # Sat 21:00 CDT
    (datetime(2026, 11, 1, 6, 30), datetime(2026, 11, 1, 14, 0)),  # 01:30 CDT, the first time
    (datetime(2026, 11, 1, 7, 30), datetime(2026, 11, 1, 14, 0)),  # 01:30 CST, the second time
    (datetime(2026, 11, 1, 13, 59), datetime(2026, 11, 1, 14, 0)),  # 07:59 CST
    (datetime(2026, 11, 1, 14, 0), None),  # 08:00 CST: over
    (datetime(2026, 11, 2, 2, 59), None),  # Sun 20:59 CST: not yet
    (datetime(2026, 11, 2, 3, 0), datetime(2026, 11, 2, 14, 0)),  # Sun 21:00 CST → Mon 08:00
])
def test_quiet_until_in_the_propertys_zone_across_midnight_and_dst(now, expected):
    assert quiet_until(now, "America/Chicago", NIGHT) == expected


def test_quiet_hours_ending_in_the_repeated_hour_end_after_now():
    now = datetime(2026, 11, 1, 7, 10)  # Sun 1 Nov 01:10 CST, the second time 01:10 comes
    assert quiet_until(now, "America/Chicago", (21 * 60, 90)) == datetime(2026, 11, 1, 7, 30)


def test_a_span_inside_one_day_and_none():
    assert quiet_until(datetime(2026, 3, 5, 19, 0), "UTC", (12 * 60, 20 * 60)) == datetime(
        2026, 3, 5, 20, 0)
    assert quiet_until(datetime(2026, 3, 5, 21, 0), "UTC", (12 * 60, 20 * 60)) is None
    assert quiet_until(datetime(2026, 3, 5, 3, 0), "America/Chicago", None) is None


@pytest.mark.parametrize("raw, span", [("21:00-08:00", NIGHT), (" 22:30 - 7:15 ", (1350, 435)),
                                       ("", None)])
def test_the_setting_is_read(raw, span):
    assert Config.from_env({"LANDLORD_QUIET_HOURS": raw}).landlord_quiet_hours == span
    assert Config.from_env({}).landlord_quiet_hours == NIGHT


@pytest.mark.parametrize("raw", ["9pm-8am", "21:00", "25:00-08:00", "08:00-08:00"])
def test_a_bad_setting_is_refused_with_an_example(raw):
    with pytest.raises(ConfigError, match="21:00-08:00"):
        Config.from_env({"LANDLORD_QUIET_HOURS": raw})


@pytest.fixture
def quiet(config):
    return replace(config, landlord_quiet_hours=NIGHT)


def _to(kind: str, ticket) -> list[Message]:
    return list(Message.select().where(Message.ticket == ticket, Message.recipient_type == kind,
                                       Message.direction == "outbound", Message.channel == "sms"))


@pytest.mark.parametrize("severity, held", [("routine", True), ("emergency", False)])
def test_a_night_escalation_reaches_the_landlord_at_eight_unless_an_emergency(
        bus, quiet, fake_clock, intake, severity, held):
    bus.config = quiet
    fake_clock.set(datetime(2026, 3, 5, 4, 30))  # Wed 22:30 in Chicago
    ticket = intake(severity=severity, category="pest")  # nobody does pest: escalates at once
    loop.start(ticket.id, quiet)
    assert events_of(ticket, "ticket.escalated")
    bus.settle()
    [landlord] = _to("landlord", ticket)
    [tenant] = _to("tenant", ticket)
    assert tenant.status == "stored"  # tenants are never held
    if not held:
        assert landlord.status == "stored"
        return
    assert (landlord.status, landlord.send_after) == ("queued", datetime(2026, 3, 5, 14, 0))
    fake_clock.set(datetime(2026, 3, 5, 13, 59))
    sweep.run(quiet)
    bus.deliver()
    assert Message.get_by_id(landlord.id).status == "queued"  # 07:59: still quiet
    fake_clock.set(datetime(2026, 3, 5, 14, 0, 31))
    assert sweep.run(quiet)["resent"] == 1
    assert bus.deliver() == ["stored"]
    assert Message.get_by_id(landlord.id).status == "stored"


@pytest.mark.parametrize("at, held_until", [
    (datetime(2026, 3, 5, 9, 0), None),  # 09:00 in London (GMT): awake, though 03:00 in Chicago
    (datetime(2026, 3, 5, 7, 0), datetime(2026, 3, 5, 8, 0)),  # 07:00 in London: until 08:00
])
def test_a_notice_about_no_ticket_keeps_the_landlords_own_quiet_hours(
        bus, quiet, fake_clock, landlord, at, held_until):
    """An insurance notice has no ticket: its quiet hours are on the landlord's clock (their
    first property's zone, as the notice's own day), not a default zone."""
    from app.messaging import outbound
    from app.models import Property

    Property.update(timezone="Europe/London").where(Property.landlord == landlord).execute()
    bus.config = quiet
    fake_clock.set(at)
    message = outbound.queue(landlord=landlord.id, to=landlord.phone, body="Fixline: a notice",
                             recipient=("landlord", landlord.id))
    bus.deliver()
    message = Message.get_by_id(message.id)
    if held_until is None:
        assert message.status == "stored"
    else:
        assert (message.status, message.send_after) == ("queued", held_until)
