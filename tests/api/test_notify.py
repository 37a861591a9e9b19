"""Notify: 202 and a queued message to an address or a known person; 422 for anyone else."""

import pytest

from app.models import Event, Landlord, Message, Tenant
from tests.api.conftest import error_of, snapshot


def test_to_a_phone_answers_202_queued(client, auth, landlord):
    response = client.post("/api/notify", json={"to": "+1 (555) 000-1234", "message": "Hello"},
                           headers=auth)
    assert response.status_code == 202
    assert response.json["status"] == "queued"
    message = Message.get_by_id(response.json["id"])
    assert (message.to_number, message.channel, message.body) == ("+15550001234", "sms", "Hello")
    assert message.direction == "outbound" and message.landlord_id == landlord.id
    assert message.recipient_type is None


def test_email_to_an_address(client, auth):
    response = client.post("/api/notify", json={"to": "ops@example.com", "message": "Report",
                                                "channel": "email"}, headers=auth)
    assert response.status_code == 202
    assert Message.get_by_id(response.json["id"]).to_number == "ops@example.com"


@pytest.mark.parametrize("kind,channel,address", [
    ("tenant", "sms", "+15550000001"),
    ("tenant", "voice", "+15550000001"),
    ("vendor", "sms", "+15550003000"),
    ("landlord", "sms", "+15550001000"),
    ("landlord", "email", "lana@example.com"),
])
def test_to_a_recipient_resolves_the_address(client, auth, landlord, home, vendor, kind,
                                             channel, address):
    ids = {"tenant": home[1].id, "vendor": vendor.id, "landlord": landlord.id}
    response = client.post("/api/notify", json={
        "recipient": {"type": kind, "id": ids[kind]}, "message": "Heads up", "channel": channel,
    }, headers=auth)
    assert response.status_code == 202
    message = Message.get_by_id(response.json["id"])
    assert (message.to_number, message.channel) == (address, channel)
    assert (message.recipient_type, message.recipient_id) == (kind, ids[kind])


@pytest.mark.parametrize("recipient", [
    {"type": "tenant", "id": 999}, {"type": "vendor", "id": 999}, {"type": "landlord", "id": 999},
])
def test_unknown_recipient_is_422_naming_recipient(client, auth, landlord, recipient):
    before = snapshot()
    response = client.post("/api/notify", json={"recipient": recipient, "message": "Hi"},
                           headers=auth)
    assert response.status_code == 422 and set(error_of(response)["fields"]) == {"recipient"}
    assert snapshot() == before


def test_recipient_without_an_address_for_the_channel_is_422(client, auth, home):
    _, tenant = home
    assert Tenant.get_by_id(tenant.id).email is None
    response = client.post("/api/notify", json={
        "recipient": {"type": "tenant", "id": tenant.id}, "message": "Hi", "channel": "email",
    }, headers=auth)
    assert response.status_code == 422 and "email" in error_of(response)["fields"]["recipient"]


@pytest.mark.parametrize("body,fields", [
    ({"message": "Hi"}, {"body"}),
    ({"to": "+15550001234", "recipient": {"type": "tenant", "id": 1}, "message": "Hi"},
     {"body"}),
    ({"to": "not a phone", "message": "Hi"}, {"to"}),
    ({"to": "+15550001234", "message": "Hi", "channel": "email"}, {"to"}),
    ({"to": "+15550001234", "message": "Hi", "channel": "fax"}, {"channel"}),
    ({"to": "+15550001234", "message": ""}, {"message"}),
    ({"to": "+15550001234", "message": "x" * 1601}, {"message"}),
    ({"recipient": {"type": "plumber", "id": 1}, "message": "Hi"}, {"recipient.type"}),
    ({"recipient": {"type": "tenant"}, "message": "Hi"}, {"recipient.id"}),
])
def test_invalid_notify_is_422(client, auth, body, fields):
    response = client.post("/api/notify", json=body, headers=auth)
    assert response.status_code == 422 and set(error_of(response)["fields"]) == fields
    assert Message.select().count() == 0


def test_every_attempt_is_logged(client, auth, broker, worker):
    response = client.post("/api/notify", json={"to": "+15550001234", "message": "Logged"},
                           headers=auth)
    broker.join("default")
    assert Message.get_by_id(response.json["id"]).status == "stored"
    event = Event.get(Event.type == "notification.sent")
    assert event.data["messageId"] == response.json["id"] and event.data["to"] == "+15550001234"
    listed = client.get("/api/messages", headers=auth).json
    assert listed[0]["id"] == response.json["id"] and listed[0]["status"] == "stored"


def test_landlord_is_only_yourself(client, auth, other_landlord):
    response = client.post("/api/notify", json={
        "recipient": {"type": "landlord", "id": other_landlord.id}, "message": "Hi",
    }, headers=auth)
    assert response.status_code == 422
    assert Landlord.get_by_id(other_landlord.id).phone == "+15550002000"
