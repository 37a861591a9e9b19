"""The Twilio channel: what the SDK sends, what comes back, which failures are retried."""

from __future__ import annotations

import re
import socket
from dataclasses import replace
from xml.etree import ElementTree

import pytest

from app.config import Config
from app.messaging import outbound, twilio
from app.messaging.channels import Outbox, channel_for
from app.messaging.twilio import TwilioChannel, client_for
from app.models import Event, Message
from tests import twilio_fake
from tests.conftest import make_config

fake_twilio = twilio_fake.fake_twilio  # the fixture, requested by name below

FROM = "+15005550006"
VENDOR = "+15550003000"
PING = "Leak at 12 Elm St. Reply YES K7Q2 to take it or NO K7Q2 to pass."
PUBLIC = "https://fixline.example.com"


@pytest.fixture
def config(database_url, tmp_path, fake_twilio):
    """Twilio credentials set, the SDK pointed at the fake."""
    return make_config(database_url, tmp_path / "instance",
                       **fake_twilio.settings(FROM))


def send(landlord, config, *, channel="sms", to=VENDOR, body=PING) -> Message:
    """Queue one message, deliver it once, return the row as stored."""
    message = outbound.queue(landlord=landlord, to=to, body=body, channel=channel)
    outbound.deliver(message.id, config)
    return Message.get_by_id(message.id)


def events(kind: str) -> list[dict]:
    return [e.data for e in Event.select().where(Event.type == kind).order_by(Event.id)]


def test_sms_sends_to_from_body_and_stores_the_sid(fake_twilio, landlord, config):
    message = send(landlord, config)

    [request] = fake_twilio.requests
    assert request.method == "POST"
    assert request.path == f"/2010-04-01/Accounts/{fake_twilio.account_sid}/Messages.json"
    assert request.auth == (fake_twilio.account_sid, fake_twilio.auth_token)
    assert request.form == {"To": VENDOR, "From": FROM, "Body": PING}  # no StatusCallback
    assert re.fullmatch(r"SM[0-9a-f]{32}", message.provider_id)
    assert message.provider_id == fake_twilio.created[0]["sid"]
    assert (message.status, message.attempts, message.error) == ("queued", 1, None)
    [sent] = events("notification.sent")
    assert (sent["messageId"], sent["channel"], sent["to"]) == (message.id, "sms", VENDOR)
    assert events("notification.failed") == []


@pytest.mark.parametrize("channel", ["sms", "voice"])
def test_status_callback_when_public_base_url_is_set(fake_twilio, landlord, config,
                                                     channel):
    send(landlord, replace(config, public_base_url=PUBLIC), channel=channel)
    [request] = fake_twilio.requests
    assert request.form["StatusCallback"] == f"{PUBLIC}/webhooks/twilio/status"


def test_call_says_the_body_in_twiml(fake_twilio, landlord, config):
    body = "Burst pipe at 4 & 5 <Elm>. Call back to take it."
    message = send(landlord, config, channel="voice", body=body)

    [request] = fake_twilio.requests
    assert request.path.endswith("/Calls.json")
    assert (request.form["To"], request.form["From"]) == (VENDOR, FROM)
    twiml = ElementTree.fromstring(request.form["Twiml"])
    assert twiml.tag == "Response"
    assert [(child.tag, child.text) for child in twiml] == [("Say", body)]
    assert re.fullmatch(r"CA[0-9a-f]{32}", message.provider_id)
    assert message.status == "queued"


def test_delivering_twice_calls_twilio_once(fake_twilio, landlord, config):
    message = outbound.queue(landlord=landlord, to=VENDOR, body=PING)
    assert outbound.deliver(message.id, config) == "queued"  # Twilio's word for accepted
    assert outbound.deliver(message.id, config) == "skipped"
    assert len(fake_twilio.requests) == 1


def test_wrong_credentials_are_a_recorded_failure(fake_twilio, landlord, config):
    message = send(landlord, replace(config, twilio_auth_token="not-the-token"))

    [request] = fake_twilio.requests
    assert (request.auth, request.status) == ((fake_twilio.account_sid, "not-the-token"), 401)
    assert (message.status, message.attempts) == ("failed", 1)
    assert "Twilio 401 (code 20003)" in message.error
    [failed] = events("notification.failed")
    assert (failed["messageId"], failed["error"]) == (message.id, message.error)


def test_missing_from_number_fails_without_calling_twilio(fake_twilio, landlord,
                                                          config):
    message = send(landlord, replace(config, twilio_from_number=None))
    assert message.status == "failed"
    assert "TWILIO_FROM_NUMBER" in message.error
    assert fake_twilio.requests == []


@pytest.mark.parametrize("to, unsubscribed, code", [
    ("5550003000", False, 21211),  # not E.164
    (VENDOR, True, 21610),
])
def test_refused_numbers_fail_after_one_attempt_through_the_actor(
        fake_twilio, landlord, broker, worker, to, unsubscribed, code):
    if unsubscribed:
        fake_twilio.unsubscribed.add(to)
    message = outbound.queue(landlord=landlord, to=to, body=PING)
    broker.join("default")

    message = Message.get_by_id(message.id)
    assert (message.status, message.attempts) == ("failed", 1)
    assert f"Twilio 400 (code {code})" in message.error
    assert [r.status for r in fake_twilio.requests] == [400]
    assert [e["messageId"] for e in events("notification.failed")] == [message.id]
    assert events("notification.sent") == []


def test_server_errors_are_retried_until_sent_through_the_actor(
        fake_twilio, landlord, broker, worker, monkeypatch):
    monkeypatch.setattr(outbound, "RETRY_DELAYS_MS", (20, 20))
    fake_twilio.fail_next(2, 500)
    message = outbound.queue(landlord=landlord, to=VENDOR, body=PING)
    broker.join("default")

    message = Message.get_by_id(message.id)
    assert [r.status for r in fake_twilio.requests] == [500, 500, 201]
    assert (message.status, message.attempts) == ("queued", 3)
    assert message.provider_id == fake_twilio.created[0]["sid"]
    assert [e["messageId"] for e in events("notification.sent")] == [message.id]
    assert events("notification.failed") == []


@pytest.mark.parametrize("status", [429, 503])
def test_rate_limits_and_outages_are_retried(fake_twilio, landlord, config, status):
    fake_twilio.fail_next(2, status)
    message = outbound.queue(landlord=landlord, to=VENDOR, body=PING)
    outcomes = [outbound.deliver(message.id, config) for _ in range(3)]
    assert outcomes == ["retrying", "retrying", "queued"]
    assert Message.get_by_id(message.id).provider_id == fake_twilio.created[0]["sid"]


def test_gives_up_after_the_last_attempt(fake_twilio, landlord, config):
    fake_twilio.fail_next(outbound.MAX_ATTEMPTS, 500)
    message = outbound.queue(landlord=landlord, to=VENDOR, body=PING)
    outcomes = [outbound.deliver(message.id, config) for _ in range(outbound.MAX_ATTEMPTS + 1)]
    assert outcomes == ["retrying"] * (outbound.MAX_ATTEMPTS - 1) + ["failed", "skipped"]
    message = Message.get_by_id(message.id)
    assert (message.status, message.attempts) == ("failed", outbound.MAX_ATTEMPTS)
    assert "Twilio 500 (code 20500)" in message.error
    assert len(events("notification.failed")) == 1


def test_unreachable_twilio_is_retried(landlord, config):
    with socket.socket() as probe:  # a port nothing listens on once closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    message = send(landlord, replace(config, twilio_api_base=f"http://127.0.0.1:{port}"))
    assert (message.status, message.attempts, message.provider_id) == ("queued", 1, None)
    assert "Twilio unreachable: ConnectionError" in message.error
    assert events("notification.failed") == []


def test_a_timeout_is_retried(fake_twilio, landlord, config, monkeypatch):
    monkeypatch.setattr(twilio, "TIMEOUT_SECONDS", 0.2)
    fake_twilio.stall_next(5)
    message = send(landlord, config)
    assert (message.status, message.attempts) == ("queued", 1)
    assert "Twilio unreachable: ReadTimeout" in message.error


def test_one_client_per_account_token_and_base():
    client = client_for("AC1", "token", "http://127.0.0.1:1")
    assert client_for("AC1", "token", "http://127.0.0.1:1") is client
    assert client_for("AC1", "token", "http://127.0.0.1:2") is not client
    assert client_for("AC1", "other", "http://127.0.0.1:1") is not client
    assert client.http_client.timeout == twilio.TIMEOUT_SECONDS


@pytest.mark.parametrize("sid, token, kind, expected", [
    (None, "", "sms", Outbox),
    (None, "", "voice", Outbox),
    ("AC1", "", "sms", Outbox),
    (None, "token", "sms", Outbox),
    ("AC1", "token", "sms", TwilioChannel),
    ("AC1", "token", "voice", TwilioChannel),
    ("AC1", "token", "email", Outbox),
])
def test_channel_for_picks_twilio_only_with_sid_and_token(sid, token, kind, expected):
    config = Config(twilio_account_sid=sid, twilio_auth_token=token)
    assert type(channel_for(config, kind)) is expected
