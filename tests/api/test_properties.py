"""Properties: one address once per landlord; a timezone that exists."""

import pytest

from app.models import Property
from tests.api.conftest import error_of


def test_create_answers_201(client, auth, landlord):
    response = client.post("/api/properties", json={
        "address": "  123 Main Street Apt 1A ", "timezone": "America/New_York",
    }, headers=auth)
    assert response.status_code == 201
    prop = response.json
    assert prop["address"] == "123 Main Street Apt 1A" and prop["timezone"] == "America/New_York"
    assert prop["landlordId"] == landlord.id and prop["createdAt"].endswith("Z")


def test_timezone_defaults_to_chicago(client, auth):
    response = client.post("/api/properties", json={"address": "456 Oak Avenue"}, headers=auth)
    assert response.json["timezone"] == "America/Chicago"


@pytest.mark.parametrize("address", ["456 Oak Avenue Unit 2B", "456 oak avenue unit 2b"])
def test_same_address_twice_is_409(client, auth, address):
    first = client.post("/api/properties", json={"address": "456 Oak Avenue Unit 2B"},
                        headers=auth)
    assert first.status_code == 201
    again = client.post("/api/properties", json={"address": address}, headers=auth)
    assert again.status_code == 409
    assert error_of(again)["code"] == "conflict" and "address" in error_of(again)["fields"]
    assert Property.select().where(Property.address ** "456 oak%").count() == 1


def test_two_landlords_may_share_an_address(client, auth, other_auth):
    body = {"address": "7304 Lindell Blvd Unit 1B"}
    assert client.post("/api/properties", json=body, headers=auth).status_code == 201
    assert client.post("/api/properties", json=body, headers=other_auth).status_code == 201


@pytest.mark.parametrize("body,fields", [
    ({}, {"address"}),
    ({"address": "   "}, {"address"}),
    ({"address": "1 Elm St", "timezone": "Mars/Olympus"}, {"timezone"}),
    ({"address": 12345}, {"address"}),
])
def test_invalid_property_is_422(client, auth, body, fields):
    response = client.post("/api/properties", json=body, headers=auth)
    assert response.status_code == 422 and set(error_of(response)["fields"]) == fields


def test_list_and_get_only_mine(client, auth, home, other_landlord):
    prop, _ = home
    assert [p["id"] for p in client.get("/api/properties", headers=auth).json] == [prop.id]
    assert client.get(f"/api/properties/{prop.id}", headers=auth).json["address"] == prop.address
    assert client.get("/api/properties/999", headers=auth).status_code == 404
