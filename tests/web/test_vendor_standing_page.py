"""The vendors page of issue 11: areas, day limits and insurance marks, the 90-day scorecards
with a chart of answer times (a fixed number of queries however many vendors), the vendor
form's new fields, and the properties form's postal code and approval limits."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal
from html import unescape

import pytest

from app import clock
from app.booking import insurance
from app.booking.vendors import create_vendor, update_vendor
from app.db import db
from app.models import Appointment, Ping, Property, Tenant, Ticket, Vendor
from tests.web.forms import error_of

GOOD = {"name": "Drain Doctors", "phones": "+1 (314) 555-0100", "specialties": ["plumbing"],
        "hours": "24/7", "priority": "2", "preferred_channel": "sms", "active": "y"}


def submit(client, csrf_token, path: str, data: dict):
    return client.post(path, data={"csrf_token": csrf_token(client, "/vendors/"), **data})


def row_of(html: str, name: str) -> str:
    found = re.search(rf"<th scope=\"row\">{re.escape(name)}</th>.*?</tr>", html, re.S)
    assert found, f"no row for {name}"
    return found.group(0)


def vendor(landlord, name: str) -> Vendor:
    return Vendor.get(Vendor.landlord == landlord, Vendor.name == name)


def landlords_today(landlord):
    return insurance.today(insurance.landlord_zone(landlord.id))


def test_lapsed_and_soon_lapsing_insurance_is_marked(landlord_client, seeded):
    today = landlords_today(seeded)
    update_vendor(vendor(seeded, "Acme Plumbing"),
                  {"insurance_expires_at": today - timedelta(days=1)})
    update_vendor(vendor(seeded, "Quick Fix Electrical"),
                  {"insurance_expires_at": today + timedelta(days=10)})
    update_vendor(vendor(seeded, "HVAC Solutions"),
                  {"insurance_expires_at": today + timedelta(days=100)})
    html = landlord_client.get("/vendors/").get_data(as_text=True)
    lapsed = row_of(html, "Acme Plumbing")
    assert '<span class="badge lapsed">insurance lapsed</span>' in lapsed
    assert '<span class="badge warn">expires in 10 days</span>' in row_of(
        html, "Quick Fix Electrical")
    far = row_of(html, "HVAC Solutions")
    assert "badge lapsed" not in far and "badge warn" not in far
    assert (today + timedelta(days=100)).strftime("%b %-d, %Y") in far
    assert "none on file" in row_of(html, "Lock &amp; Key Pro")
    assert html.count("insurance lapsed") == 1


def test_areas_and_day_limits_are_shown(landlord_client, seeded):
    update_vendor(vendor(seeded, "Acme Plumbing"), {"service_areas": ["631", "63130"],
                                                    "max_visits_per_day": 4})
    html = landlord_client.get("/vendors/").get_data(as_text=True)
    acme = row_of(html, "Acme Plumbing")
    assert "<td>631, 63130</td>" in acme and "<td>4</td>" in acme
    other = row_of(html, "HVAC Solutions")
    assert "<td>anywhere</td>" in other and "<td>no limit</td>" in other


def _offers(landlord, who: Vendor, answers: list[int], timeouts: int = 0) -> None:
    prop = Property.select().where(Property.landlord == landlord).first()
    ticket = Ticket.create(landlord=landlord, property=prop,
                           tenant=Tenant.get(Tenant.property == prop), category="plumbing",
                           severity="routine", window="any time", status="dispatching")
    now = clock.now()
    for n, seconds in enumerate(answers + [None] * timeouts):
        sent = now - timedelta(hours=n + 1)
        Ping.create(ticket=ticket, vendor=who, channel="sms", code=f"Q{who.id}{n:03d}",
                    to_number="+15550000000", sent_at=sent, expires_at=sent + timedelta(minutes=1),
                    outcome="timed_out" if seconds is None else "accepted",
                    answered_at=None if seconds is None else sent + timedelta(seconds=seconds))
    done = now - timedelta(days=1)
    Appointment.create(ticket=ticket, vendor=who, status="completed", confirmation_method="sms",
                       completed_at=done, rating=4, rated_at=done)


def test_scorecards_and_the_answer_time_chart(landlord_client, seeded):
    acme = vendor(seeded, "Acme Plumbing")
    _offers(seeded, acme, [30, 90, 60], timeouts=1)
    html = landlord_client.get("/vendors/").get_data(as_text=True)
    card = re.search(rf'<tr id="scorecard-{acme.id}">(.*?)</tr>', html, re.S).group(1)
    cells = [unescape(c) for c in re.findall(r"<td>(.*?)</td>", card)]
    assert cells == ["4", "3", "0", "1", "75%", "1 min", "1", "0", "0", "1", "4.0 / 5"]
    hvac = vendor(seeded, "HVAC Solutions")
    empty = re.search(rf'<tr id="scorecard-{hvac.id}">(.*?)</tr>', html, re.S).group(1)
    assert [unescape(c) for c in re.findall(r"<td>(.*?)</td>", empty)] == [
        "0", "0", "0", "0", "—", "—", "0", "0", "0", "0", "—"]
    chart = re.search(r"<svg .*?</svg>", html, re.S).group(0)
    assert 'role="img"' in chart and "style=" not in chart and "<script" not in chart
    assert "Acme Plumbing: median answer in 1 min (3 answered)" in chart
    assert chart.count("<rect") == 1  # only vendors who answered get a bar
    assert "1 vendor with answers" in html


def test_the_page_costs_the_same_queries_for_more_vendors(landlord_client, seeded, monkeypatch):
    def page_statements() -> int:
        ran = []
        database = type(db.obj)
        real = database.execute_sql

        def counting(self, sql, params=None, *args, **kwargs):
            ran.append(sql)
            return real(self, sql, params, *args, **kwargs)

        with monkeypatch.context() as patch:
            patch.setattr(database, "execute_sql", counting)
            assert landlord_client.get("/vendors/").status_code == 200
        return len(ran)

    _offers(seeded, vendor(seeded, "Acme Plumbing"), [10])
    few = page_statements()
    for n in range(6):
        extra = create_vendor(seeded, dict(name=f"Extra {n}", phones=[f"+1314555020{n}"],
                                           specialties=["general"], hours="24/7",
                                           insurance_expires_at=landlords_today(seeded)))
        _offers(seeded, extra, [n + 5], timeouts=1)
    assert page_statements() == few


def test_the_vendor_form_takes_areas_limit_and_insurance(landlord_client, csrf_token, seeded):
    response = submit(landlord_client, csrf_token, "/vendors/new", {
        **GOOD, "service_areas": " 631, sw1a ,631,, 63130-1", "max_visits_per_day": "3",
        "insurance_expires_at": "2031-06-30"})
    assert response.status_code == 303, response.get_data(as_text=True)
    drain = vendor(seeded, "Drain Doctors")
    assert drain.service_areas == ["631", "SW1A", "63130-1"]
    assert drain.max_visits_per_day == 3 and drain.insurance_expires_at.isoformat() == "2031-06-30"
    assert drain.insurance_notice_at is not None
    form = landlord_client.get(f"/vendors/{drain.id}/edit").get_data(as_text=True)
    assert 'value="631, SW1A, 63130-1"' in form and 'value="2031-06-30"' in form
    assert re.search(r'id="max_visits_per_day"[^>]*value="3"', form)
    emptied = submit(landlord_client, csrf_token, f"/vendors/{drain.id}/edit", {
        **GOOD, "service_areas": "", "max_visits_per_day": "", "insurance_expires_at": ""})
    assert emptied.status_code == 303
    drain = Vendor.get_by_id(drain.id)
    assert drain.service_areas == [] and drain.max_visits_per_day is None
    assert drain.insurance_expires_at is None and drain.insurance_notice_at is None


@pytest.mark.parametrize(("field", "value", "message"), [
    ("service_areas", "631, 63!", "'63!' is not a postal-code prefix"),
    ("service_areas", "12345678901", "is not a postal-code prefix"),
    ("service_areas", ", ".join(str(n) for n in range(51)), "At most 50 service areas."),
    ("max_visits_per_day", "0", "Number must be between 1 and 50."),
    ("max_visits_per_day", "many", "Not a valid integer value."),
    ("insurance_expires_at", "30/06/2031", "Not a valid date value."),
])
def test_bad_vendor_fields_rerender_with_their_error(landlord_client, csrf_token, seeded,
                                                      field, value, message):
    response = submit(landlord_client, csrf_token, "/vendors/new", {**GOOD, field: value})
    assert response.status_code == 422
    assert message in error_of(response.get_data(as_text=True), field)
    assert not Vendor.select().where(Vendor.name == GOOD["name"]).exists()


HOUSE = {"address": "9 Oak Ave", "timezone": "America/Chicago"}


def test_the_property_form_takes_postal_code_and_limits(landlord_client, csrf_token, seeded):
    token = csrf_token(landlord_client, "/properties/new")
    response = landlord_client.post("/properties/new", data={
        **HOUSE, "csrf_token": token, "postal_code": " 63130 ", "approval_limit": "$1,250.5",
        "emergency_approval_limit": "0.10"})
    assert response.status_code == 303, response.get_data(as_text=True)
    prop = Property.get(Property.landlord == seeded, Property.address == "9 Oak Ave")
    assert prop.postal_code == "63130"
    assert prop.approval_limit == Decimal("1250.50")
    assert prop.emergency_approval_limit == Decimal("0.10")
    html = landlord_client.get("/properties/").get_data(as_text=True)
    row = row_of(html, "9 Oak Ave")
    assert '<td class="postal-code">63130</td>' in row
    assert "<td>$1,250.50</td>" in row and "<td>$0.10</td>" in row
    form = landlord_client.get(f"/properties/{prop.id}/edit").get_data(as_text=True)
    assert 'value="1250.50"' in form and 'value="0.10"' in form and 'value="63130"' in form
    cleared = landlord_client.post(f"/properties/{prop.id}/edit", data={
        **HOUSE, "csrf_token": token, "postal_code": "", "approval_limit": "",
        "emergency_approval_limit": ""})
    assert cleared.status_code == 303
    prop = Property.get_by_id(prop.id)
    assert (prop.postal_code, prop.approval_limit, prop.emergency_approval_limit) == (
        None, None, None)
    assert "no limit" in row_of(landlord_client.get("/properties/").get_data(as_text=True),
                                "9 Oak Ave")


@pytest.mark.parametrize(("field", "value", "message"), [
    ("approval_limit", "12.345", "The amount must have at most 2 decimals (cents)."),
    ("approval_limit", "lots", "Give an amount like 250 or 1,250.50."),
    ("emergency_approval_limit", "-5", "Give an amount like 250 or 1,250.50."),
    ("emergency_approval_limit", "2,000,000,000", "The amount must be between 0 and "
                                                  "1,000,000,000."),
    ("postal_code", "631#30", "Use letters, digits, spaces and hyphens"),
])
def test_bad_property_fields_rerender_with_their_error(landlord_client, csrf_token, seeded,
                                                        field, value, message):
    token = csrf_token(landlord_client, "/properties/new")
    response = landlord_client.post("/properties/new",
                                    data={**HOUSE, "csrf_token": token, field: value})
    assert response.status_code == 422
    assert message in error_of(response.get_data(as_text=True), field)
    assert not Property.select().where(Property.address == "9 Oak Ave").exists()
