"""The ticket page's "who was considered" list: every vendor, and why they are or are not asked."""

from __future__ import annotations

import re
from datetime import date, datetime
from html import unescape

import pytest

from app import clock
from app.models import Appointment, Property, Vendor

WEDNESDAY_3AM = datetime(2026, 3, 4, 9, 0)  # 03:00 in Chicago: only 24/7 vendors work


@pytest.fixture
def night(app):
    clock.set_fake(WEDNESDAY_3AM)
    yield WEDNESDAY_3AM
    clock.set_fake(None)


def considered_items(html: str) -> dict[str, str]:
    """vendor name → the text of its line in the list."""
    section = html.split('id="considered-heading"', 1)[1].split("</section>", 1)[0]
    items = re.findall(r"<li>(.*?)</li>", section, re.S)
    text = [" ".join(unescape(re.sub(r"<[^>]+>", " ", item)).split()) for item in items]
    return {line.split(" · ")[0]: line for line in text}


def test_the_ticket_page_says_why_each_vendor_is_or_is_not_asked(
        landlord_client, seeded, make_ticket, night):
    Vendor.update(insurance_expires_at=date(2026, 3, 1)).where(
        Vendor.name == "Quick Fix Electrical").execute()
    ticket = make_ticket(seeded, "new", category="electrical", severity="emergency",
                         window="now")
    html = landlord_client.get(f"/tickets/{ticket.id}").get_data(as_text=True)
    items = considered_items(html)
    assert list(items) == ["Acme Plumbing", "Quick Fix Electrical", "Emergency Handyman",
                           "HVAC Solutions", "Lock & Key Pro"]  # the order they are asked in
    assert items["Emergency Handyman"].endswith("will be asked")
    assert items["Quick Fix Electrical"] == (
        "Quick Fix Electrical · priority 1 — insurance lapsed on 2026-03-01; "
        "outside hours (Daily 08:00–17:00)")
    assert "does not do electrical" in items["Acme Plumbing"]
    assert "Lock &amp; Key Pro" in html  # escaped like every name


def test_a_demoted_vendor_is_marked_on_the_page(landlord_client, seeded, make_ticket, night):
    handyman = Vendor.get(Vendor.name == "Emergency Handyman")
    holder = make_ticket(seeded, "new")
    Appointment.create(ticket=holder, vendor=handyman, status="no_show",
                       confirmation_method="sms", cancelled_at=datetime(2026, 3, 2, 18, 0))
    ticket = make_ticket(seeded, "new", category="plumbing", severity="emergency", window="now")
    items = considered_items(
        landlord_client.get(f"/tickets/{ticket.id}").get_data(as_text=True))
    assert items["Emergency Handyman"] == (
        "Emergency Handyman · priority 1 — will be asked demoted: no-show on 2026-03-02")


def test_a_routine_job_at_night_says_when_each_vendor_will_be_asked(
        landlord_client, seeded, make_ticket, night):
    """Off work now but free in the tenant's window: to be asked, from when their hours begin
    (next_up's own test, not a second copy of it)."""
    ticket = make_ticket(seeded, "new", category="plumbing", severity="routine",
                         window="anytime")
    items = considered_items(
        landlord_client.get(f"/tickets/{ticket.id}").get_data(as_text=True))
    assert items["Acme Plumbing"] == (
        "Acme Plumbing · priority 1 — will be asked when their hours begin, Mar 4, 2026 09:00 CST")
    assert items["Emergency Handyman"].endswith("will be asked")  # 24/7: at work now


def test_the_page_names_area_busy_and_opted_out_too(landlord_client, seeded, make_ticket,
                                                   night):
    """The rules the first test does not show, on the page as considered() gives them."""
    ticket = make_ticket(seeded, "new", category="plumbing", severity="emergency", window="now")
    Property.update(postal_code="63130").where(Property.id == ticket.property_id).execute()
    Vendor.update(service_areas=["620"]).where(Vendor.name == "Acme Plumbing").execute()
    Vendor.update(opted_out=True).where(Vendor.name == "Quick Fix Electrical").execute()
    handyman = Vendor.get(Vendor.name == "Emergency Handyman")
    holder = make_ticket(seeded, "scheduled", category="lock")
    Appointment.create(ticket=holder, vendor=handyman, status="confirmed",
                       confirmation_method="sms", starts_at=WEDNESDAY_3AM,
                       ends_at=datetime(2026, 3, 4, 12, 0))
    items = considered_items(
        landlord_client.get(f"/tickets/{ticket.id}").get_data(as_text=True))
    assert "out of area (covers 620)" in items["Acme Plumbing"]
    assert "opted out (texted STOP)" in items["Quick Fix Electrical"]
    assert "busy then (another visit)" in items["Emergency Handyman"]


@pytest.mark.parametrize("status, says", [
    ("scheduled", "Nobody is asked now: a vendor is booked for this job."),
    ("completed", "Nobody is asked now: the ticket is completed."),
    ("cancelled", "Nobody is asked now: the ticket is cancelled."),
])
def test_a_booked_or_closed_ticket_lists_nobody_to_ask(landlord_client, seeded, make_ticket,
                                                       night, status, says):
    ticket = make_ticket(seeded, status, category="plumbing")
    html = landlord_client.get(f"/tickets/{ticket.id}").get_data(as_text=True)
    section = html.split('id="considered-heading"', 1)[1].split("</section>", 1)[0]
    assert says in " ".join(unescape(re.sub(r"<[^>]+>", " ", section)).split())
    assert considered_items(html) == {} and "will be asked" not in section
