"""Choosing vendors (CONTRACT.md §10): service areas, busy calendars, visits a day, insurance
and reliability, each alone and together, and the "who was considered" list that explains them.

The clock starts on Wednesday 4 March 2026, 09:00 in Chicago (CST, UTC-6).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from app.booking import loop, selection
from app.db import db, shown_sql
from app.models import Appointment, Ping, Property, Vendor
from tests.engine.conftest import CHICAGO, asked, events_of, fresh, pending


def local(day: int, hour: int, minute: int = 0) -> datetime:
    """A wall-clock moment of March 2026 in Chicago, as naive UTC (how times are stored)."""
    moment = datetime(2026, 3, day, hour, minute, tzinfo=ZoneInfo(CHICAGO))
    return moment.astimezone(UTC).replace(tzinfo=None)


def names(vendors: list[Vendor]) -> list[str]:
    return [vendor.name for vendor in vendors]


def why(ticket) -> dict[str, tuple[str, ...]]:
    """name → reasons the vendor is not asked (empty when they are); checks on the way that
    candidates() (its SQL rules as a WHERE) are exactly the considered vendors to ask."""
    seen = selection.considered(ticket)
    assert selection.candidates(ticket) == [s.vendor for s in seen if s.to_ask]
    return {s.vendor.name: s.reasons for s in seen}


@pytest.fixture
def postal(home):
    """postal(code): give the landlord's property a postal code (None: none)."""
    prop, _ = home

    def set_code(code: str | None) -> None:
        Property.update(postal_code=code).where(Property.id == prop.id).execute()

    return set_code


@pytest.fixture
def visit(intake):
    """visit(vendor, starts_at, hours=1, status=...): an appointment on a ticket of its own."""

    def make(vendor: Vendor, starts_at: datetime | None, hours: float | None = 1,
             status: str = "confirmed", **fields) -> Appointment:
        ends_at = starts_at + timedelta(hours=hours) if starts_at and hours else None
        return Appointment.create(ticket=intake(), vendor=vendor, starts_at=starts_at,
                                  ends_at=ends_at, status=status, confirmation_method="manual",
                                  **fields)

    return make


@pytest.fixture
def offers(intake, fake_clock):
    """offers(vendor, *outcomes): past offers of other jobs, oldest first, a minute apart."""

    def make(vendor: Vendor, *outcomes: str, start: datetime | None = None) -> list[Ping]:
        holder = intake()
        start = start or fake_clock.now - timedelta(days=1)
        return [Ping.create(ticket=holder, vendor=vendor, channel="sms", code=f"Q{n:03d}",
                            to_number="+15550100000", sent_at=start + timedelta(minutes=n),
                            expires_at=start + timedelta(minutes=n, seconds=30),
                            outcome=outcome)
                for n, outcome in enumerate(outcomes)]

    return make


# --- service areas ------------------------------------------------------------------------

@pytest.fixture
def areas(make_vendor) -> None:
    make_vendor("St Louis", service_areas=["631"])
    make_vendor("Clayton", service_areas=["63105"])
    make_vendor("London", service_areas=["sw1a", "E1"])
    make_vendor("Anywhere", service_areas=[])


@pytest.mark.parametrize("code, covered", [
    ("63130", ["St Louis", "Anywhere"]),
    ("63105-2201", ["St Louis", "Clayton", "Anywhere"]),
    ("SW1A 1AA", ["London", "Anywhere"]),  # case and spaces do not matter
    ("e1 6an", ["London", "Anywhere"]),
    ("90210", ["Anywhere"]),
    (None, ["St Louis", "Clayton", "London", "Anywhere"]),  # no code rules nobody out
    ("", ["St Louis", "Clayton", "London", "Anywhere"]),
])
def test_only_vendors_whose_areas_cover_the_property_are_asked(areas, postal, intake, code,
                                                               covered):
    postal(code)
    ticket = intake()
    assert names(selection.candidates(ticket)) == covered
    for name, reasons in why(ticket).items():
        assert (name in covered) == (not reasons), (name, reasons)


def test_an_out_of_area_vendor_is_never_asked_in_any_round(make_vendor, postal, intake, config):
    postal("63130")
    make_vendor("Far", service_areas=["902"], priority=1)
    make_vendor("Near", service_areas=["631"], priority=2)
    ticket = intake()
    loop.start(ticket.id, config)
    loop.decline(pending(ticket).id, config)
    assert fresh(ticket).status == "escalated"
    assert loop.redispatch(ticket.id, config, actor="landlord:1").vendor.name == "Near"
    assert [name for name, _ in asked(ticket)] == ["Near", "Near"]
    assert why(ticket)["Far"] == ("out of area (covers 902)",)


# --- busy calendars -----------------------------------------------------------------------

def test_a_routine_job_skips_vendors_with_a_visit_in_the_tenant_window(make_vendor, visit,
                                                                      intake):
    # "tomorrow 9-11am": Thursday 5 March, 09:00-11:00 in Chicago
    cases = {
        "Booked": dict(starts_at=local(5, 10), status="confirmed"),
        "Pencilled": dict(starts_at=local(5, 8, 30), status="tentative"),
        "Open-ended": dict(starts_at=local(5, 7, 30), hours=None),  # two hours: till 9:30
        "Yesterday": dict(starts_at=local(4, 9), hours=2),  # the day before, same hours
        "Before": dict(starts_at=local(5, 8), hours=1),  # ends as the window opens
        "After": dict(starts_at=local(5, 11), hours=2),  # starts as the window closes
        "Open-ended early": dict(starts_at=local(5, 6, 59), hours=None),  # till 8:59
        "Handed back": dict(starts_at=local(5, 10), status="cancelled"),
        "Done": dict(starts_at=local(5, 9), status="completed"),
        "No-show": dict(starts_at=local(5, 9), status="no_show"),
        "No time yet": dict(starts_at=None, status="tentative"),
    }
    for name, fields in cases.items():
        visit(make_vendor(name), **fields)
    make_vendor("Free")
    ticket = intake(window="tomorrow 9-11am")
    busy = {"Booked", "Pencilled", "Open-ended"}
    assert set(names(selection.candidates(ticket))) == set(cases) - busy | {"Free"}
    reasons = why(ticket)
    assert {name for name, r in reasons.items() if "busy then (another visit)" in r} == busy


def test_a_vendor_busy_yesterday_is_free_today(make_vendor, visit, intake, fake_clock):
    plumber = make_vendor("Plumber")
    visit(plumber, local(3, 9), hours=3)  # Tuesday 9-12
    emergency = intake(severity="emergency", window="now")  # Wednesday 09:00 → 11:00
    routine = intake(window="today 9am-noon")
    assert names(selection.candidates(emergency)) == ["Plumber"]
    assert names(selection.candidates(routine)) == ["Plumber"]
    visit(plumber, local(4, 10, 30))  # now a visit inside both
    assert selection.candidates(emergency) == [] and selection.candidates(routine) == []


def test_an_emergency_at_3am_asks_only_24_7_vendors_free_in_the_next_two_hours(
        make_vendor, visit, intake, fake_clock):
    fake_clock.set(local(4, 3))  # Wednesday 03:00 in Chicago
    make_vendor("Days", hours="9AM-6PM")
    visit(make_vendor("Night Call"), local(4, 4), hours=1)  # 04:00-05:00: inside the two hours
    visit(make_vendor("Early Start"), local(4, 5), hours=1)  # 05:00: just after them
    visit(make_vendor("Running Late"), local(4, 1, 30), hours=2)  # 01:30-03:30: still there
    make_vendor("Always")
    emergency = intake(severity="emergency", window="now")
    assert names(selection.candidates(emergency)) == ["Early Start", "Always"]
    reasons = why(emergency)
    assert reasons["Days"] == ("outside hours (Daily 09:00–18:00)",)
    assert reasons["Night Call"] == reasons["Running Late"] == ("busy then (another visit)",)

    routine = intake(window="tomorrow 9-11am")  # the same vendors, for tomorrow morning
    assert names(selection.candidates(routine)) == [
        "Days", "Night Call", "Early Start", "Running Late", "Always"]


def test_an_unreadable_window_cannot_make_anyone_busy(make_vendor, visit, intake):
    visit(make_vendor("Somewhere"), local(4, 14))
    ticket = intake(window="when my cat is out")
    assert names(selection.candidates(ticket)) == ["Somewhere"]


# --- visits a day ------------------------------------------------------------------------

def test_max_visits_per_day_counts_the_property_day_across_midnight(make_vendor, visit, intake):
    capped = make_vendor("Capped", max_visits_per_day=2)
    uncapped = make_vendor("Uncapped")
    for vendor in (capped, uncapped):
        visit(vendor, local(5, 21))  # Thursday 21:00 in Chicago (Friday 03:00 UTC)
        visit(vendor, local(5, 22, 30))  # Thursday 22:30 (Friday 04:30 UTC)
    visit(capped, local(5, 14), status="cancelled")  # not active: not counted
    thursday = intake(window="tomorrow 9-11am")
    friday = intake(window="Friday 9-11am")
    assert names(selection.candidates(thursday)) == ["Uncapped"]
    assert why(thursday)["Capped"] == ("day full (2 a day, reached on 2026-03-05)",)
    assert names(selection.candidates(friday)) == ["Capped", "Uncapped"]  # UTC's Friday

    visit(capped, local(6, 0, 30))  # Friday 00:30: Friday's first
    assert names(selection.candidates(friday)) == ["Capped", "Uncapped"]
    Vendor.update(max_visits_per_day=1).where(Vendor.id == capped.id).execute()
    assert names(selection.candidates(friday)) == ["Uncapped"]
    assert why(friday)["Capped"] == ("day full (1 a day, reached on 2026-03-06)",)


def test_the_day_limit_of_an_emergency_is_today_and_of_an_unreadable_window_the_report_day(
        make_vendor, visit, intake):
    visit(make_vendor("Capped", max_visits_per_day=1), local(4, 16))  # Wednesday afternoon
    assert selection.candidates(intake(severity="emergency", window="now")) == []
    assert selection.candidates(intake(window="whenever")) == []  # reported on Wednesday
    assert names(selection.candidates(intake(window="tomorrow 9-11am"))) == ["Capped"]


# --- insurance ----------------------------------------------------------------------------

def test_a_lapsed_vendor_is_not_asked_until_they_renew(make_vendor, intake, fake_clock):
    make_vendor("Lapsed", insurance_expires_at=date(2026, 3, 3))
    make_vendor("Last Day", insurance_expires_at=date(2026, 3, 4))
    make_vendor("Uninsured Record")  # no date given: nothing to hold against them
    ticket = intake()
    assert names(selection.candidates(ticket)) == ["Last Day", "Uninsured Record"]
    assert why(ticket)["Lapsed"] == ("insurance lapsed on 2026-03-03",)

    fake_clock.set(local(4, 23, 30))  # Thursday 05:30 UTC, still Wednesday in Chicago
    assert names(selection.candidates(ticket)) == ["Last Day", "Uninsured Record"]
    fake_clock.set(local(5, 0, 1))  # Thursday in Chicago: "Last Day" has lapsed too
    assert names(selection.candidates(ticket)) == ["Uninsured Record"]

    Vendor.update(insurance_expires_at=date(2027, 3, 5)).where(Vendor.name == "Lapsed").execute()
    assert names(selection.candidates(ticket)) == ["Lapsed", "Uninsured Record"]


# --- reliability --------------------------------------------------------------------------

@pytest.fixture
def crew(make_vendor, fake_clock) -> dict[str, Vendor]:
    """Flaky (offered longest ago, so first in rotation), Steady, and Backup of priority 2."""
    flaky = make_vendor("Flaky")
    steady = make_vendor("Steady")
    backup = make_vendor("Backup", priority=2)
    Vendor.update(last_offered_at=fake_clock.now - timedelta(days=3)).where(
        Vendor.id == flaky.id).execute()
    Vendor.update(last_offered_at=fake_clock.now - timedelta(days=2)).where(
        Vendor.id == steady.id).execute()
    return dict(flaky=flaky, steady=steady, backup=backup)


def test_three_timed_out_offers_put_a_vendor_last_in_its_priority_not_out(
        crew, offers, intake, config, bus):
    ticket = intake()
    assert names(selection.candidates(ticket)) == ["Flaky", "Steady", "Backup"]
    offers(crew["flaky"], "accepted", "timed_out", "timed_out")
    assert names(selection.candidates(ticket)) == ["Flaky", "Steady", "Backup"]  # two of three
    offers(crew["flaky"], "timed_out")
    assert names(selection.candidates(ticket)) == ["Steady", "Flaky", "Backup"]
    demoted = {seen.vendor.name: seen.demoted for seen in selection.considered(ticket)}
    assert demoted == {"Steady": None, "Flaky": "last 3 offers timed out", "Backup": None}

    loop.start(ticket.id, config)
    loop.decline(pending(ticket).id, config)
    assert pending(ticket).vendor.name == "Flaky"
    first, second = (event.data for event in events_of(ticket, "vendor.pinged"))
    assert "demoted" not in first and "demotedWhy" not in first
    assert second["demoted"] is True and second["demotedWhy"] == "last 3 offers timed out"


def test_the_last_three_offers_are_the_latest_sent_not_the_latest_written(crew, offers, intake,
                                                                         fake_clock):
    later = fake_clock.now - timedelta(hours=1)
    offers(crew["flaky"], "declined", start=later)  # written first, sent last
    offers(crew["flaky"], "timed_out", "timed_out", "timed_out")
    assert names(selection.candidates(intake())) == ["Flaky", "Steady", "Backup"]
    offers(crew["flaky"], "timed_out", "timed_out", "timed_out",
           start=later + timedelta(minutes=5))
    assert names(selection.candidates(intake())) == ["Steady", "Flaky", "Backup"]


def test_an_answered_offer_ends_the_demotion(crew, offers, intake):
    offers(crew["flaky"], "timed_out", "timed_out", "timed_out")
    ticket = intake()
    assert names(selection.candidates(ticket)) == ["Steady", "Flaky", "Backup"]
    offers(crew["flaky"], "declined", start=datetime(2026, 3, 4, 14, 0))
    assert names(selection.candidates(ticket)) == ["Flaky", "Steady", "Backup"]


def test_a_no_show_demotes_for_30_days(crew, visit, intake, fake_clock):
    missed = datetime(2026, 2, 22, 3, 0)  # 21 Feb, 21:00 in Chicago
    visit(crew["flaky"], missed - timedelta(hours=3), status="no_show", cancelled_at=missed)
    ticket = intake()
    assert names(selection.candidates(ticket)) == ["Steady", "Flaky", "Backup"]
    demoted = {seen.vendor.name: seen.demoted for seen in selection.considered(ticket)}
    assert demoted["Flaky"] == "no-show on 2026-02-21"

    fake_clock.set(missed + timedelta(days=30))
    assert names(selection.candidates(ticket)) == ["Steady", "Flaky", "Backup"]
    fake_clock.set(missed + timedelta(days=30, seconds=1))
    assert names(selection.candidates(ticket)) == ["Flaky", "Steady", "Backup"]


def test_both_demotions_are_named_and_rotation_holds_among_the_demoted(
        crew, offers, visit, intake, fake_clock):
    slow = crew["steady"]
    offers(crew["flaky"], "timed_out", "timed_out", "timed_out")
    offers(slow, "timed_out", "timed_out", "timed_out")
    visit(slow, local(1, 9), status="no_show", cancelled_at=local(1, 12))
    ticket = intake()
    assert names(selection.candidates(ticket)) == ["Flaky", "Steady", "Backup"]  # rotation
    demoted = {seen.vendor.name: seen.demoted for seen in selection.considered(ticket)}
    assert demoted["Steady"] == "last 3 offers timed out; no-show on 2026-03-01"


def test_a_demoted_vendor_is_still_asked_when_nobody_else_fits(crew, offers, intake, config,
                                                              bus):
    for vendor in (crew["steady"], crew["backup"]):
        Vendor.update(active=False).where(Vendor.id == vendor.id).execute()
    offers(crew["flaky"], "timed_out", "timed_out", "timed_out")
    ticket = intake()
    loop.start(ticket.id, config)
    assert pending(ticket).vendor.name == "Flaky"
    (pinged,) = events_of(ticket, "vendor.pinged")
    assert pinged.data["demoted"] is True


# --- together, and explained -------------------------------------------------------------

def test_the_considered_list_explains_every_vendor(make_vendor, visit, offers, postal, intake,
                                                  config, fake_clock):
    postal("63130")
    make_vendor("Ace", priority=1)
    make_vendor("Retired", active=False)
    make_vendor("Stopped", opted_out=True)
    make_vendor("Phoneless", phones=[])
    make_vendor("Sparky", specialties=["electrical"])
    make_vendor("Far", service_areas=["902"])
    make_vendor("Nights", hours="10PM-6AM")
    visit(make_vendor("Busy"), local(5, 9, 30))
    visit(make_vendor("Full", max_visits_per_day=1), local(5, 15))
    make_vendor("Lapsed", insurance_expires_at=date(2026, 1, 31))
    make_vendor("Far And Lapsed", service_areas=["902"], insurance_expires_at=date(2026, 1, 31))
    offers(make_vendor("Flaky", priority=2), "timed_out", "timed_out", "timed_out")
    make_vendor("Reserve", priority=2)
    ticket = intake(window="tomorrow 9-11am")
    loop.start(ticket.id, config)  # Ace holds the offer

    assert why(ticket) == {
        "Ace": ("already asked this round",),
        "Retired": ("retired",),
        "Stopped": ("opted out (texted STOP)",),
        "Phoneless": ("no phone number",),
        "Sparky": ("does not do plumbing",),
        "Far": ("out of area (covers 902)",),
        "Nights": ("outside hours (Daily 22:00–06:00)",),
        "Busy": ("busy then (another visit)",),
        "Full": ("day full (1 a day, reached on 2026-03-05)",),
        "Lapsed": ("insurance lapsed on 2026-01-31",),
        "Far And Lapsed": ("insurance lapsed on 2026-01-31", "out of area (covers 902)"),
        "Reserve": (),
        "Flaky": (),
    }
    seen = selection.considered(ticket)
    assert [s.vendor.name for s in seen][-2:] == ["Reserve", "Flaky"]  # demoted: last of 2
    assert names(selection.candidates(ticket)) == [s.vendor.name for s in seen if s.to_ask]


def test_a_visit_cancelled_on_this_ticket_is_explained(make_vendor, intake, config):
    make_vendor("Quitter")
    make_vendor("Other")
    ticket = intake()
    loop.start(ticket.id, config)
    Appointment.create(ticket=ticket, vendor=Vendor.get(Vendor.name == "Quitter"),
                       status="cancelled", confirmation_method="sms")
    assert why(ticket)["Quitter"] == ("visit for this job cancelled", "already asked this round")


def test_the_vendor_list_is_one_statement_whatever_the_number_of_vendors(
        make_vendor, visit, offers, intake, monkeypatch):
    statements: list[str] = []
    database = db.obj
    real = database.execute_sql

    def counting(sql, params=None, *args, **kwargs):
        statements.append(shown_sql(sql))  # a statement prepared on the server: its own SQL
        return real(sql, params, *args, **kwargs)

    def count_for(ticket, choose) -> int:
        statements.clear()
        monkeypatch.setattr(database, "execute_sql", counting)
        choose(ticket)
        monkeypatch.setattr(database, "execute_sql", real)
        return len([sql for sql in statements if 'FROM "vendor"' in sql])

    make_vendor("One")
    ticket = intake(window="tomorrow 9-11am")
    for choose in (selection.considered, selection.candidates):
        assert count_for(fresh(ticket), choose) == 1
    for n in range(12):
        vendor = make_vendor(f"Vendor {n}", max_visits_per_day=3)
        visit(vendor, local(5, 9 + n % 4))
        offers(vendor, "timed_out", "declined")
    for choose in (selection.considered, selection.candidates):
        assert count_for(fresh(ticket), choose) == 1
        assert len(statements) == 3  # the vendors, the round's start, the property
    for n in range(selection.FIRST_PAGE):
        make_vendor(f"More {n}")
    assert len(selection.candidates(fresh(ticket))) > selection.FIRST_PAGE
    count_for(fresh(ticket), selection.next_up)  # the first page holds someone to ask
    pages = [sql for sql in statements if 'FROM "vendor"' in sql and "OFFSET" in sql]
    assert len(pages) == 1
