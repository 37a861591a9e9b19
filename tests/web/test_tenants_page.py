"""Tenants: list with private intake links and QR codes, create and edit."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from html import unescape

import pytest

from app.models import Property, Tenant
from app.web import qr
from tests.web.forms import error_of

SVG = "{http://www.w3.org/2000/svg}"


def submit(client, csrf_token, path: str, data: dict, **headers):
    token = csrf_token(client, "/tenants/")
    return client.post(path, data={"csrf_token": token, **data}, headers=headers)


def row_of(html: str, name: str) -> str:
    return re.search(rf"{re.escape(name)}</th>(.*?)</tr>", html, re.S).group(1)


@pytest.fixture
def alice(seeded) -> Tenant:
    return Tenant.get(Tenant.name == "Alice Johnson")


@pytest.mark.parametrize("path", ["/tenants/", "/tenants/new", "/tenants/1/edit",
                                  "/tenants/1/qr.svg"])
def test_pages_need_login(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


def test_list_shows_intake_links_and_qr_codes(landlord_client, seeded, alice, other_landlord):
    response = landlord_client.get("/tenants/")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "HX-Request" in response.headers["Vary"]
    row = row_of(html, "Alice Johnson")
    assert f"/intake/{alice.intake_token}" in row and "123 Main Street Apt 1A" in row
    assert f'<img class="qr" src="/tenants/{alice.id}/qr.svg"' in row
    assert 'alt="QR code of Alice Johnson\'s intake link"' in row
    assert "Bob Williams" in html and "Austin Perez" in html
    other = Tenant.get(Tenant.name == "Tenant of Otto Other")
    assert "Tenant of Otto Other" not in html and other.intake_token not in html


def test_qr_code_is_an_svg_of_the_intake_link(landlord_client, seeded, alice):
    html = landlord_client.get("/tenants/").get_data(as_text=True)
    link = unescape(re.search(r'<td class="link"><a href="([^"]+)"', row_of(
        html, "Alice Johnson")).group(1))
    response = landlord_client.get(f"/tenants/{alice.id}/qr.svg")
    assert response.status_code == 200 and response.mimetype == "image/svg+xml"
    root = ET.fromstring(response.data)
    assert root.tag == f"{SVG}svg" and root.get("viewBox").startswith("0 0 ")
    assert len(list(root.iter(f"{SVG}path"))) >= 1 and "style" not in response.data.decode()
    assert response.data == qr.svg(link, title="Intake link QR code")


def test_another_landlords_tenant_is_not_found(landlord_client, csrf_token, seeded,
                                               other_landlord):
    theirs = Tenant.get(Tenant.name == "Tenant of Otto Other")
    for path in (f"/tenants/{theirs.id}/edit", f"/tenants/{theirs.id}/qr.svg"):
        assert landlord_client.get(path).status_code == 404
    for path in (f"/tenants/{theirs.id}/edit", f"/tenants/{theirs.id}/new-link"):
        response = submit(landlord_client, csrf_token, path,
                          {"name": "Mine now", "phone": "+13145550100",
                           "property": theirs.property_id})
        assert response.status_code == 404
    unchanged = Tenant.get_by_id(theirs.id)
    assert (unchanged.name, unchanged.intake_token) == (theirs.name, theirs.intake_token)


def test_create_normalizes_the_phone(landlord_client, csrf_token, seeded):
    prop = Property.get(Property.address == "7304 Lindell Blvd Unit 1B")
    response = submit(landlord_client, csrf_token, "/tenants/new",
                      {"name": " Dana Diaz ", "phone": "+1 (314) 555-0100", "email": "",
                       "property": prop.id})
    assert response.status_code == 303 and response.headers["Location"] == "/tenants/"
    tenant = Tenant.get(Tenant.name == "Dana Diaz")
    assert tenant.phone == "+13145550100" and tenant.email is None
    assert tenant.property_id == prop.id and len(tenant.intake_token) >= 32
    html = landlord_client.get("/tenants/").get_data(as_text=True)
    assert "Added Dana Diaz." in html and f"/intake/{tenant.intake_token}" in html


@pytest.mark.parametrize(("change", "field", "message"), [
    ({"phone": "call me"}, "phone", "not a phone number"),
    ({"email": "dana@"}, "email", "Invalid email address."),
    ({"name": ""}, "name", "This field is required."),
    ({"property": "999999"}, "property", "Not a valid choice"),
    ({"property": "x"}, "property", "Invalid Choice: could not coerce."),
])
def test_invalid_create_rerenders_with_the_field_error(landlord_client, csrf_token, seeded,
                                                        change, field, message):
    prop = Property.get(Property.address == "7304 Lindell Blvd Unit 1B")
    data = {"name": "Dana Diaz", "phone": "+13145550100", "email": "dana@example.com",
            "property": prop.id, **change}
    response = submit(landlord_client, csrf_token, "/tenants/new", data)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert message in error_of(html, field)
    assert f'aria-describedby="{field}-error' in html and 'aria-invalid="true"' in html
    assert not Tenant.select().where(Tenant.name == "Dana Diaz").exists()


def test_a_tenant_cannot_be_put_in_another_landlords_property(landlord_client, csrf_token,
                                                              seeded, other_landlord):
    theirs = Property.get(Property.landlord == other_landlord)
    response = submit(landlord_client, csrf_token, "/tenants/new",
                      {"name": "Dana Diaz", "phone": "+13145550100", "property": theirs.id})
    assert response.status_code == 422 and "Not a valid choice" in error_of(
        response.get_data(as_text=True), "property")
    assert "Otto Other" not in response.get_data(as_text=True)


def test_edit_keeps_the_intake_link(landlord_client, csrf_token, seeded, alice):
    form = landlord_client.get(f"/tenants/{alice.id}/edit").get_data(as_text=True)
    assert 'value="Alice Johnson"' in form
    assert re.search(rf'<option selected value="{alice.property_id}">', form)
    oak = Property.get(Property.address == "456 Oak Avenue Unit 2B")
    response = submit(landlord_client, csrf_token, f"/tenants/{alice.id}/edit",
                      {"name": "Alice J. Johnson", "phone": "1 314 555 0199",
                       "email": "alice@example.com", "property": oak.id})
    assert response.status_code == 303
    changed = Tenant.get_by_id(alice.id)
    assert (changed.name, changed.phone, changed.email, changed.property_id) == (
        "Alice J. Johnson", "+13145550199", "alice@example.com", oak.id)
    assert changed.intake_token == alice.intake_token


def test_new_link_replaces_the_intake_token(landlord_client, csrf_token, seeded, alice):
    response = submit(landlord_client, csrf_token, f"/tenants/{alice.id}/new-link", {})
    assert response.status_code == 303
    token = Tenant.get_by_id(alice.id).intake_token
    assert token != alice.intake_token
    html = landlord_client.get("/tenants/").get_data(as_text=True)
    assert token in html and alice.intake_token not in html


def test_post_without_csrf_token_is_refused(landlord_client, seeded, alice):
    assert landlord_client.post(f"/tenants/{alice.id}/new-link").status_code == 400
    assert Tenant.get_by_id(alice.id).intake_token == alice.intake_token


def test_phone_validates_inline(landlord_client, csrf_token, seeded):
    bad = submit(landlord_client, csrf_token, "/tenants/validate/phone", {"phone": "12"},
                 **{"HX-Request": "true"})
    html = bad.get_data(as_text=True)
    assert bad.status_code == 200
    assert html.lstrip().startswith('<div class="field" id="field-phone">')
    assert "not a phone number" in error_of(html, "phone")
    good = submit(landlord_client, csrf_token, "/tenants/validate/phone",
                  {"phone": "+1 314 555 0100"})
    assert error_of(good.get_data(as_text=True), "phone") == ""


def test_the_same_phone_cannot_be_added_twice_at_one_property(landlord_client, csrf_token,
                                                              seeded, alice):
    """Same phone and property is the same tenant: a 422 naming who has it, no second row."""
    before = Tenant.select().count()
    response = submit(landlord_client, csrf_token, "/tenants/new",
                      {"name": "Alice Again", "phone": alice.phone,
                       "email": "", "property": alice.property_id})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Alice Johnson already lives there with this phone number." in error_of(html, "phone")
    assert Tenant.select().count() == before
    elsewhere = Property.get(Property.address == "7304 Lindell Blvd Unit 1B")
    moved = submit(landlord_client, csrf_token, "/tenants/new",
                   {"name": "Alice Again", "phone": alice.phone, "email": "",
                    "property": elsewhere.id})
    assert moved.status_code == 303


def test_an_edit_cannot_give_a_tenant_a_housemates_phone(landlord_client, csrf_token, seeded,
                                                         alice):
    bob = Tenant.get(Tenant.name == "Bob Williams")
    response = submit(landlord_client, csrf_token, f"/tenants/{bob.id}/edit",
                      {"name": bob.name, "phone": alice.phone, "email": "",
                       "property": alice.property_id})
    assert response.status_code == 422
    assert "Alice Johnson already lives there" in error_of(response.get_data(as_text=True),
                                                           "phone")
    assert Tenant.get_by_id(bob.id).property_id == bob.property_id
    same = submit(landlord_client, csrf_token, f"/tenants/{alice.id}/edit",
                  {"name": "Alice J.", "phone": alice.phone, "email": "",
                   "property": alice.property_id})
    assert same.status_code == 303  # keeping one's own phone is no clash
