"""Issue 11 fields: a vendor's serviceAreas, maxVisitsPerDay and insuranceExpiresAt, a
property's approvalLimit and emergencyApprovalLimit (exact decimals), validated and kept."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import pytest

from app.models import Property, Vendor
from tests.api.conftest import error_of, snapshot

PLUMBER = {"name": "Acme Plumbing", "phones": ["+15550004444"], "specialties": ["plumbing"]}
HOME = {"address": "12 Elm St", "timezone": "America/Chicago", "postalCode": "63130"}


def exact(response) -> dict:
    """The JSON answer with its numbers read as Decimals (what was written, not a float)."""
    return json.loads(response.get_data(as_text=True), parse_float=Decimal)


# -- vendors ----------------------------------------------------------------------------


def test_vendor_fields_round_trip(client, auth):
    response = client.post("/api/vendors", json={
        **PLUMBER, "serviceAreas": [" 631 ", "sw1a", "631", "63130-12", "SW1A"],
        "maxVisitsPerDay": 3, "insuranceExpiresAt": "2027-05-01"}, headers=auth)
    assert response.status_code == 201, response.json
    vendor = response.json
    assert vendor["serviceAreas"] == ["631", "SW1A", "63130-12"]  # trimmed, upper, once each
    assert vendor["maxVisitsPerDay"] == 3 and vendor["insuranceExpiresAt"] == "2027-05-01"
    stored = Vendor.get_by_id(vendor["id"])
    assert stored.service_areas == ["631", "SW1A", "63130-12"]
    assert stored.insurance_expires_at == date(2027, 5, 1) and stored.max_visits_per_day == 3
    assert client.get(f"/api/vendors/{vendor['id']}", headers=auth).json == vendor
    assert client.get("/api/vendors", headers=auth).json == [vendor]


def test_vendor_fields_default_to_anywhere_and_no_limits(client, auth):
    vendor = client.post("/api/vendors", json=PLUMBER, headers=auth).json
    assert vendor["serviceAreas"] == []
    assert vendor["maxVisitsPerDay"] is None and vendor["insuranceExpiresAt"] is None
    assert Vendor.get_by_id(vendor["id"]).insurance_notice_at is None


def test_put_changes_and_clears_the_fields(client, auth):
    vendor = client.post("/api/vendors", json={
        **PLUMBER, "serviceAreas": ["631"], "maxVisitsPerDay": 2,
        "insuranceExpiresAt": "2027-05-01"}, headers=auth).json
    changed = client.put(f"/api/vendors/{vendor['id']}", json={"serviceAreas": ["63130", "63"]},
                         headers=auth).json
    assert changed["serviceAreas"] == ["63130", "63"]
    assert changed["maxVisitsPerDay"] == 2 and changed["insuranceExpiresAt"] == "2027-05-01"
    cleared = client.put(f"/api/vendors/{vendor['id']}", json={
        "serviceAreas": [], "maxVisitsPerDay": None, "insuranceExpiresAt": None}, headers=auth)
    assert cleared.status_code == 200
    assert cleared.json["serviceAreas"] == [] and cleared.json["maxVisitsPerDay"] is None
    assert cleared.json["insuranceExpiresAt"] is None
    stored = Vendor.get_by_id(vendor["id"])
    assert stored.insurance_expires_at is None and stored.insurance_notice_at is None


@pytest.mark.parametrize("changes,field", [
    ({"serviceAreas": [""]}, "serviceAreas.0"),
    ({"serviceAreas": ["   "]}, "serviceAreas.0"),
    ({"serviceAreas": ["631", "63!"]}, "serviceAreas.1"),
    ({"serviceAreas": ["12345678901"]}, "serviceAreas.0"),  # 11 characters
    ({"serviceAreas": ["6310é"]}, "serviceAreas.0"),
    ({"serviceAreas": [str(n) for n in range(51)]}, "serviceAreas"),
    ({"serviceAreas": "631"}, "serviceAreas"),
    ({"serviceAreas": [631]}, "serviceAreas.0"),
    ({"maxVisitsPerDay": 0}, "maxVisitsPerDay"),
    ({"maxVisitsPerDay": 51}, "maxVisitsPerDay"),
    ({"maxVisitsPerDay": 2.5}, "maxVisitsPerDay"),
    ({"maxVisitsPerDay": "3"}, "maxVisitsPerDay"),
    ({"insuranceExpiresAt": "2027-02-30"}, "insuranceExpiresAt"),
    ({"insuranceExpiresAt": "2027-5-1"}, "insuranceExpiresAt"),
    ({"insuranceExpiresAt": "2027-05-01T00:00:00"}, "insuranceExpiresAt"),
    ({"insuranceExpiresAt": 20270501}, "insuranceExpiresAt"),
])
def test_invalid_vendor_fields_are_422_naming_them(client, auth, changes, field):
    response = client.post("/api/vendors", json={**PLUMBER, **changes}, headers=auth)
    assert response.status_code == 422
    assert set(error_of(response)["fields"]) == {field}
    assert Vendor.select().count() == 0


def test_fifty_areas_are_fine_and_repeats_count_before_dropping(client, auth):
    fifty = [f"{n:03d}" for n in range(50)]
    assert client.post("/api/vendors", json={**PLUMBER, "serviceAreas": fifty},
                       headers=auth).json["serviceAreas"] == fifty
    repeated = client.post("/api/vendors", json={**PLUMBER, "serviceAreas": ["631"] * 51},
                           headers=auth)
    assert repeated.status_code == 422


@pytest.mark.parametrize("body,field", [
    ({"serviceAreas": None}, "serviceAreas"),
    ({"serviceAreas": ["6 3 1 !"]}, "serviceAreas.0"),
    ({"maxVisitsPerDay": -1}, "maxVisitsPerDay"),
    ({"insuranceExpiresAt": "tomorrow"}, "insuranceExpiresAt"),
])
def test_put_refuses_bad_fields_and_changes_nothing(client, auth, vendor, body, field):
    before = snapshot()
    response = client.put(f"/api/vendors/{vendor.id}", json=body, headers=auth)
    assert response.status_code == 422 and field in error_of(response)["fields"]
    assert snapshot() == before


def test_the_document_describes_the_fields(client, auth):
    schemas = client.get("/api/openapi.json", headers=auth).json["components"]["schemas"]
    areas = schemas["VendorCreate"]["properties"]["serviceAreas"]
    assert areas["maxItems"] == 50 and areas["items"]["maxLength"] == 10
    assert "serviceAreas" in schemas["VendorOut"]["required"]
    limit = schemas["PropertyCreate"]["properties"]["approvalLimit"]
    assert {"type": "null"} in limit["anyOf"]
    assert any(part.get("type") == "string" and "pattern" in part for part in limit["anyOf"])


# -- properties: money ----------------------------------------------------------------------


@pytest.mark.parametrize("sent,answered", [
    ("0.10", "0.1"), (0.2, "0.2"), ("250.50", "250.5"), (250.5, "250.5"), (250, "250.0"),
    ("0", "0.0"), ("1000000000", "1000000000.0"), ("1000000000.00", "1000000000.0"),
    ("999999999.99", "999999999.99"), (999999999.99, "999999999.99"), ("0.57", "0.57"),
    (1234567.89, "1234567.89"), ("007.5", "7.5"), ("1.230", "1.23"),
])
def test_limits_are_kept_and_answered_exactly(client, auth, sent, answered):
    response = client.post("/api/properties", json={**HOME, "approvalLimit": sent},
                           headers=auth)
    assert response.status_code == 201, response.json
    body = exact(response)
    assert body["approvalLimit"] == Decimal(answered)
    assert str(body["approvalLimit"]) == answered  # written as its two-place value, no noise
    stored = Property.get_by_id(body["id"]).approval_limit
    assert isinstance(stored, Decimal) and stored == Decimal(answered)
    assert exact(client.get(f"/api/properties/{body['id']}", headers=auth))["approvalLimit"] \
        == Decimal(answered)


def test_cents_add_up_exactly(client, auth):
    """0.10 + 0.20 is 0.30 here, not 0.30000000000000004: stored and answered as decimals."""
    created = client.post("/api/properties", json={
        **HOME, "approvalLimit": "0.10", "emergencyApprovalLimit": 0.2}, headers=auth)
    assert created.status_code == 201
    body = exact(created)
    assert body["approvalLimit"] + body["emergencyApprovalLimit"] == Decimal("0.30")
    prop = Property.get_by_id(body["id"])
    assert prop.approval_limit + prop.emergency_approval_limit == Decimal("0.30")
    assert all(isinstance(value, Decimal)
               for value in (prop.approval_limit, prop.emergency_approval_limit))


def test_limits_default_to_none(client, auth):
    body = client.post("/api/properties", json=HOME, headers=auth).json
    assert body["approvalLimit"] is None and body["emergencyApprovalLimit"] is None
    assert body["postalCode"] == "63130"
    listed = client.get("/api/properties", headers=auth).json
    assert [p["approvalLimit"] for p in listed] == [None, None]  # the fixture's flat and this


@pytest.mark.parametrize("value", [
    1.234, "1.234", "0.001", -1, "-1", -0.01, 1000000000.01, "1000000000.01", 1e10, "abc", "",
    "1e3", " 5", "5 ", "$5", "1,000", "5.", ".5", "NaN", "Infinity", True, [5], {"amount": 5},
    "٥",  # an Arabic-Indic five: a digit to Python's Decimal, not to the API
])
def test_bad_limits_are_422_naming_the_field(client, auth, value):
    for name in ("approvalLimit", "emergencyApprovalLimit"):
        response = client.post("/api/properties", json={**HOME, name: value}, headers=auth)
        assert response.status_code == 422, (name, value)
        assert set(error_of(response)["fields"]) == {name}
    assert not Property.select().where(Property.address == HOME["address"]).exists()


def test_the_limit_error_says_why(client, auth):
    response = client.post("/api/properties", json={**HOME, "approvalLimit": "12.345"},
                           headers=auth)
    assert "2 decimals" in error_of(response)["fields"]["approvalLimit"]
    response = client.post("/api/properties", json={**HOME, "approvalLimit": 2e9},
                           headers=auth)
    assert "1,000,000,000" in error_of(response)["fields"]["approvalLimit"]
