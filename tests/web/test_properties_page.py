"""Properties: list, create and edit, the time zone validated."""

from __future__ import annotations

import re

import pytest

from app.models import Property
from tests.web.forms import error_of


def submit(client, csrf_token, path: str, data: dict, **headers):
    token = csrf_token(client, "/properties/")
    return client.post(path, data={"csrf_token": token, **data}, headers=headers)


@pytest.mark.parametrize("path", ["/properties/", "/properties/new", "/properties/1/edit"])
def test_pages_need_login(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


def test_list_shows_the_landlords_properties_only(landlord_client, seeded, other_landlord,
                                                  make_ticket):
    make_ticket(seeded)
    response = landlord_client.get("/properties/")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "HX-Request" in response.headers["Vary"]
    for address in ("123 Main Street Apt 1A", "456 Oak Avenue Unit 2B",
                    "7304 Lindell Blvd Unit 1B"):
        assert address in html
    assert "Otto Other&#39;s flat" not in html and "Otto Other's flat" not in html
    row = re.search(r"123 Main Street Apt 1A</th>(.*?)</tr>", html, re.S).group(1)
    assert re.findall(r"<td>(\d+)</td>", row) == ["1", "1"]  # one tenant, one ticket


def test_create_adds_a_property(landlord_client, csrf_token, seeded):
    response = submit(landlord_client, csrf_token, "/properties/new",
                      {"address": "  9 Elm Court  ", "timezone": "America/New_York"})
    assert response.status_code == 303 and response.headers["Location"] == "/properties/"
    html = landlord_client.get("/properties/").get_data(as_text=True)
    assert "Saved 9 Elm Court." in html and "America/New_York" in html
    prop = Property.get(Property.landlord == seeded, Property.address == "9 Elm Court")
    assert prop.timezone == "America/New_York"


@pytest.mark.parametrize(("data", "field", "message"), [
    ({"address": "9 Elm Court", "timezone": "Mars/Olympus"}, "timezone",
     "unknown timezone 'Mars/Olympus'; use a name like America/Chicago"),
    ({"address": "", "timezone": "UTC"}, "address", "This field is required."),
    ({"address": "ab", "timezone": "UTC"}, "address", "Field must be between 3 and 254"),
    ({"address": "123 main street apt 1a", "timezone": "UTC"}, "address",
     "You already have a property at this address."),
])
def test_invalid_create_rerenders_with_the_field_error(landlord_client, csrf_token, seeded,
                                                        data, field, message):
    before = Property.select().count()
    response = submit(landlord_client, csrf_token, "/properties/new", data)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert message in error_of(html, field)
    assert f'aria-describedby="{field}-error' in html and 'aria-invalid="true"' in html
    assert Property.select().count() == before


def test_the_same_address_may_belong_to_another_landlord(landlord_client, csrf_token, seeded,
                                                         other_landlord):
    response = submit(landlord_client, csrf_token, "/properties/new",
                      {"address": "Otto Other's flat", "timezone": "UTC"})
    assert response.status_code == 303


def test_edit_changes_address_and_timezone(landlord_client, csrf_token, seeded):
    prop = Property.get(Property.landlord == seeded, Property.address == "456 Oak Avenue Unit 2B")
    form = landlord_client.get(f"/properties/{prop.id}/edit").get_data(as_text=True)
    assert 'value="456 Oak Avenue Unit 2B"' in form and '<datalist id="timezones">' in form
    same = submit(landlord_client, csrf_token, f"/properties/{prop.id}/edit",
                  {"address": "456 Oak Avenue Unit 2B", "timezone": "America/Denver"})
    assert same.status_code == 303  # keeping its own address is not a duplicate
    assert Property.get_by_id(prop.id).timezone == "America/Denver"
    clash = submit(landlord_client, csrf_token, f"/properties/{prop.id}/edit",
                   {"address": "123 Main Street Apt 1A", "timezone": "America/Denver"})
    assert clash.status_code == 422
    assert "You already have a property" in error_of(clash.get_data(as_text=True), "address")


def test_another_landlords_property_is_not_found(landlord_client, csrf_token, seeded,
                                                 other_landlord):
    theirs = Property.get(Property.landlord == other_landlord)
    assert landlord_client.get(f"/properties/{theirs.id}/edit").status_code == 404
    response = submit(landlord_client, csrf_token, f"/properties/{theirs.id}/edit",
                      {"address": "Taken over", "timezone": "UTC"})
    assert response.status_code == 404
    assert submit(landlord_client, csrf_token, f"/properties/{theirs.id}/validate/address",
                  {"address": "x"}).status_code == 404
    assert Property.get_by_id(theirs.id).address == "Otto Other's flat"


def test_post_without_csrf_token_is_refused(landlord_client, seeded):
    response = landlord_client.post("/properties/new",
                                    data={"address": "9 Elm Court", "timezone": "UTC"})
    assert response.status_code == 400


def test_fields_validate_inline(landlord_client, csrf_token, seeded):
    prop = Property.get(Property.landlord == seeded, Property.address == "456 Oak Avenue Unit 2B")
    bad = submit(landlord_client, csrf_token, "/properties/validate/timezone",
                 {"timezone": "Europe/Atlantis"}, **{"HX-Request": "true"})
    html = bad.get_data(as_text=True)
    assert bad.status_code == 200
    assert html.lstrip().startswith('<div class="field" id="field-timezone">')
    assert "unknown timezone" in error_of(html, "timezone") and 'list="timezones"' in html
    assert 'hx-post="/properties/validate/timezone"' in html
    good = submit(landlord_client, csrf_token, "/properties/validate/timezone",
                  {"timezone": "Europe/Paris"})
    assert error_of(good.get_data(as_text=True), "timezone") == ""
    own = submit(landlord_client, csrf_token, f"/properties/{prop.id}/validate/address",
                 {"address": "456 oak avenue unit 2b"})
    assert error_of(own.get_data(as_text=True), "address") == ""
    new = submit(landlord_client, csrf_token, "/properties/validate/address",
                 {"address": "456 oak avenue unit 2b"})
    assert "already have" in error_of(new.get_data(as_text=True), "address")
