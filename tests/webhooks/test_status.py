"""Delivery statuses: Message.status follows Twilio, and a failed offer moves on at once."""

from __future__ import annotations

import pytest

from app.messaging import outbound
from app.models import Event, Message, Ping, Ticket
from tests import twilio_fake
from tests.conftest import make_config
from tests.webhooks.conftest import FIXLINE_NUMBER, STATUS, new_sid, pending, snapshot

fake_twilio = twilio_fake.fake_twilio  # the fixture, requested by name below


@pytest.fixture
def config(database_url, tmp_path, fake_twilio):
    """Twilio configured, the SDK pointed at the fake: sent messages get real-looking SIDs."""
    return make_config(database_url, tmp_path / "instance",
                       **fake_twilio.settings(FIXLINE_NUMBER))


@pytest.fixture
def offer(ticket, config) -> Message:
    """The first vendor's offer, handed to (fake) Twilio: it has a MessageSid now."""
    message = Message.get(Message.ping == pending(ticket), Message.direction == "outbound")
    assert outbound.deliver(message.id, config) == "queued"
    message = Message.get_by_id(message.id)
    assert message.provider_id.startswith("SM")
    return message


@pytest.fixture
def report(signed_post):
    """Twilio's status callback for one message."""

    def post(sid: str, status: str, **extra):
        form = {"MessageSid": sid, "AccountSid": "AC" + "0" * 32, "MessageStatus": status,
                "SmsStatus": status, "From": FIXLINE_NUMBER, "To": "+15550003001", **extra}
        return signed_post(STATUS, form)

    return post


@pytest.mark.parametrize("status", ["undelivered", "failed"])
def test_an_undeliverable_offer_asks_the_next_vendor_at_once(office, ticket, offer, report,
                                                             status):
    response = report(offer.provider_id, status, ErrorCode="30003")
    assert response.status_code == 200
    stored = Message.get_by_id(offer.id)
    assert stored.status == status and stored.error == "Twilio error 30003"
    assert Ping.get_by_id(offer.ping_id).outcome == "failed"
    following = pending(ticket)  # no waiting for the reply timeout
    assert following.vendor_id == office.vendors["Best Pipes"].id
    assert Event.select().where(Event.type == "vendor.unreachable").count() == 1
    again = report(offer.provider_id, status, ErrorCode="30003")  # Twilio repeats itself
    assert again.status_code == 200
    assert Ping.select().where(Ping.ticket == ticket).count() == 2
    assert Ticket.get_by_id(ticket.id).status == "dispatching"


@pytest.mark.parametrize("status", ["sent", "delivered"])
def test_sent_and_delivered_update_the_message(ticket, offer, report, status):
    response = report(offer.provider_id, status)
    assert response.status_code == 200
    assert Message.get_by_id(offer.id).status == status
    assert Ping.get_by_id(offer.ping_id).outcome == "pending"
    assert Ping.select().count() == 1


def test_a_late_sent_never_overwrites_delivered(ticket, offer, report):
    report(offer.provider_id, "sent")
    report(offer.provider_id, "delivered")
    response = report(offer.provider_id, "sent")  # callbacks can arrive out of order
    assert response.status_code == 200
    assert Message.get_by_id(offer.id).status == "delivered"
    report(offer.provider_id, "queued")
    assert Message.get_by_id(offer.id).status == "delivered"


def test_an_unknown_sid_is_accepted_and_changes_nothing(ticket, offer, report):
    before = snapshot()
    for status in ("delivered", "failed"):
        response = report(new_sid(), status, ErrorCode="30005")
        assert response.status_code == 200
    assert snapshot() == before


def test_a_call_status_is_read_too(office, open_job, config, signed_post):
    ticket = open_job(category="electrical")  # Volt Electric is called
    call = Message.get(Message.ping == pending(ticket), Message.direction == "outbound")
    assert call.channel == "voice" and outbound.deliver(call.id, config) == "queued"
    sid = Message.get_by_id(call.id).provider_id
    response = signed_post(STATUS, {"CallSid": sid, "CallStatus": "no-answer",
                                    "To": call.to_number, "From": FIXLINE_NUMBER})
    assert response.status_code == 200
    assert Message.get_by_id(call.id).status == "no-answer"
    assert pending(ticket).vendor_id == office.vendors["Watt Electric"].id


def test_a_status_without_sid_or_state_is_a_400(ticket, signed_post):
    before = snapshot()
    assert signed_post(STATUS, {"MessageStatus": "delivered"}).status_code == 400
    assert signed_post(STATUS, {"MessageSid": new_sid()}).status_code == 400
    assert snapshot() == before
