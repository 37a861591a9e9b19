"""Tenants: created on one of your properties, each with a private, unguessable intake link."""

import pytest

from app.models import Tenant
from tests.api.conftest import error_of, snapshot


def test_create_answers_201_with_an_intake_url(client, auth, home):
    prop, _ = home
    response = client.post("/api/tenants", json={
        "name": "Alice Johnson", "phone": "+1 234 567 891", "propertyId": prop.id,
        "email": "alice@example.com",
    }, headers=auth)
    assert response.status_code == 201
    tenant = response.json
    assert tenant["phone"] == "+1234567891" and tenant["propertyId"] == prop.id
    stored = Tenant.get_by_id(tenant["id"])
    assert len(stored.intake_token) >= 32
    assert tenant["intakeUrl"].startswith("http") and tenant["intakeUrl"].endswith(
        stored.intake_token)


def test_intake_tokens_differ(client, auth, home):
    prop, _ = home
    urls = {client.post("/api/tenants", json={"name": f"T{i}", "phone": f"+1555000010{i}",
                                              "propertyId": prop.id}, headers=auth)
            .json["intakeUrl"] for i in range(3)}
    assert len(urls) == 3


def test_intake_url_uses_public_base_url(app, client, auth, home):
    from dataclasses import replace

    app.extensions["fixline"] = replace(app.extensions["fixline"],
                                        public_base_url="https://fixline.example")
    _, tenant = home
    url = client.get(f"/api/tenants/{tenant.id}", headers=auth).json["intakeUrl"]
    assert url == f"https://fixline.example/intake/{tenant.intake_token}"


@pytest.mark.parametrize("changes,fields", [
    ({"name": ""}, {"name"}),
    ({"phone": "not a phone"}, {"phone"}),
    ({"email": "nope"}, {"email"}),
    ({"propertyId": "x"}, {"propertyId"}),
    ({"propertyId": 99999}, {"propertyId"}),
    ({"name": None, "phone": None}, {"name", "phone"}),
])
def test_invalid_tenant_is_422_naming_fields(client, auth, home, changes, fields):
    prop, _ = home
    before = snapshot()
    body = {"name": "Bob", "phone": "+15550000200", "propertyId": prop.id, **changes}
    response = client.post("/api/tenants", json=body, headers=auth)
    assert response.status_code == 422
    assert set(error_of(response)["fields"]) == fields
    assert snapshot() == before


def test_list_and_get_only_mine(client, auth, home, other_landlord):
    _, tenant = home
    listed = client.get("/api/tenants", headers=auth).json
    assert [t["id"] for t in listed] == [tenant.id]
    one = client.get(f"/api/tenants/{tenant.id}", headers=auth)
    assert one.status_code == 200 and one.json["name"] == "Tenant of Lana Lord"
    assert client.get("/api/tenants/999", headers=auth).status_code == 404


def test_a_second_tenant_with_the_same_phone_at_the_same_property_is_422(client, auth, home):
    prop, tenant = home
    before = snapshot()
    response = client.post("/api/tenants", json={
        "name": "Someone Else", "phone": tenant.phone, "propertyId": prop.id}, headers=auth)
    assert response.status_code == 422
    assert error_of(response)["fields"] == {
        "phone": "A tenant with this phone number already lives at that property."}
    assert snapshot() == before
    spaced = tenant.phone[:2] + " " + tenant.phone[2:]  # read as the same number
    again = client.post("/api/tenants", json={
        "name": "Someone Else", "phone": spaced, "propertyId": prop.id}, headers=auth)
    assert again.status_code == 422 and Tenant.select().count() == 1


def test_the_same_phone_at_another_property_is_a_tenant_there(client, auth, home):
    prop, tenant = home
    other = client.post("/api/properties", json={"address": "9 Elm St"}, headers=auth).json
    response = client.post("/api/tenants", json={
        "name": "Moved Out", "phone": tenant.phone, "propertyId": other["id"]}, headers=auth)
    assert response.status_code == 201


def test_the_phone_rule_is_in_the_document(client, auth):
    document = client.get("/api/openapi.json", headers=auth).json
    phone = document["components"]["schemas"]["TenantCreate"]["properties"]["phone"]
    assert "another tenant of that property already has is a 422" in phone["description"]
