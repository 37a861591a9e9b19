"""Phone fields of the vendor and tenant pages: the same parser as the API, errors that say why."""

from __future__ import annotations

from dataclasses import replace

import pytest

from app.models import Property, Tenant, Vendor
from tests.web.forms import error_of

VENDOR = {"name": "Drain Doctors", "specialties": ["plumbing"], "hours": "24/7",
          "priority": "1", "preferred_channel": "sms", "active": "y"}


def submit(client, csrf_token, page: str, path: str, data: dict):
    token = csrf_token(client, page)
    return client.post(path, data={"csrf_token": token, **data})


def _tenant(prop: Property, phone: str) -> dict:
    return {"name": "Dana Diaz", "phone": phone, "email": "", "property": prop.id}


@pytest.fixture
def prop(seeded) -> Property:
    return Property.get(Property.address == "7304 Lindell Blvd Unit 1B")


@pytest.mark.parametrize(("phone", "words"), [
    ("555-1234", "555-1234 is too short: it is a local number without its area code"),
    ("+5551234", "+5551234 is too short for a +55 (BR) number"),
    ("1-800-FLOWERS", "'1-800-FLOWERS' is not a phone number"),
])
def test_the_tenant_form_refuses_a_bad_phone_saying_why(landlord_client, csrf_token, prop,
                                                         phone, words):
    response = submit(landlord_client, csrf_token, "/tenants/", "/tenants/new",
                      _tenant(prop, phone))
    assert response.status_code == 422
    assert words in error_of(response.get_data(as_text=True), "phone")
    assert not Tenant.select().where(Tenant.name == "Dana Diaz").exists()


@pytest.mark.parametrize(("phones", "words"), [
    ("+1 314 555 0100, 555-1234", "555-1234 is too short"),
    ("555-1234", "area code, like (201) 555-0123"),
    ("+5551234", "+55 (BR)"),
])
def test_the_vendor_form_refuses_a_bad_phone_saying_why(landlord_client, csrf_token, seeded,
                                                         phones, words):
    response = submit(landlord_client, csrf_token, "/vendors/", "/vendors/new",
                      {**VENDOR, "phones": phones})
    assert response.status_code == 422
    assert words in error_of(response.get_data(as_text=True), "phones")
    assert not Vendor.select().where(Vendor.name == "Drain Doctors").exists()


def test_vendor_and_tenant_forms_read_a_number_the_same_way(landlord_client, csrf_token, prop):
    typed = "555-010-1234"
    assert submit(landlord_client, csrf_token, "/vendors/", "/vendors/new",
                  {**VENDOR, "phones": typed}).status_code == 303
    assert submit(landlord_client, csrf_token, "/tenants/", "/tenants/new",
                  _tenant(prop, typed)).status_code == 303
    assert Vendor.get(Vendor.name == "Drain Doctors").phones == ["+15550101234"]
    assert Tenant.get(Tenant.name == "Dana Diaz").phone == "+15550101234"


def test_a_seeded_vendor_saves_unchanged(landlord_client, csrf_token, seeded):
    """The contract's demo numbers (+1234567893, ...) are one digit short of a US number."""
    acme = Vendor.get(Vendor.landlord == seeded, Vendor.name == "Acme Plumbing")
    response = submit(landlord_client, csrf_token, "/vendors/", f"/vendors/{acme.id}/edit",
                      {**VENDOR, "name": "Acme Plumbing", "phones": ", ".join(acme.phones)})
    assert response.status_code == 303
    assert Vendor.get_by_id(acme.id).phones == ["+1234567893"]


def test_the_forms_read_national_numbers_in_the_configured_region(app, monkeypatch,
                                                                  landlord_client, csrf_token,
                                                                  prop):
    monkeypatch.setitem(app.extensions, "fixline",
                        replace(app.extensions["fixline"], default_phone_region="GB"))
    assert submit(landlord_client, csrf_token, "/tenants/", "/tenants/new",
                  _tenant(prop, "020 7946 0018")).status_code == 303
    assert Tenant.get(Tenant.name == "Dana Diaz").phone == "+442079460018"
    assert submit(landlord_client, csrf_token, "/vendors/", "/vendors/new",
                  {**VENDOR, "phones": "020 7946 0019"}).status_code == 303
    assert Vendor.get(Vendor.name == "Drain Doctors").phones == ["+442079460019"]
