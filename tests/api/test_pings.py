"""Manual pings: a ping, its message and `vendor.pinged`, or a 409 that writes nothing."""

from datetime import datetime, timedelta

import pytest

from app import clock
from app.booking import dispatch
from app.models import Event, Message, Ping, Ticket, Vendor
from tests.api.conftest import error_of, make_ticket, make_vendor, snapshot

NOW = datetime(2030, 5, 1, 19, 0, 0)


@pytest.fixture
def frozen():
    clock.set_fake(NOW)
    yield NOW
    clock.set_fake(None)


def test_sms_ping_answers_202_and_writes_ping_message_event(client, auth, ticket, vendor,
                                                              frozen):
    response = client.post(f"/api/vendors/{vendor.id}/ping",
                           json={"ticketId": ticket.id, "method": "sms"}, headers=auth)
    assert response.status_code == 202
    sent = response.json
    assert sent["status"] == "pending" and sent["channel"] == "sms"
    assert sent["sentAt"] == "2030-05-01T19:00:00.000Z"
    assert sent["expiresAt"] == "2030-05-01T19:00:30.000Z"  # VENDOR_REPLY_TIMEOUT_SECONDS=30
    code = sent["code"]
    assert len(code) == 4 and set(code) <= set(dispatch.CODE_ALPHABET)
    ping = Ping.get_by_id(sent["id"])
    assert ping.to_number == "+15550003000" and ping.code == code and ping.outcome == "pending"
    message = Message.get_by_id(sent["messageId"])
    assert message.body == (
        f"Fixline job {code}: plumbing (emergency) at Lana Lord's flat, tenant available "
        f"today 2-5pm. Reply YES {code} to take it or NO {code} to pass. Details: "
        f"http://127.0.0.1:8000/j/{ping.token}")
    assert len(ping.token) >= 22  # at least 128 random bits (CONTRACT.md §9)
    assert (message.to_number, message.channel, message.status) == ("+15550003000", "sms",
                                                                     "queued")
    assert message.ping_id == ping.id and message.ticket_id == ticket.id
    assert (message.recipient_type, message.recipient_id) == ("vendor", vendor.id)
    event = Event.get(Event.type == "vendor.pinged")
    assert event.data["vendor"] == "Acme Plumbing" and event.data["code"] == code
    assert event.data["pingId"] == ping.id and event.data["channel"] == "sms"
    assert Vendor.get_by_id(vendor.id).last_offered_at == NOW
    stored = Ticket.get_by_id(ticket.id)
    assert stored.first_response_at is None and stored.status == "dispatching"


def test_voice_ping_speaks_the_offer(client, auth, ticket, vendor):
    response = client.post(f"/api/vendors/{vendor.id}/ping",
                           json={"ticketId": ticket.id, "method": "voice"}, headers=auth)
    assert response.status_code == 202 and response.json["channel"] == "voice"
    message = Message.get_by_id(response.json["messageId"])
    assert message.channel == "voice" and "Press 1" in message.body
    assert " ".join(response.json["code"]) in message.body


def test_method_defaults_to_sms_and_first_phone_is_used(client, auth, ticket, landlord):
    vendor = make_vendor(landlord, "Two Phones", phones=["+15550006001", "+15550006002"])
    response = client.post(f"/api/vendors/{vendor.id}/ping", json={"ticketId": ticket.id},
                           headers=auth)
    assert response.json["channel"] == "sms"
    assert Ping.get_by_id(response.json["id"]).to_number == "+15550006001"


def test_vendor_of_another_trade_may_be_asked_by_hand(client, auth, ticket, landlord):
    electrician = make_vendor(landlord, "Sparks", specialties=["electrical"],
                              phones=["+15550008000"])
    response = client.post(f"/api/vendors/{electrician.id}/ping",
                           json={"ticketId": ticket.id}, headers=auth)
    assert response.status_code == 202


@pytest.mark.parametrize("problem", ["opted_out", "retired", "completed", "cancelled",
                                     "scheduled"])
def test_refused_ping_is_409_and_writes_nothing(client, auth, landlord, vendor, problem):
    closed = problem in ("completed", "cancelled", "scheduled")
    ticket = make_ticket(landlord, problem if closed else "dispatching")
    if problem == "opted_out":
        Vendor.update(opted_out=True).where(Vendor.id == vendor.id).execute()
    if problem == "retired":
        Vendor.update(active=False).where(Vendor.id == vendor.id).execute()
    before = snapshot()
    response = client.post(f"/api/vendors/{vendor.id}/ping", json={"ticketId": ticket.id},
                           headers=auth)
    assert response.status_code == 409 and error_of(response)["code"] == "conflict"
    assert snapshot() == before


@pytest.mark.parametrize("body,fields", [
    ({"ticketId": 999}, {"ticketId"}),
    ({"ticketId": "one"}, {"ticketId"}),
    ({}, {"ticketId"}),
    ({"ticketId": 1, "method": "fax"}, {"method"}),
    ({"ticketId": 1, "method": "email"}, {"method"}),
])
def test_invalid_ping_is_422(client, auth, ticket, vendor, body, fields):
    before = snapshot()
    response = client.post(f"/api/vendors/{vendor.id}/ping", json=body, headers=auth)
    assert response.status_code == 422 and set(error_of(response)["fields"]) == fields
    assert snapshot() == before


def test_unknown_vendor_is_404(client, auth, ticket):
    response = client.post("/api/vendors/999/ping", json={"ticketId": ticket.id}, headers=auth)
    assert response.status_code == 404 and error_of(response)["code"] == "not_found"


def test_codes_avoid_the_vendors_open_codes(ticket, vendor, config, monkeypatch):
    Ping.create(ticket=ticket, vendor=vendor, channel="sms", code="AAAA",
                to_number="+15550003000", expires_at=NOW + timedelta(days=1))
    letters = iter("AAAA" + "CCCC")
    monkeypatch.setattr(dispatch.secrets, "choice", lambda alphabet: next(letters))
    assert dispatch.send_ping(ticket, vendor, "sms", config, actor="test").code == "CCCC"


def test_the_queued_message_is_delivered_by_the_worker(client, auth, ticket, vendor, broker,
                                                       worker):
    response = client.post(f"/api/vendors/{vendor.id}/ping", json={"ticketId": ticket.id},
                           headers=auth)
    broker.join("default")
    message = Message.get_by_id(response.json["messageId"])
    assert message.status == "stored"  # no Twilio configured: the local outbox
    assert Event.get(Event.type == "notification.sent").data["pingId"] == response.json["id"]
