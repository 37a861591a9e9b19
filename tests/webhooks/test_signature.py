"""X-Twilio-Signature: a missing or wrong one is a 403 that changes nothing, on every webhook."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from twilio.request_validator import RequestValidator

from app import clock
from app.config import Config
from app.messaging import outbound
from app.messaging.receipts import RECEIPT_SECONDS, prune_receipts
from app.models import Appointment, Message, Ping, Ticket, WebhookReceipt
from tests.conftest import make_config
from tests.webhooks.conftest import (
    FIXLINE_NUMBER,
    LOCAL,
    SMS,
    STATUS,
    VOICE,
    new_sid,
    pending,
    said,
    sign,
    snapshot,
    twiml,
)

PUBLIC = "https://fix.example"
WEBHOOKS = ["sms", "voice", "status"]


@pytest.fixture
def request_for(office, ticket, config):
    """(path with query, form) of a webhook that would change something if it were let in."""
    ping = pending(ticket)

    def make(kind: str) -> tuple[str, dict[str, str]]:
        if kind == "sms":
            return SMS, {"MessageSid": new_sid(), "From": ping.to_number,
                         "To": FIXLINE_NUMBER, "Body": f"YES {ping.code}"}
        if kind == "voice":
            return f"{VOICE}?ping={ping.id}", {"CallSid": new_sid("CA"), "Digits": "1",
                                                "From": FIXLINE_NUMBER, "To": ping.to_number}
        message = Message.get(Message.ping == ping, Message.direction == "outbound")
        outbound.deliver(message.id, config)  # the outbox gives it a provider id
        return STATUS, {"MessageSid": Message.get_by_id(message.id).provider_id,
                        "MessageStatus": "undelivered", "ErrorCode": "30003"}

    return make


def changed(ticket) -> bool:
    """Whether the webhook had its effect: a booking, a decline or a failed offer."""
    return (Ticket.get_by_id(ticket.id).status != "dispatching"
            or Ping.select().where(Ping.ticket == ticket).count() != 1)


def post(client, path, form, signature=None):
    headers = {} if signature is None else {"X-Twilio-Signature": signature}
    return client.post(path, data=form, headers=headers)


@pytest.mark.parametrize("kind", WEBHOOKS)
def test_a_missing_signature_is_refused_and_changes_nothing(client, ticket, request_for, kind):
    path, form = request_for(kind)
    before = snapshot()
    assert post(client, path, form).status_code == 403
    assert post(client, path, form, "").status_code == 403
    assert snapshot() == before


@pytest.mark.parametrize("kind", WEBHOOKS)
def test_a_wrong_signature_is_refused_and_changes_nothing(client, config, ticket, request_for,
                                                          kind):
    path, form = request_for(kind)
    token = config.webhook_auth_token
    before = snapshot()
    wrong = [
        "not-a-signature",
        sign(LOCAL + path, form, "0" * 32),  # another token
        sign(LOCAL + path, {**form, "Body": "NO"}, token),  # another body
        sign(LOCAL + path, dict(list(form.items())[1:]), token),  # a field less
        sign("http://evil.example" + path, form, token),  # another host
        sign(LOCAL + path + "x", form, token),  # another path
    ]
    for signature in wrong:
        assert post(client, path, form, signature).status_code == 403, signature
    assert snapshot() == before
    assert Message.select().where(Message.direction == "inbound").count() == 0


@pytest.mark.parametrize("kind", WEBHOOKS)
def test_a_correct_signature_is_let_in(ticket, request_for, signed_post, kind):
    path, form = request_for(kind)
    response = signed_post(path, form)
    assert response.status_code == 200, response.data
    assert changed(ticket)


def test_the_query_string_is_part_of_the_signed_url(client, config, ticket, request_for):
    path, form = request_for("voice")
    token = config.webhook_auth_token
    ping = pending(ticket)
    for url in (LOCAL + VOICE, LOCAL + f"{VOICE}?ping={ping.id + 1}",
                LOCAL + f"{VOICE}?ping={ping.id}&x=1"):
        assert post(client, path, form, sign(url, form, token)).status_code == 403, url
    assert not changed(ticket)
    assert post(client, path, form, sign(LOCAL + path, form, token)).status_code == 200
    assert Appointment.select().count() == 1


def test_the_dev_token_is_what_the_simulator_signs_with(config, client, ticket, request_for):
    assert config.twilio_auth_token == ""  # no TWILIO_AUTH_TOKEN configured
    generated = (config.instance_path / "twilio_auth_token").read_text().strip()
    assert generated and config.webhook_auth_token == config.dev_webhook_token == generated
    path, form = request_for("sms")
    assert post(client, path, form, sign(LOCAL + path, form, "f1c7" * 8)).status_code == 403
    assert post(client, path, form, sign(LOCAL + path, form, generated)).status_code == 200
    assert changed(ticket)


def test_the_dev_token_survives_a_restart(database_url, tmp_path, config):
    again = make_config(database_url, tmp_path / "instance")
    assert again.webhook_auth_token == config.webhook_auth_token


class TestTwilioAuthToken:
    """With TWILIO_AUTH_TOKEN set, only signatures made with it are accepted."""

    TOKEN = "9e" * 16

    @pytest.fixture
    def config(self, database_url, tmp_path):
        return make_config(database_url, tmp_path / "instance", twilio_auth_token=self.TOKEN)

    @pytest.mark.parametrize("kind", WEBHOOKS)
    def test_only_the_configured_token_signs(self, config, client, ticket, request_for, kind):
        path, form = request_for(kind)
        dev = (config.instance_path / "twilio_auth_token")
        assert config.webhook_auth_token == self.TOKEN and not dev.exists()
        other = sign(LOCAL + path, form, "ab" * 16)
        assert post(client, path, form, other).status_code == 403
        assert not changed(ticket)
        assert post(client, path, form, sign(LOCAL + path, form, self.TOKEN)).status_code == 200
        assert changed(ticket)


class TestPublicBaseUrl:
    """Behind a proxy the signature covers PUBLIC_BASE_URL + path + query, not the local URL."""

    @pytest.fixture
    def config(self, database_url, tmp_path):
        return make_config(database_url, tmp_path / "instance", public_base_url=PUBLIC)

    @pytest.mark.parametrize("kind", WEBHOOKS)
    def test_a_signature_over_the_local_url_is_refused(self, config, client, ticket,
                                                       request_for, kind):
        path, form = request_for(kind)
        before = snapshot()
        local = sign(LOCAL + path, form, config.webhook_auth_token)
        assert post(client, path, form, local).status_code == 403
        assert snapshot() == before

    @pytest.mark.parametrize("kind", WEBHOOKS)
    def test_a_signature_over_the_public_url_passes(self, config, client, ticket, request_for,
                                                    kind):
        path, form = request_for(kind)
        public = sign(PUBLIC + path, form, config.webhook_auth_token)
        assert post(client, path, form, public).status_code == 200
        assert changed(ticket)

    def test_the_public_url_keeps_the_query(self, config, client, ticket, request_for):
        path, form = request_for("voice")
        token = config.webhook_auth_token
        assert post(client, path, form, sign(PUBLIC + VOICE, form, token)).status_code == 403
        assert not changed(ticket)
        assert post(client, path, form, sign(PUBLIC + path, form, token)).status_code == 200
        assert Appointment.select().count() == 1

    def test_a_trailing_slash_in_the_setting_changes_nothing(self, database_url, tmp_path):
        config = Config.from_env({"DATABASE_URL": database_url, "REDIS_URL": "stub://",
                                  "FIXLINE_INSTANCE_PATH": str(tmp_path / "other"),
                                  "PUBLIC_BASE_URL": PUBLIC + "/"})
        assert config.public_base_url == PUBLIC


class TestShiftedReplays:
    """Twilio signs URL + name + value + name + value … with nothing between them, so a captured
    request re-sent with a boundary moved (here: NumMedia glued onto MessageSid, which makes a
    new MessageSid and dodges its dedupe) keeps a valid signature. It is answered and ignored."""

    @staticmethod
    def sms_form(number: str, body: str) -> dict[str, str]:
        return {"AccountSid": "AC" + "0" * 32, "Body": body, "From": number,
                "MessageSid": new_sid(), "NumMedia": "0", "To": FIXLINE_NUMBER}

    @staticmethod
    def shifted(form: dict[str, str]) -> dict[str, str]:
        variant = dict(form)
        variant["MessageSid"] += "NumMedia" + variant.pop("NumMedia")
        return variant

    @staticmethod
    def send(client, form, signature, token=None):
        headers = {"X-Twilio-Signature": signature}
        if token:
            headers["I-Twilio-Idempotency-Token"] = token
        return client.post(SMS, data=form, headers=headers)

    def signed(self, config, form) -> str:
        signature = sign(LOCAL + SMS, form, config.webhook_auth_token)
        variant = self.shifted(form)
        assert variant != form and variant["MessageSid"] != form["MessageSid"]
        assert RequestValidator(config.webhook_auth_token).validate(LOCAL + SMS, variant,
                                                                    signature)
        return signature

    @pytest.mark.parametrize("token", [None, "made-up-token"])
    def test_a_shifted_yes_has_no_second_effect(self, client, config, ticket, token):
        ping = pending(ticket)
        form = self.sms_form(ping.to_number, f"YES {ping.code}")
        signature = self.signed(config, form)
        assert said(self.send(client, form, signature)).startswith(f"You have job {ping.code}")
        before = snapshot()
        replay = self.send(client, self.shifted(form), signature, token)
        assert list(twiml(replay)) == []  # 200 and an empty <Response/>
        assert snapshot() == before
        assert Message.select().where(Message.direction == "inbound").count() == 1

    @pytest.mark.parametrize("token", [None, "made-up-token"])
    def test_a_shifted_stop_cannot_undo_a_start(self, client, config, office, token):
        number = office.vendors["Acme Plumbing"].phones[0]
        stop = self.sms_form(number, "STOP")
        signature = self.signed(config, stop)
        assert self.send(client, stop, signature).status_code == 200
        start = self.sms_form(number, "START")
        assert self.send(client, start, sign(LOCAL + SMS, start, config.webhook_auth_token))
        before = snapshot()
        replay = self.send(client, self.shifted(stop), signature, token)
        assert list(twiml(replay)) == []
        assert snapshot() == before  # the vendor is still opted in

    def test_twilios_retry_gets_the_same_answer(self, client, config, ticket):
        ping = pending(ticket)
        form = self.sms_form(ping.to_number, f"YES {ping.code}")
        signature = sign(LOCAL + SMS, form, config.webhook_auth_token)
        token = "a1b2c3d4-0000-4000-8000-000000000001"
        answers = [said(self.send(client, form, signature, token)) for _ in range(2)]
        answers.append(said(self.send(client, form, signature)))  # the header is optional
        assert answers[0].startswith(f"You have job {ping.code}")
        assert answers == [answers[0]] * 3
        assert Appointment.select().count() == 1
        assert Message.select().where(Message.direction == "inbound").count() == 1

    def test_an_idempotency_token_seen_with_other_parameters_is_a_replay(self, client, config,
                                                                         ticket):
        ping = pending(ticket)
        token = "a1b2c3d4-0000-4000-8000-000000000002"
        first = self.sms_form(ping.to_number, "HELP")
        self.send(client, first, sign(LOCAL + SMS, first, config.webhook_auth_token), token)
        before = snapshot()
        other = self.sms_form(ping.to_number, f"YES {ping.code}")
        replay = self.send(client, other, sign(LOCAL + SMS, other, config.webhook_auth_token),
                           token)
        assert list(twiml(replay)) == []
        assert snapshot() == before

    def test_receipts_are_kept_ten_minutes_then_pruned(self, client, config, ticket):
        start = datetime(2031, 3, 4, 9, 0)
        clock.set_fake(start)
        ping = pending(ticket)
        form = self.sms_form(ping.to_number, f"YES {ping.code}")
        self.send(client, form, sign(LOCAL + SMS, form, config.webhook_auth_token), "tok-3")
        assert WebhookReceipt.select().count() == 2  # the signature's and the token's
        clock.set_fake(start + timedelta(seconds=RECEIPT_SECONDS - 1))
        assert prune_receipts() == 0
        clock.set_fake(start + timedelta(seconds=RECEIPT_SECONDS + 1))
        assert prune_receipts() == 2
        assert WebhookReceipt.select().count() == 0
