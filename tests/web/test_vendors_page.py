"""Vendors: the list, and the create and edit forms with their inline validation."""

from __future__ import annotations

import re
from html import unescape

import pytest

from app.booking.vendors import create_vendor
from app.models import Vendor, VendorPhone

GOOD = {"name": "Drain Doctors", "phones": "+1 (314) 555-0100, 1 314 555 0101",
        "specialties": ["plumbing", "appliance"], "hours": "Mon-Fri 8AM-5PM", "priority": "2",
        "preferred_channel": "voice", "active": "y", "notes": "Ask for Dana"}


def submit(client, csrf_token, path: str, data: dict, **headers):
    token = csrf_token(client, "/vendors/")
    return client.post(path, data={"csrf_token": token, **data}, headers=headers)


@pytest.fixture
def theirs(other_landlord) -> Vendor:
    return create_vendor(other_landlord, dict(name="Their Secret Plumber", phones=["+15550009000"],
                                              specialties=["plumbing"], hours="24/7", priority=1))


@pytest.mark.parametrize("path", ["/vendors/", "/vendors/new", "/vendors/1/edit"])
def test_pages_need_login(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


def test_posts_need_login(client, csrf_token):
    token = csrf_token(client, "/login")
    for path in ("/vendors/new", "/vendors/validate/hours"):
        response = client.post(path, data={**GOOD, "csrf_token": token})
        assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert not Vendor.select().where(Vendor.name == GOOD["name"]).exists()


def test_list_shows_the_landlords_vendors_only(landlord_client, seeded, theirs):
    handyman = Vendor.get(Vendor.name == "Emergency Handyman")
    handyman.opted_out = True
    handyman.save()
    response = landlord_client.get("/vendors/")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "HX-Request" in response.headers["Vary"]
    for name in ("Acme Plumbing", "Quick Fix Electrical", "HVAC Solutions", "Lock &amp; Key Pro"):
        assert name in html
    assert "Their Secret Plumber" not in html and "+15550009000" not in html
    assert "Daily 09:00–18:00" in html  # Acme's 9AM-6PM, described
    assert "24/7" in html and "+1234567893" in html and "plumbing, electrical, hvac, lock" in html
    row = re.search(r"Emergency Handyman</th>.*?</tr>", html, re.S).group(0)
    assert '<span class="badge">opted out</span>' in row
    assert html.count("opted out") == 1
    assert "<caption>" in html and 'scope="col"' in html


def test_create_adds_the_vendor_to_the_list(landlord_client, csrf_token, seeded):
    response = submit(landlord_client, csrf_token, "/vendors/new", GOOD)
    assert response.status_code == 303 and response.headers["Location"] == "/vendors/"
    html = landlord_client.get("/vendors/").get_data(as_text=True)
    assert "Added Drain Doctors." in html and "Drain Doctors" in html
    assert "Mon–Fri 08:00–17:00" in html
    vendor = Vendor.get(Vendor.landlord == seeded, Vendor.name == "Drain Doctors")
    assert vendor.phones == ["+13145550100", "+13145550101"]
    assert vendor.specialties == ["plumbing", "appliance"]
    assert vendor.schedule[0] == [0, 480, 1020]
    assert (vendor.priority, vendor.preferred_channel, vendor.active) == (2, "voice", True)
    assert vendor.notes == "Ask for Dana"


def test_htmx_create_is_answered_303(landlord_client, csrf_token, seeded):
    response = submit(landlord_client, csrf_token, "/vendors/new", GOOD,
                      **{"HX-Request": "true", "HX-Boosted": "true"})
    assert response.status_code == 303


def test_create_without_csrf_token_is_refused(landlord_client, seeded):
    assert landlord_client.post("/vendors/new", data=GOOD).status_code == 400
    assert not Vendor.select().where(Vendor.name == GOOD["name"]).exists()


@pytest.mark.parametrize(("field", "value", "message"), [
    ("hours", "whenever", "could not read 'whenever'"),
    ("hours", "Mon-Fri", "'Mon-Fri' has no hours after it"),
    ("phones", "+1 314 555 0100, call me", "'call me' is not a phone number"),
    ("name", "", "This field is required."),
    ("priority", "0", "Number must be between 1 and 100."),
    ("specialties", [], "Pick at least one specialty."),
    ("specialties", ["plumbing", "roofing"], "'roofing' is not a valid choice"),
    ("preferred_channel", "fax", "Not a valid choice"),
])
def test_invalid_create_rerenders_with_the_field_error(landlord_client, csrf_token, seeded,
                                                        field, value, message):
    response = submit(landlord_client, csrf_token, "/vendors/new", {**GOOD, field: value})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    error = re.search(rf'<span class="error" id="{field}-error" role="alert">(.*?)</span>',
                      html, re.S)
    assert error and message in unescape(error.group(1))
    assert f'aria-describedby="{field}-error' in html
    assert "Please correct the fields marked below" in html
    assert 'value="Drain Doctors"' in html or field == "name"  # what was typed stays
    assert not Vendor.select().where(Vendor.name == GOOD["name"]).exists()


def test_edit_changes_the_vendor(landlord_client, csrf_token, seeded):
    acme = Vendor.get(Vendor.landlord == seeded, Vendor.name == "Acme Plumbing")
    form = landlord_client.get(f"/vendors/{acme.id}/edit").get_data(as_text=True)
    assert 'value="Acme Plumbing"' in form and 'value="+1234567893"' in form
    assert re.search(r'<input[^>]*checked[^>]*value="plumbing"', form)
    response = submit(landlord_client, csrf_token, f"/vendors/{acme.id}/edit",
                      {**GOOD, "name": "Acme Plumbing & Sons", "active": ""})
    assert response.status_code == 303
    acme = Vendor.get_by_id(acme.id)
    assert acme.name == "Acme Plumbing & Sons" and acme.active is False
    assert acme.hours == "Mon-Fri 8AM-5PM" and acme.phones == ["+13145550100", "+13145550101"]
    html = landlord_client.get("/vendors/").get_data(as_text=True)
    assert "Acme Plumbing &amp; Sons" in html and "retired" in html


def test_another_landlords_vendor_is_not_found(landlord_client, csrf_token, seeded, theirs):
    assert landlord_client.get(f"/vendors/{theirs.id}/edit").status_code == 404
    response = submit(landlord_client, csrf_token, f"/vendors/{theirs.id}/edit", GOOD)
    assert response.status_code == 404
    assert Vendor.get_by_id(theirs.id).name == "Their Secret Plumber"


def test_names_are_escaped(landlord_client, csrf_token, seeded):
    submit(landlord_client, csrf_token, "/vendors/new", {**GOOD, "name": "<script>x()</script>"})
    html = landlord_client.get("/vendors/").get_data(as_text=True)
    assert "&lt;script&gt;x()&lt;/script&gt;" in html and "<script>x()" not in html


def test_form_fields_validate_inline(landlord_client, csrf_token, seeded):
    form = landlord_client.get("/vendors/new").get_data(as_text=True)
    assert 'hx-post="/vendors/validate/hours"' in form and 'hx-trigger="change"' in form
    assert 'hx-target="#field-hours"' in form and '<label for="hours">' in form

    bad = submit(landlord_client, csrf_token, "/vendors/validate/hours", {"hours": "9 to never"},
                 **{"HX-Request": "true", "HX-Target": "field-hours"})
    html = bad.get_data(as_text=True)
    assert bad.status_code == 200  # htmx swaps it in
    assert html.lstrip().startswith('<div class="field" id="field-hours">')
    assert "could not read" in html and 'aria-invalid="true"' in html
    assert 'hx-post="/vendors/validate/hours"' in html  # it keeps validating

    good = submit(landlord_client, csrf_token, "/vendors/validate/hours", {"hours": "weekdays 9-5"},
                  **{"HX-Request": "true"})
    html = good.get_data(as_text=True)
    assert "Reads as: Mon–Fri 09:00–17:00." in html and "aria-invalid" not in html

    phones = submit(landlord_client, csrf_token, "/vendors/validate/phones", {"phones": "12"})
    assert "not a phone number" in phones.get_data(as_text=True)
    assert submit(landlord_client, csrf_token, "/vendors/validate/nope", {}).status_code == 404
    assert submit(landlord_client, csrf_token, "/vendors/validate/csrf_token",
                  {}).status_code == 404


def test_a_vendor_with_a_long_list_of_phones_is_refused(landlord_client, csrf_token, seeded):
    many = ", ".join(f"+1314555010{i}" for i in range(6))
    response = submit(landlord_client, csrf_token, "/vendors/new", {**GOOD, "phones": many})
    assert response.status_code == 422 and "At most 5 phone numbers." in response.get_data(
        as_text=True)
    assert not VendorPhone.select().where(VendorPhone.number == "+13145550100").exists()
