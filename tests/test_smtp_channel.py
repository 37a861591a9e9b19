"""Email by SMTP against a real local server (aiosmtpd): what is sent, what is retried."""

from __future__ import annotations

import socket
from dataclasses import replace
from email import message_from_bytes, policy

import pytest

from app.booking import loop
from app.config import Config, ConfigError
from app.db import transaction
from app.messaging import notices, outbound
from app.messaging.channels import Outbox, channel_for
from app.messaging.smtp import SmtpChannel, subject
from app.messaging.smtp_url import SmtpSettings, parse
from app.models import Event, Message, Ticket
from tests.conftest import make_config

MAIL_FROM = "Fixline <dispatch@fixline.example>"
REFUSED = "gone@example.com"
BUSY = "busy@example.com"
BODY = "Ticket 7 at 12 Elm St needs you: no vendor took it. See https://x.test/tickets/7"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Sink:
    """Keeps every envelope; refuses REFUSED for good (550) and BUSY for now (451)."""

    def __init__(self):
        self.envelopes = []
        self.rcpts = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        self.rcpts.append(address)
        if address == REFUSED:
            return "550 5.1.1 No such user here"
        if address == BUSY:
            return "451 4.7.1 Greylisted, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"


def start_server(handler, port: int):
    """A plain aiosmtpd server (no STARTTLS) on 127.0.0.1:port, started."""
    controller_module = pytest.importorskip(
        "aiosmtpd.controller", reason="aiosmtpd not installed (pip install -r "
        "requirements-test.txt)")
    controller = controller_module.Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    return controller


@pytest.fixture
def port() -> int:
    return free_port()


@pytest.fixture
def sink(port):
    """The test's SMTP server; its handler keeps what it was sent."""
    handler = Sink()
    controller = start_server(handler, port)
    yield handler
    controller.stop()


@pytest.fixture
def config(database_url, tmp_path, port):
    return make_config(database_url, tmp_path / "instance",
                       smtp_url=f"smtp+plain://127.0.0.1:{port}", mail_from=MAIL_FROM)


def send(landlord, config, to="lana@example.com", body=BODY) -> tuple[str, Message]:
    message = outbound.queue(landlord=landlord, to=to, body=body, channel="email")
    outcome = outbound.deliver(message.id, config)
    return outcome, Message.get_by_id(message.id)


def events(kind: str) -> list[dict]:
    return [e.data for e in Event.select().where(Event.type == kind).order_by(Event.id)]


# --- SMTP_URL and MAIL_FROM ---------------------------------------------------------------

@pytest.mark.parametrize("url, expected", [
    ("smtp://user:p%40ss@mail.example.com:587",
     SmtpSettings("mail.example.com", 587, "starttls", "user", "p@ss")),
    ("smtp://mail.example.com", SmtpSettings("mail.example.com", 587, "auto")),
    ("smtp://127.0.0.1:1025", SmtpSettings("127.0.0.1", 1025, "auto")),  # CONTRACT §12's sink
    ("smtps://u:pw@mail.example.com", SmtpSettings("mail.example.com", 465, "tls", "u", "pw")),
    ("smtps://mail.example.com:2465", SmtpSettings("mail.example.com", 2465, "tls")),
    ("smtp+plain://localhost:1025", SmtpSettings("localhost", 1025, "plain")),
    ("smtp+plain://relay", SmtpSettings("relay", 25, "plain")),
    ("smtp://relay:25?starttls=false", SmtpSettings("relay", 25, "plain")),
    ("smtp://relay:25?starttls=auto", SmtpSettings("relay", 25, "auto")),
    ("SMTP://relay?starttls=required", SmtpSettings("relay", 587, "starttls")),
])
def test_each_scheme_is_read(url, expected):
    assert parse(url) == expected


@pytest.mark.parametrize("url, words", [
    ("http://mail.example.com", "scheme"),
    ("mail.example.com:587", "scheme"),
    ("smtp://", "no host"),
    ("smtp://mail.example.com:99999", "port"),
    ("smtp://mail.example.com:587/inbox", "path"),
    ("smtp://mail.example.com?tls=1", "only option"),
    ("smtps://mail.example.com?starttls=false", "only with smtp://"),
    ("smtp://mail.example.com?starttls=maybe", "true, auto or false"),
    ("smtp://u:secret@mail.example.com?starttls=auto", "in the clear"),
])
def test_a_bad_smtp_url_is_a_config_error(url, words, tmp_path):
    with pytest.raises(ConfigError) as caught:
        Config.from_env({"SMTP_URL": url, "FIXLINE_INSTANCE_PATH": str(tmp_path)})
    assert "SMTP_URL" in str(caught.value) and words in str(caught.value)
    assert "secret" not in str(caught.value)


def test_settings_are_read_and_the_password_never_shown(tmp_path):
    config = Config.from_env({"SMTP_URL": "smtps://me:hunter2@mail.example.com",
                              "MAIL_FROM": MAIL_FROM, "FIXLINE_INSTANCE_PATH": str(tmp_path)})
    assert (config.smtp.host, config.smtp.security, config.mail_from) == (
        "mail.example.com", "tls", MAIL_FROM)
    assert "hunter2" not in repr(config.smtp)
    unset = Config.from_env({"FIXLINE_INSTANCE_PATH": str(tmp_path)})
    assert (unset.smtp, unset.mail_from) == (None, "Fixline <fixline@localhost>")
    with pytest.raises(ConfigError, match="MAIL_FROM"):
        Config.from_env({"MAIL_FROM": "Fixline", "FIXLINE_INSTANCE_PATH": str(tmp_path)})


def test_channel_for_email_is_smtp_only_when_configured(tmp_path):
    bare = Config.from_env({"FIXLINE_INSTANCE_PATH": str(tmp_path)})
    smtp = Config.from_env({"SMTP_URL": "smtp+plain://localhost:1025",
                            "FIXLINE_INSTANCE_PATH": str(tmp_path)})
    assert isinstance(channel_for(bare, "email"), Outbox)
    assert isinstance(channel_for(smtp, "email"), SmtpChannel)
    assert isinstance(channel_for(smtp, "sms"), Outbox)


def test_subject_is_the_first_sentence():
    assert subject("Leak fixed. Rate it 1-5.") == "Fixline: Leak fixed."
    long = subject("word " * 40)
    assert long.startswith("Fixline: word word") and long.endswith("...")
    assert len(long) <= len("Fixline: ") + 70


# --- delivery against the local server -----------------------------------------------------

def test_email_is_delivered_with_from_to_subject_and_body(sink, landlord, config):
    outcome, message = send(landlord, config)

    assert outcome == "sent"
    [envelope] = sink.envelopes
    assert (envelope.mail_from, envelope.rcpt_tos) == ("dispatch@fixline.example",
                                                       ["lana@example.com"])
    mail = message_from_bytes(envelope.original_content, policy=policy.default)
    assert mail["From"] == MAIL_FROM
    assert mail["To"] == "lana@example.com"
    assert mail["Subject"] == "Fixline: Ticket 7 at 12 Elm St needs you: no vendor took it."
    assert mail.get_content().strip() == BODY
    assert (message.status, message.attempts, message.error) == ("sent", 1, None)
    assert (message.provider_id, message.from_number) == (mail["Message-ID"], MAIL_FROM)
    [sent] = events("notification.sent")
    assert (sent["messageId"], sent["channel"], sent["to"]) == (message.id, "email",
                                                               "lana@example.com")


def test_starttls_required_is_not_skipped_on_a_server_without_it(sink, landlord, config, port):
    """smtp:// with a login never falls back to sending in the clear: the message fails, not
    retried."""
    strict = replace(config, smtp_url=f"smtp://user:secret@127.0.0.1:{port}")
    outcome, message = send(landlord, strict)

    assert (outcome, message.status, message.attempts) == ("failed", "failed", 1)
    assert "STARTTLS" in message.error.upper()
    assert sink.envelopes == []


def test_a_refused_recipient_fails_once_and_is_recorded(sink, landlord, config):
    outcome, message = send(landlord, config, to=REFUSED)

    assert (outcome, message.status, message.attempts) == ("failed", "failed", 1)
    assert "550" in message.error and "No such user" in message.error
    assert sink.rcpts == [REFUSED] and sink.envelopes == []
    [failed] = events("notification.failed")
    assert (failed["messageId"], failed["channel"], failed["to"]) == (message.id, "email",
                                                                     REFUSED)
    assert outbound.deliver(message.id, config) == "skipped"  # never tried again


def test_a_temporary_refusal_is_retried(sink, landlord, config):
    outcome, message = send(landlord, config, to=BUSY)

    assert (outcome, message.status, message.attempts) == ("retrying", "queued", 1)
    assert "451" in message.error
    assert events("notification.failed") == []


def test_a_server_that_is_down_is_retried_then_reached(landlord, config, port, monkeypatch):
    """Nothing listens on the port at first: the send is retried, and delivered once the
    server is up."""
    retries: list[tuple[int, int]] = []
    monkeypatch.setattr(outbound, "_sender", lambda message_id, delay: retries.append(
        (message_id, delay)))
    outcome, message = send(landlord, config)
    assert (outcome, message.status, message.attempts) == ("retrying", "queued", 1)
    assert "unreachable" in message.error
    assert retries[-1] == (message.id, outbound.RETRY_DELAYS_MS[0])

    handler = Sink()
    controller = start_server(handler, port)
    try:
        assert outbound.deliver(message.id, config) == "sent"
    finally:
        controller.stop()
    message = Message.get_by_id(message.id)
    assert (message.status, message.attempts, message.error) == ("sent", 2, None)
    assert [e.rcpt_tos for e in handler.envelopes] == [["lana@example.com"]]


def test_a_server_down_for_good_fails_after_the_last_attempt(landlord, config):
    outcome, message = send(landlord, config)
    for _ in range(outbound.MAX_ATTEMPTS - 1):
        outcome = outbound.deliver(message.id, config)
    message = Message.get_by_id(message.id)
    assert (outcome, message.status, message.attempts) == ("failed", "failed",
                                                           outbound.MAX_ATTEMPTS)
    assert len(events("notification.failed")) == 1


# --- through the API and the escalation notices --------------------------------------------

def test_api_notify_email_really_sends(sink, client, auth, landlord, broker, worker):
    answer = client.post("/api/notify", headers=auth,
                         json={"recipient": {"type": "landlord", "id": landlord.id},
                               "message": "Rent receipts are ready.", "channel": "email"})
    assert answer.status_code == 202, answer.get_json()
    broker.join("default")

    [envelope] = sink.envelopes
    assert envelope.rcpt_tos == ["lana@example.com"]
    mail = message_from_bytes(envelope.original_content, policy=policy.default)
    assert mail.get_content().strip() == "Rent receipts are ready."
    assert Message.get_by_id(answer.get_json()["id"]).status == "sent"


def test_an_escalation_reaches_the_landlords_email(sink, landlord, home, config, broker,
                                                   worker):
    prop, tenant = home
    ticket = Ticket.create(landlord=landlord, property=prop, tenant=tenant,
                           category="plumbing", severity="routine", window="today",
                           status="dispatching")
    with transaction():
        loop.escalate(ticket, "no vendor accepted", config)
    [event] = Event.select().where(Event.type == "ticket.escalated")
    notices.escalated(ticket, "no vendor accepted", event, config)  # a replay: nothing new
    broker.join("default")

    emails = list(Message.select().where(Message.channel == "email"))
    [email] = emails
    [sms] = [m for m in Message.select().where(Message.channel == "sms",
                                                Message.recipient_type == "landlord")]
    assert (email.to_number, email.recipient_type, email.ticket_id) == (
        "lana@example.com", "landlord", ticket.id)
    assert email.body == sms.body and email.status == "sent"
    [envelope] = sink.envelopes
    assert envelope.rcpt_tos == ["lana@example.com"]
    mail = message_from_bytes(envelope.original_content, policy=policy.default)
    assert mail.get_content().strip() == sms.body


def test_a_plain_smtp_url_without_a_login_reaches_a_sink_without_starttls(sink, landlord, config,
                                                                          port):
    """CONTRACT §12: smtp://host:1025 is a server without TLS."""
    outcome, message = send(landlord, replace(config, smtp_url=f"smtp://127.0.0.1:{port}"))
    assert message.status != "failed", message.error
    assert len(sink.envelopes) == 1
