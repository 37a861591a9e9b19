"""Which vendors are asked for a ticket, and in which order."""

from __future__ import annotations

from datetime import datetime

import pytest

from app import create_app
from app.booking import loop, selection
from app.booking.vendors import create_vendor
from app.db import db
from app.models import Vendor
from tests.engine.conftest import pending


def names(vendors: list[Vendor]) -> list[str]:
    return [vendor.name for vendor in vendors]


def test_only_vendors_of_the_ticket_category(make_vendor, intake):
    make_vendor("Plumber", specialties=["plumbing"])
    make_vendor("Sparky", specialties=["electrical"])
    make_vendor("Handy", specialties=["plumbing", "electrical", "hvac"])
    make_vendor("Cooler", specialties=["hvac"])

    assert names(selection.candidates(intake(category="plumbing"))) == ["Plumber", "Handy"]
    assert names(selection.candidates(intake(category="electrical"))) == ["Sparky", "Handy"]
    assert names(selection.candidates(intake(category="pest"))) == []


def test_unreachable_vendors_are_never_asked(make_vendor, intake, other_landlord):
    make_vendor("Reachable")
    make_vendor("Retired", active=False)
    make_vendor("Opted Out", opted_out=True)
    make_vendor("No Phone", phones=[])
    create_vendor(other_landlord, dict(name="Someone Else's", phones=["+15550209999"],
                                       specialties=["plumbing"], hours="24/7", priority=1))

    ticket = intake()
    assert names(selection.candidates(ticket)) == ["Reachable"]
    assert selection.next_vendor(ticket).name == "Reachable"


@pytest.fixture
def shifts(make_vendor) -> None:
    make_vendor("Days", hours="9AM-6PM")
    make_vendor("Weekdays", hours="Mon-Fri 8AM-5PM")
    make_vendor("Evenings", hours="5PM-10PM")
    make_vendor("Weekends", hours="Sat-Sun 9AM-5PM")
    make_vendor("Always", hours="24/7")


@pytest.mark.parametrize("utc_hour, working", [
    (9, ["Always"]),  # 03:00 in Chicago: only the 24/7 vendor is up
    (14, ["Weekdays", "Always"]),  # 08:30 in Chicago (14:30 UTC would be inside 9-6)
    (16, ["Days", "Weekdays", "Always"]),  # 10:00
    (23, ["Days", "Evenings", "Always"]),  # 17:00: weekdays shift is over
])
def test_an_emergency_asks_only_who_works_now_in_the_property_zone(
        shifts, intake, fake_clock, utc_hour, working):
    fake_clock.set(datetime(2026, 3, 4, utc_hour, 30 if utc_hour == 14 else 0))
    ticket = intake(severity="emergency", window="tomorrow 9-11am")  # no matter for emergencies
    assert names(selection.candidates(ticket)) == working


@pytest.mark.parametrize("window, fitting", [
    ("tomorrow 9-11am", ["Days", "Weekdays", "Always"]),  # Thursday morning
    ("Saturday 10am-noon", ["Days", "Weekends", "Always"]),
    ("tonight", ["Days", "Evenings", "Always"]),  # 17:00-23:00 meets 9-6 and 5-10, not 8-5
    ("today 3-4am", ["Always"]),
    ("whenever suits", ["Days", "Weekdays", "Evenings", "Weekends", "Always"]),
    ("when my cat is out", ["Days", "Weekdays", "Evenings", "Weekends", "Always"]),
])
def test_a_routine_job_asks_vendors_whose_hours_meet_the_tenant_window(
        shifts, intake, fake_clock, window, fitting):
    fake_clock.set(datetime(2026, 3, 4, 9, 0))  # 03:00: nobody's hours but 24/7 are now
    ticket = intake(severity="routine", window=window)
    assert names(selection.candidates(ticket)) == fitting


def test_priority_one_is_asked_first(make_vendor, intake):
    make_vendor("Second", priority=2)
    make_vendor("Third", priority=3)
    make_vendor("First", priority=1)
    assert names(selection.candidates(intake())) == ["First", "Second", "Third"]


def test_equal_priority_rotates_least_recently_offered_first(
        make_vendor, intake, config, fake_clock):
    make_vendor("Ann")
    make_vendor("Bob")
    make_vendor("Backup", priority=2)

    first = intake()
    loop.start(first.id, config)
    assert pending(first).vendor.name == "Ann"
    assert Vendor.get(Vendor.name == "Ann").last_offered_at == fake_clock.now

    fake_clock.advance(60)
    db.close()
    create_app(config)  # a restarted process: only the database remembers who went last
    second = intake()
    loop.start(second.id, config)
    assert pending(second).vendor.name == "Bob"

    fake_clock.advance(60)
    third = intake()
    assert names(selection.candidates(third)) == ["Ann", "Bob", "Backup"]
    loop.start(third.id, config)
    assert pending(third).vendor.name == "Ann"

    fake_clock.advance(60)
    fourth = intake()
    loop.start(fourth.id, config)
    assert pending(fourth).vendor.name == "Bob"  # offered a minute after Ann: not id order


def test_vendors_already_asked_for_the_ticket_are_skipped(make_vendor, intake, config):
    make_vendor("Ann")
    make_vendor("Bob")
    make_vendor("Cy")
    ticket, other = intake(), intake()
    loop.start(ticket.id, config)

    assert names(selection.candidates(ticket)) == ["Bob", "Cy"]  # Ann holds the offer
    loop.decline(pending(ticket).id, config)
    assert names(selection.candidates(ticket)) == ["Cy"]  # Bob holds it now; Ann said no
    assert names(selection.candidates(other)) == ["Cy", "Ann", "Bob"]  # least recently offered
    loop.decline(pending(ticket).id, config)
    loop.decline(pending(ticket).id, config)
    assert selection.next_vendor(ticket) is None
