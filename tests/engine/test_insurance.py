"""Insurance notices (§10): 30 and 7 days before a vendor's insurance expires, vendor and landlord
get one SMS each, once, from a deadline kept on the vendor row; a date set closer than a notice's
offset is told at once; a new date re-arms them. The fake clock starts Wed 4 Mar 2026, 09:00 in
Chicago; the landlord's first property is in Chicago (US daylight time from 8 Mar 2026)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from app import faults
from app.booking import insurance, sweep
from app.booking.vendors import update_vendor
from app.models import Event, Fault, Landlord, Message, Vendor

EXPIRES = date(2026, 4, 13)  # 40 days after the clock's start
AT_30 = datetime(2026, 3, 14, 14, 0)  # 09:00 CDT on Mar 14, 30 days before, in UTC
AT_7 = datetime(2026, 4, 6, 14, 0)  # 09:00 CDT on Apr 6, 7 days before


def notices() -> list[Message]:
    return list(Message.select().where(Message.dedupe_key.startswith("insurance:"))
                .order_by(Message.id))


def fresh(vendor: Vendor) -> Vendor:
    return Vendor.get_by_id(vendor.id)


def sweep_at(moment: datetime, fake_clock, config) -> int:
    fake_clock.set(moment)
    return sweep.run(config)["insurance_notices"]


@pytest.fixture
def insured(make_vendor):
    return make_vendor("Ann", insurance_expires_at=EXPIRES)


def test_the_first_notice_is_armed_when_the_date_is_set(insured):
    assert fresh(insured).insurance_notice_at == AT_30


def test_thirty_and_seven_days_before_each_tell_vendor_and_landlord_once(
        insured, fake_clock, config, bus, landlord):
    assert sweep_at(AT_30 - timedelta(seconds=1), fake_clock, config) == 0
    assert notices() == []

    assert sweep_at(AT_30, fake_clock, config) == 1
    to_vendor, to_landlord = notices()
    assert (to_vendor.recipient_type, to_vendor.recipient_id) == ("vendor", insured.id)
    assert to_vendor.to_number == insured.phones[0] and to_vendor.ticket_id is None
    assert to_vendor.body == ("Fixline: your insurance on file expires Apr 13, 2026. Send your "
                              "renewed certificate to Lana Lord to keep getting jobs.")
    assert (to_landlord.recipient_type, to_landlord.to_number) == ("landlord", landlord.phone)
    assert to_landlord.body == ("Fixline: Ann's insurance expires Apr 13, 2026 (in 30 days). "
                                "After that they are not sent jobs.")
    [event] = Event.select().where(Event.type == "vendor.insurance_expiring")
    assert event.ticket_id is None and event.landlord_id == landlord.id
    assert event.data["daysLeft"] == 30 and event.data["vendorId"] == insured.id
    assert fresh(insured).insurance_notice_at == AT_7

    assert sweep_at(AT_30 + timedelta(hours=1), fake_clock, config) == 0  # twice: nothing twice
    assert sweep_at(AT_7 - timedelta(seconds=1), fake_clock, config) == 0
    assert len(notices()) == 2

    assert sweep_at(AT_7, fake_clock, config) == 1
    assert [m.body for m in notices()[2:]] == [
        "Fixline: your insurance on file expires Apr 13, 2026. Send your renewed certificate "
        "to Lana Lord to keep getting jobs.",
        "Fixline: Ann's insurance expires Apr 13, 2026 (in 7 days). After that they are not "
        "sent jobs."]
    assert fresh(insured).insurance_notice_at is None  # none left
    for later in (AT_7 + timedelta(minutes=1), datetime(2026, 4, 14, 15, 0)):
        assert sweep_at(later, fake_clock, config) == 0
    assert len(notices()) == 4
    assert [e.data["daysLeft"] for e in Event.select().where(
        Event.type == "vendor.insurance_expiring").order_by(Event.id)] == [30, 7]


def test_notify_twice_at_once_sends_once(insured, fake_clock, bus):
    fake_clock.set(AT_30)
    assert insurance.notify(insured.id) is True
    assert insurance.notify(insured.id) is False
    assert len(notices()) == 2
    assert Event.select().where(Event.type == "vendor.insurance_expiring").count() == 1


def test_a_date_inside_thirty_days_is_told_at_once_then_seven_days_before(
        make_vendor, fake_clock, config, bus):
    ann = make_vendor("Ann", insurance_expires_at=date(2026, 3, 14))  # in 10 days
    assert fresh(ann).insurance_notice_at == datetime(2026, 2, 12, 15, 0)  # owed: 30 days before
    assert sweep_at(fake_clock.now, fake_clock, config) == 1
    assert ["(in 10 days)" in m.body for m in notices()] == [False, True]
    assert fresh(ann).insurance_notice_at == datetime(2026, 3, 7, 15, 0)  # 09:00 CST, Mar 7
    assert sweep_at(datetime(2026, 3, 7, 14, 59), fake_clock, config) == 0
    assert sweep_at(datetime(2026, 3, 7, 15, 0), fake_clock, config) == 1
    assert ["(in 7 days)" in m.body for m in notices()] == [False, False, False, True]
    assert fresh(ann).insurance_notice_at is None


def test_a_date_inside_seven_days_is_told_once_at_once(make_vendor, fake_clock, config, bus):
    ann = make_vendor("Ann", insurance_expires_at=date(2026, 3, 7))  # in 3 days
    assert fresh(ann).insurance_notice_at == datetime(2026, 2, 28, 15, 0)  # owed: 7 days before
    for day in range(5):
        sweep_at(datetime(2026, 3, 4 + day, 15, 0), fake_clock, config)
    assert ["(in 3 days)" in m.body for m in notices()] == [False, True]
    assert fresh(ann).insurance_notice_at is None


def test_a_lapsed_date_is_told_nothing(make_vendor, fake_clock, config, bus):
    ann = make_vendor("Ann", insurance_expires_at=date(2026, 3, 3))  # yesterday
    assert fresh(ann).insurance_notice_at is None
    assert sweep_at(fake_clock.now, fake_clock, config) == 0
    assert notices() == []


def test_a_new_date_re_arms_the_notices(insured, fake_clock, config, bus):
    assert sweep_at(AT_30, fake_clock, config) == 1
    renewed = date(2027, 4, 13)
    update_vendor(fresh(insured), {"insurance_expires_at": renewed})
    assert fresh(insured).insurance_notice_at == datetime(2027, 3, 14, 14, 0)
    assert sweep_at(datetime(2027, 3, 14, 14, 0), fake_clock, config) == 1
    assert "expires Apr 13, 2027 (in 30 days)" in notices()[-1].body
    assert len(notices()) == 4


def test_the_same_date_again_changes_no_deadline(insured, fake_clock, bus):
    fake_clock.set(AT_30 + timedelta(minutes=5))  # the 30-day notice is due, not yet swept
    update_vendor(fresh(insured), {"insurance_expires_at": EXPIRES, "priority": 2})
    assert fresh(insured).insurance_notice_at == AT_30
    assert insurance.notify(insured.id) is True


def test_clearing_the_date_clears_the_deadline(insured, fake_clock, config, bus):
    update_vendor(fresh(insured), {"insurance_expires_at": None})
    assert fresh(insured).insurance_notice_at is None
    assert sweep_at(AT_30, fake_clock, config) == 0


def test_a_late_sweep_sends_only_the_nearest_notice_and_none_after_expiry(
        make_vendor, fake_clock, config, bus):
    ann = make_vendor("Ann", insurance_expires_at=EXPIRES)
    bob = make_vendor("Bob", insurance_expires_at=date(2026, 4, 12))
    # The sweep was down from before either vendor's 30-day notice until after Bob's expiry.
    assert sweep_at(datetime(2026, 4, 13, 16, 0), fake_clock, config) == 1
    [to_ann, to_landlord] = notices()
    # The text tells the truth about today, not the notice's nominal seven days.
    assert to_ann.recipient_id == ann.id and "Apr 13, 2026 (today)" in to_landlord.body
    [event] = Event.select().where(Event.type == "vendor.insurance_expiring")
    assert event.data["daysLeft"] == 0
    assert fresh(ann).insurance_notice_at is None and fresh(bob).insurance_notice_at is None


def test_a_retired_vendor_is_not_told(insured, fake_clock, config, bus):
    update_vendor(fresh(insured), {"active": False})
    assert sweep_at(AT_30, fake_clock, config) == 0
    assert notices() == [] and fresh(insured).insurance_notice_at == AT_7


def test_a_landlord_without_properties_keeps_utc_days(fake_clock, bus, config):
    from app.booking.vendors import create_vendor

    alone = Landlord.create(name="Al Lone", email="al@example.com", phone="+15550003333")
    vendor = create_vendor(alone, dict(name="Cy", phones=["+15550104444"],
                                       specialties=["lock"], insurance_expires_at=EXPIRES))
    assert fresh(vendor).insurance_notice_at == datetime(2026, 3, 14, 9, 0)  # 09:00 UTC
    assert insurance.landlord_zone(alone.id) == ZoneInfo("UTC")


def test_a_failing_notice_is_the_landlords_fault_row(insured, fake_clock, config, bus,
                                                      monkeypatch, landlord):
    def broken(*args, **kwargs):
        raise RuntimeError("carrier said no")

    monkeypatch.setattr(insurance, "_tell", broken)
    assert sweep_at(AT_30, fake_clock, config) == 0
    fault = Fault.get(Fault.kind == "insurance", Fault.row_id == insured.id)
    assert fault.landlord_id == landlord.id and fault.ticket_id is None
    assert "Ann" in faults.describe(fault)
    assert fresh(insured).insurance_notice_at == AT_30  # rolled back: tried again later
    monkeypatch.undo()
    assert sweep_at(AT_30 + timedelta(seconds=faults.BACKOFF_SECONDS[0]), fake_clock,
                    config) == 1
    assert not Fault.select().where(Fault.kind == "insurance").exists()


@pytest.mark.parametrize("expires,standing", [
    (date(2026, 3, 3), "lapsed"), (date(2026, 3, 4), "soon"), (date(2026, 4, 3), "soon"),
    (date(2026, 4, 4), None), (None, None),
])
def test_standing_marks_lapsed_and_soon(expires, standing):
    assert insurance.standing(expires, date(2026, 3, 4)) == standing


def test_today_is_the_landlords_day(insured, fake_clock, landlord):
    fake_clock.set(datetime(2026, 3, 5, 3, 0))  # 21:00 on Mar 4 in Chicago, Mar 5 in UTC
    assert insurance.today(insurance.landlord_zone(landlord.id)) == date(2026, 3, 4)
