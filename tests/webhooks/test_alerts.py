"""The landlord's side of an emergency's escalation: the call that gathers 1 to acknowledge,
and ACK by text, each through signed webhooks."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit
from xml.etree import ElementTree

import pytest

from app import clock
from app.booking import alerts
from app.messaging import twilio
from app.models import Event, Message, Ticket
from tests.conftest import make_landlord
from tests.webhooks.conftest import FIXLINE_NUMBER, VOICE, new_sid, said, snapshot, twiml


@pytest.fixture
def escalated(open_job) -> Ticket:
    """A pest emergency: no vendor does pest control, so it escalates at once."""
    ticket = open_job(category="pest")
    assert ticket.status == "escalated" and ticket.alert_due_at is not None
    return ticket


@pytest.fixture
def ring(signed_post):
    """Twilio posting the landlord's escalation call (and their keypress)."""

    def post(ticket: Ticket, digits: str | None = None, *, sid: str | None = None):
        form = {"CallSid": sid or new_sid("CA"), "AccountSid": "AC" + "0" * 32,
                "From": FIXLINE_NUMBER, "To": ticket.landlord.phone,
                "CallStatus": "in-progress", "Direction": "outbound-api"}
        if digits is not None:
            form["Digits"] = digits
        return signed_post(f"{VOICE}?ticket={ticket.id}&ack=1", form)

    return post


def acknowledged(ticket: Ticket) -> list[Event]:
    return list(Event.select().where(Event.ticket == ticket, Event.type == "ticket.acknowledged"))


def test_the_call_says_the_escalation_and_gathers_one_key(escalated, config, ring):
    call = Message.get(Message.ticket == escalated, Message.channel == "voice")
    assert call.recipient_type == "landlord" and call.to_number == escalated.landlord.phone
    for document in (twilio.call_twiml(call, config), twiml(ring(escalated))):
        root = ElementTree.fromstring(document) if isinstance(document, str) else document
        [gather] = root.iter("Gather")
        assert gather.get("numDigits") == "1" and gather.get("method") == "POST"
        action = urlsplit(gather.get("action"))
        assert action.path == VOICE
        assert parse_qs(action.query) == {"ticket": [str(escalated.id)], "ack": ["1"]}
        spoken = "".join(gather.itertext())
        assert spoken == call.body
        assert "emergency pest job" in spoken and "Press 1 to acknowledge." in spoken
    assert Ticket.get_by_id(escalated.id).acknowledged_at is None


def test_pressing_1_acknowledges_once(escalated, ring, client, auth):
    shown = client.get(f"/api/tickets/{escalated.id}", headers=auth).get_json()
    assert shown["escalatedAt"] is not None and shown["acknowledgedAt"] is None
    sid = new_sid("CA")
    first = said(ring(escalated, "1", sid=sid))
    assert first.startswith(f"Thanks: you acknowledged ticket {escalated.id}")
    again = said(ring(escalated, "1", sid=sid))  # Twilio's retry of the same keypress
    assert again == first
    ticket = Ticket.get_by_id(escalated.id)
    assert ticket.acknowledged_at is not None and ticket.alert_due_at is None
    [event] = acknowledged(ticket)
    assert (event.data, event.actor) == ({"by": "call"}, f"landlord:{ticket.landlord_id}")
    [pressed] = Message.select().where(Message.direction == "inbound")
    assert (pressed.channel, pressed.body, pressed.ticket_id) == ("voice", "pressed 1", ticket.id)
    shown = client.get(f"/api/tickets/{escalated.id}", headers=auth).get_json()
    assert shown["acknowledgedAt"] == clock.isoformat(ticket.acknowledged_at)


def test_another_key_asks_again(escalated, ring):
    response = ring(escalated, "7")
    assert said(response).startswith(alerts.WRONG_KEY)
    [gather] = twiml(response).iter("Gather")
    assert gather.get("numDigits") == "1"
    assert Ticket.get_by_id(escalated.id).acknowledged_at is None


def test_an_unsigned_keypress_changes_nothing(escalated, client):
    before = snapshot()
    response = client.post(f"{VOICE}?ticket={escalated.id}&ack=1",
                           data={"CallSid": new_sid("CA"), "Digits": "1"})
    assert response.status_code == 403
    assert snapshot() == before


def test_ack_by_text_answers_the_newest_unacknowledged_escalation(escalated, open_job, text):
    newer = open_job(category="pest")
    landlord_phone = escalated.landlord.phone
    assert said(text(landlord_phone, "ACK")).startswith(
        f"Thanks: you acknowledged ticket {newer.id}")
    assert said(text(landlord_phone, f"ack #{escalated.id}")).startswith(
        f"Thanks: you acknowledged ticket {escalated.id}")
    assert said(text(landlord_phone, "Ack")) == "Fixline has no unacknowledged alert for you."
    for ticket in (escalated, newer):
        [event] = acknowledged(ticket)
        assert event.data == {"by": "sms"}


def test_ack_cannot_reach_another_landlords_ticket(escalated, text, office):
    other = make_landlord("Otto Other", "otto@example.com", "+15550002000")
    answer = said(text(other.phone, f"ACK {escalated.id}"))
    assert answer == f"Fixline has no unacknowledged alert about ticket {escalated.id} for you."
    vendor = said(text(office.vendors["Acme Plumbing"], "ACK"))
    assert vendor == "Fixline has no unacknowledged alert for you."
    assert Ticket.get_by_id(escalated.id).acknowledged_at is None
    assert acknowledged(escalated) == []
