"""Phone fields of the API: parsed with libphonenumber in DEFAULT_PHONE_REGION, stored E.164."""

from __future__ import annotations

from dataclasses import replace

import pytest

from app.models import Tenant, Vendor
from tests.api.conftest import error_of, snapshot

VENDOR = {"name": "Drain Doctors", "specialties": ["plumbing"]}


@pytest.fixture
def in_britain(app, monkeypatch):
    """The app as if started with DEFAULT_PHONE_REGION=GB."""
    monkeypatch.setitem(app.extensions, "fixline",
                        replace(app.extensions["fixline"], default_phone_region="GB"))


@pytest.mark.parametrize(("phone", "words"), [
    ("555-1234", "too short: it is a local number without its area code"),
    ("+5551234", "too short for a +55 (BR) number"),
    ("1-800-FLOWERS", "is not a phone number"),
    ("+99912345678", "no country has the calling code"),
])
def test_a_bad_tenant_phone_is_a_422_saying_why(client, auth, home, phone, words):
    before = snapshot()
    response = client.post("/api/tenants", headers=auth, json={
        "name": "Dana", "phone": phone, "propertyId": home[0].id})
    assert response.status_code == 422
    fields = error_of(response)["fields"]
    assert set(fields) == {"phone"} and words in fields["phone"]
    assert snapshot() == before


def test_a_bad_vendor_phone_is_a_422_naming_which_one(client, auth):
    response = client.post("/api/vendors", headers=auth,
                           json={**VENDOR, "phones": ["+1 314 555 0100", "555-1234"]})
    assert response.status_code == 422
    fields = error_of(response)["fields"]
    assert set(fields) == {"phones.1"} and "area code" in fields["phones.1"]
    assert Vendor.select().count() == 0


def test_a_bad_phone_in_a_vendor_update_is_a_422(client, auth):
    vendor = client.post("/api/vendors", headers=auth,
                         json={**VENDOR, "phones": ["(314) 555-0100"]}).json
    assert vendor["phones"] == ["+13145550100"]
    response = client.put(f"/api/vendors/{vendor['id']}", headers=auth,
                          json={"phones": ["555-1234"]})
    assert response.status_code == 422 and "too short" in error_of(response)["fields"]["phones.0"]
    assert Vendor.get_by_id(vendor["id"]).phones == ["+13145550100"]


def test_vendor_and_tenant_read_a_number_the_same_way(client, auth, home):
    typed = "555-010-1234"
    vendor = client.post("/api/vendors", headers=auth, json={**VENDOR, "phones": [typed]})
    tenant = client.post("/api/tenants", headers=auth, json={
        "name": "Dana", "phone": typed, "propertyId": home[0].id})
    assert vendor.json["phones"] == [tenant.json["phone"]] == ["+15550101234"]


def test_notify_to_a_local_number_is_a_422(client, auth):
    response = client.post("/api/notify", headers=auth, json={"to": "555-1234", "message": "Hi"})
    assert response.status_code == 422 and "area code" in error_of(response)["fields"]["to"]


def test_national_numbers_are_read_in_the_configured_region(client, auth, home, in_britain):
    response = client.post("/api/tenants", headers=auth, json={
        "name": "Dana", "phone": "020 7946 0018", "propertyId": home[0].id})
    assert response.status_code == 201, response.json
    assert response.json["phone"] == "+442079460018"
    assert Tenant.get_by_id(response.json["id"]).phone == "+442079460018"
    vendor = client.post("/api/vendors", headers=auth,
                         json={**VENDOR, "phones": ["020 7946 0019", "+1 314 555 0100"]})
    assert vendor.json["phones"] == ["+442079460019", "+13145550100"]
    american = client.post("/api/tenants", headers=auth, json={
        "name": "Sam", "phone": "(314) 555-0100", "propertyId": home[0].id})
    assert american.json["phone"] == "+443145550100"  # without +1: read as a UK number


def test_the_document_says_how_phones_are_read(client):
    schemas = client.get("/api/openapi.json").json["components"]["schemas"]
    description = schemas["VendorCreate"]["properties"]["phones"]["items"]["description"]
    assert "libphonenumber" in description and "DEFAULT_PHONE_REGION" in description
    assert "E.164" in description and "first check" in description
