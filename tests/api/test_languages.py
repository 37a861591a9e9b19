"""language on tenants and vendors through the API (CONTRACT §13): en unless said, es taken,
anything else a 422 naming the field; a PUT changes a vendor's."""

import pytest

from app.models import Tenant, Vendor
from tests.api.conftest import error_of
from tests.api.test_vendor_fields import PLUMBER


def test_tenants_and_vendors_are_english_unless_said(client, auth, home):
    prop, _ = home
    tenant = client.post("/api/tenants", json={"name": "Ana", "phone": "+15550007001",
                                               "propertyId": prop.id}, headers=auth).json
    vendor = client.post("/api/vendors", json=PLUMBER, headers=auth).json
    assert tenant["language"] == "en" and vendor["language"] == "en"


def test_spanish_is_stored_and_shown(client, auth, home):
    prop, _ = home
    response = client.post("/api/tenants", json={"name": "Ana", "phone": "+15550007001",
                                                 "propertyId": prop.id, "language": "es"},
                           headers=auth)
    assert response.status_code == 201 and response.json["language"] == "es"
    assert Tenant.get_by_id(response.json["id"]).language == "es"
    vendor = client.post("/api/vendors", json={**PLUMBER, "language": "es"}, headers=auth).json
    assert vendor["language"] == "es" and Vendor.get_by_id(vendor["id"]).language == "es"
    changed = client.put(f"/api/vendors/{vendor['id']}", json={"language": "en"}, headers=auth)
    assert changed.status_code == 200 and changed.json["language"] == "en"


@pytest.mark.parametrize("language", ["fr", "ES", "", None, 1])
def test_other_languages_are_422_naming_the_field(client, auth, home, language):
    prop, _ = home
    response = client.post("/api/vendors", json={**PLUMBER, "language": language}, headers=auth)
    assert response.status_code == 422 and "language" in error_of(response)["fields"]
    response = client.post("/api/tenants", json={"name": "Ana", "phone": "+15550007001",
                                                 "propertyId": prop.id, "language": language},
                           headers=auth)
    assert response.status_code == 422 and "language" in error_of(response)["fields"]
