"""Job offers through Twilio (issue 13's hygiene): never delivered late, ValidityPeriod no longer
than the reply window, and SMS through a Messaging Service when one is configured."""

from __future__ import annotations

from dataclasses import replace

import pytest

from app.booking import loop
from app.models import Message
from tests import twilio_fake
from tests.conftest import make_config
from tests.engine.conftest import pending

fake_twilio = twilio_fake.fake_twilio  # the fixture, requested by name below

FROM = "+15005550006"
SERVICE = "MG" + "0" * 32


@pytest.fixture
def config(database_url, tmp_path, fake_twilio):
    """Twilio credentials set, the SDK pointed at the fake."""
    return make_config(database_url, tmp_path / "instance", **fake_twilio.settings(FROM))


@pytest.fixture
def offered(bus, make_vendor, intake):
    """A routine job offered to Ann by SMS, the offer queued and not yet delivered."""
    make_vendor("Ann")
    make_vendor("Bob")
    ticket = intake()
    bus.run_events()
    return pending(ticket)


def offer_message(ping) -> Message:
    return Message.get(Message.ping == ping.id)


def test_an_offer_is_valid_no_longer_than_the_reply_window(offered, bus, fake_twilio, config,
                                                           fake_clock):
    fake_clock.advance(12)
    bus.deliver()
    [request] = [r for r in fake_twilio.requests if r.path.endswith("/Messages.json")]
    assert int(request.form["ValidityPeriod"]) == config.vendor_reply_timeout - 12
    assert request.form["From"] == FROM


def test_an_offer_answered_before_delivery_is_not_sent(offered, bus, fake_twilio, config):
    assert loop.decline(offered.id, config) == "declined"  # e.g. NO on the job page
    message = offer_message(offered)
    bus.deliver()
    message = Message.get_by_id(message.id)
    assert (message.status, message.error) == ("failed", "not sent: the offer was already declined")
    assert not any(offered.code in r.form.get("Body", "") for r in fake_twilio.requests)


def test_an_offer_past_its_expiry_is_not_sent_and_the_next_vendor_is_asked(
        offered, bus, fake_twilio, config, fake_clock):
    fake_clock.advance(config.vendor_reply_timeout + 1)  # the worker was busy, say
    message = offer_message(offered)
    bus.settle()
    assert Message.get_by_id(message.id).error == (
        "not sent: the offer expired before it could be delivered")
    assert not any(offered.code in r.form.get("Body", "") for r in fake_twilio.requests)
    assert pending(offered.ticket).vendor.name == "Bob"


def test_sms_goes_through_the_messaging_service_and_calls_from_the_number(
        make_vendor, intake, bus, fake_twilio, config, monkeypatch):
    with_service = replace(config, twilio_messaging_service_sid=SERVICE)
    bus.config = with_service
    make_vendor("Ann")
    make_vendor("Vic", preferred_channel="voice")
    ticket = intake()
    bus.settle()
    loop.decline(pending(ticket).id, with_service)
    bus.settle()
    sms, call = fake_twilio.requests
    assert sms.form["MessagingServiceSid"] == SERVICE and "From" not in sms.form
    assert call.path.endswith("/Calls.json") and call.form["From"] == FROM


def test_production_accepts_a_messaging_service_in_place_of_a_from_number(tmp_path):
    from app.config import Config, ConfigError

    env = {"FIXLINE_ENV": "production", "SECRET_KEY": "s" * 32,
           "PUBLIC_BASE_URL": "https://fixline.example.com", "TWILIO_ACCOUNT_SID": "AC" + "1" * 32,
           "TWILIO_AUTH_TOKEN": "t", "FIXLINE_INSTANCE_PATH": str(tmp_path),
           "DATABASE_URL": f"sqlite:///{tmp_path}/f.db", "REDIS_URL": "stub://"}
    with pytest.raises(ConfigError, match="TWILIO_FROM_NUMBER .or TWILIO_MESSAGING_SERVICE_SID"):
        Config.from_env(env)
    config = Config.from_env({**env, "TWILIO_MESSAGING_SERVICE_SID": SERVICE})
    assert config.twilio_messaging_service_sid == SERVICE
