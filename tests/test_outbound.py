"""Outbound messages end to end: enqueued after commit, sent once, every attempt recorded."""

from __future__ import annotations

import pytest

from actors import tasks
from app.api.auth import mint
from app.db import db, transaction
from app.messaging import outbound
from app.messaging.channels import Outbox
from app.models import Event, Fault, Message
from app.seed import load
from tests import twilio_fake
from tests.conftest import make_config

fake_twilio = twilio_fake.fake_twilio  # the fixture, requested by name below

VENDOR = "+15550003000"


@pytest.fixture
def enqueued(app, monkeypatch) -> list[tuple[int, int]]:
    """Every (message_id, delay_ms) handed to the broker; they still reach it."""
    calls: list[tuple[int, int]] = []
    sender = outbound._sender

    def spy(message_id: int, delay_ms: int) -> None:
        calls.append((message_id, delay_ms))
        sender(message_id, delay_ms)

    monkeypatch.setattr(outbound, "_sender", spy)
    return calls


@pytest.fixture
def sends(app, monkeypatch) -> list[int]:
    """Ids of the messages the outbox was asked to carry, in order."""
    calls: list[int] = []
    send = Outbox.send

    def counting(self, message, config):
        calls.append(message.id)
        return send(self, message, config)

    monkeypatch.setattr(Outbox, "send", counting)
    return calls


@pytest.fixture
def writes(app, monkeypatch) -> list[int]:
    """One entry per write transaction opened from here on (outermost or not)."""
    opened: list[int] = []
    begin = db.obj.begin

    def counting(*args, **kwargs):
        opened.append(1)
        return begin(*args, **kwargs)

    monkeypatch.setattr(db.obj, "begin", counting)
    return opened


def sent_events() -> list[dict]:
    return [e.data for e in Event.select().where(Event.type == "notification.sent")]


def test_queue_in_a_transaction_enqueues_only_after_commit(landlord, broker, enqueued, request):
    with transaction():
        message = outbound.queue(landlord=landlord, to=VENDOR, body="Job K7Q2?")
        assert enqueued == []
        assert broker.queues["default"].qsize() == 0
    assert enqueued == [(message.id, 0)]
    assert broker.queues["default"].qsize() == 1

    request.getfixturevalue("worker")
    broker.join("default")
    stored = Message.get_by_id(message.id)
    assert (stored.status, stored.attempts) == ("stored", 1)
    assert stored.provider_id.startswith("OB")


def test_a_rolled_back_transaction_enqueues_nothing(landlord, broker, enqueued):
    class Abandoned(Exception):
        pass

    with pytest.raises(Abandoned), transaction():
        outbound.queue(landlord=landlord, to=VENDOR, body="Job K7Q2?")
        raise Abandoned
    with transaction():  # the next commit must not run the abandoned callback
        pass

    assert Message.select().count() == 0
    assert enqueued == []
    assert broker.queues["default"].qsize() == 0
    assert broker.queues["default.DQ"].qsize() == 0


def test_deliver_twice_sends_once(landlord, config, sends):
    message = outbound.queue(landlord=landlord, to=VENDOR, body="Job K7Q2?")
    assert outbound.deliver(message.id, config) == "stored"
    provider_id = Message.get_by_id(message.id).provider_id
    assert outbound.deliver(message.id, config) == "skipped"

    assert sends == [message.id]
    assert Message.get_by_id(message.id).provider_id == provider_id
    assert [e["messageId"] for e in sent_events()] == [message.id]


def test_the_actor_run_twice_sends_once(landlord, broker, worker, sends):
    message = outbound.queue(landlord=landlord, to=VENDOR, body="Job K7Q2?")
    tasks.send_message.send(message.id)  # Dramatiq delivers at least once
    broker.join("default")

    assert sends == [message.id]
    assert Message.get_by_id(message.id).attempts == 1
    assert [e["messageId"] for e in sent_events()] == [message.id]


def test_every_attempt_is_a_message_row_and_an_event(landlord, home, broker, worker):
    _, tenant = home
    outbound.queue(landlord=landlord, to=tenant.phone, body="Booked", channel="sms")
    outbound.queue(landlord=landlord, to=VENDOR, body="Job K7Q2?", channel="voice")
    outbound.queue(landlord=landlord, to=landlord.email, body="Booked", channel="email")
    broker.join("default")

    messages = list(Message.select().order_by(Message.id))
    assert [(m.channel, m.status) for m in messages] == [
        ("sms", "stored"), ("voice", "stored"), ("email", "stored")]
    assert len({m.provider_id for m in messages}) == 3
    expected = [(m.id, m.channel, m.to_number) for m in messages]
    assert sorted((e["messageId"], e["channel"], e["to"]) for e in sent_events()) == expected
    assert {e.landlord_id for e in Event.select()} == {landlord.id}


class TestWithTwilioConfigured:
    """Twilio carries SMS and calls; email still stays in the outbox."""

    @pytest.fixture
    def config(self, database_url, tmp_path, fake_twilio):
        return make_config(database_url, tmp_path / "instance",
                           **fake_twilio.settings("+15005550006"))

    def test_a_workers_messages_share_their_claim_and_are_sent_one_by_one(
            self, fake_twilio, landlord, home, config, writes):
        _, tenant = home
        with transaction():
            first = outbound.queue(landlord=landlord, to=tenant.phone, body="Booked")
            second = outbound.queue(landlord=landlord, to=VENDOR, body="Job K7Q2?")
        writes.clear()

        assert outbound.deliver_all([first.id, second.id], config) == ["queued", "queued"]
        assert [r.form["To"] for r in fake_twilio.requests] == [tenant.phone, VENDOR]
        assert len(writes) == 3  # the two claims, then each send's record
        sids = [Message.get_by_id(m.id).provider_id for m in (first, second)]
        assert sids == [c["sid"] for c in fake_twilio.created]

    def test_email_goes_to_the_outbox(self, fake_twilio, landlord, broker, worker, sends):
        email = outbound.queue(landlord=landlord, to=landlord.email, body="Booked",
                               channel="email")
        sms = outbound.queue(landlord=landlord, to=VENDOR, body="Job K7Q2?")
        broker.join("default")

        assert sends == [email.id]
        assert [r.form["To"] for r in fake_twilio.requests] == [VENDOR]
        email, sms = Message.get_by_id(email.id), Message.get_by_id(sms.id)
        assert (email.status, email.provider_id[:2]) == ("stored", "OB")
        assert (sms.status, sms.provider_id) == ("queued", fake_twilio.created[0]["sid"])


class Boom(Exception):
    pass


def test_what_a_worker_queues_it_delivers_itself_once_its_work_ends(
        landlord, config, broker, enqueued, sends):
    with outbound.delivered_here(config):
        with transaction():
            first = outbound.queue(landlord=landlord, to=VENDOR, body="Job K7Q2?")
            second = outbound.queue(landlord=landlord, to=landlord.phone, body="Booked")
        assert sends == []  # not while the work that queued them still runs

    assert sends == [first.id, second.id]
    assert enqueued == [] and broker.queues["default"].qsize() == 0
    assert {m.status for m in Message.select()} == {"stored"}


def test_a_retry_queued_for_later_still_goes_to_the_broker(landlord, config, broker, enqueued):
    message = outbound.queue(landlord=landlord, to=VENDOR, body="Job K7Q2?")
    with outbound.delivered_here(config):
        outbound.enqueue(message.id, 500)
    assert enqueued == [(message.id, 0), (message.id, 500)]


def test_work_that_fails_hands_what_it_committed_to_the_broker(
        landlord, config, broker, enqueued, sends):
    with pytest.raises(Boom), outbound.delivered_here(config):
        committed = outbound.queue(landlord=landlord, to=VENDOR, body="Job K7Q2?")
        raise Boom
    assert sends == [] and enqueued == [(committed.id, 0)]
    assert broker.queues["default"].qsize() == 1


def test_the_event_actor_sends_the_offer_it_made_without_another_message(
        app, client, broker, worker, enqueued, sends):
    """intake.completed in the worker: the vendor's offer is sent by the same actor run, so a
    booking's offer and notices cost the broker no message of their own."""
    landlord = load()
    tenant = landlord.properties[0].tenants[0]
    created = client.post("/api/tickets", headers={"Authorization": f"Bearer {mint(landlord)}"},
                          json={"tenantId": tenant.id, "propertyId": tenant.property_id,
                                "category": "plumbing", "severity": "emergency", "window": "now"})
    assert created.status_code == 201, created.json
    broker.join("default")
    worker.join()

    offers = list(Message.select().where(Message.ticket == created.json["id"],
                                         Message.ping.is_null(False)))
    assert [m.status for m in offers] == ["stored"] and sends == [offers[0].id]
    assert enqueued == []


def test_a_workers_local_messages_are_claimed_kept_and_recorded_in_one_write(
        landlord, config, writes, sends):
    first = outbound.queue(landlord=landlord, to=VENDOR, body="Job K7Q2?")
    second = outbound.queue(landlord=landlord, to=landlord.phone, body="Booked")
    writes.clear()

    assert outbound.deliver_all([first.id, second.id], config) == ["stored", "stored"]
    assert len(writes) == 1 and sends == [first.id, second.id]
    assert sorted(e["messageId"] for e in sent_events()) == [first.id, second.id]
    assert outbound.deliver_all([first.id, second.id], config) == ["skipped", "skipped"]


def test_one_message_failing_among_several_fails_alone(landlord, config, monkeypatch):
    bad = outbound.queue(landlord=landlord, to=VENDOR, body="Job K7Q2?")
    good = outbound.queue(landlord=landlord, to=landlord.phone, body="Booked")
    send = Outbox.send

    def breaks_on_bad(self, message, config):
        if message.id == bad.id:
            raise Boom("a bug in one message's sending")
        return send(self, message, config)

    monkeypatch.setattr(Outbox, "send", breaks_on_bad)
    assert outbound.deliver_all([bad.id, good.id], config) == ["error", "stored"]
    assert Message.get_by_id(bad.id).status == "queued"  # back in the queue, to be retried
    assert Fault.get(Fault.kind == "message", Fault.row_id == bad.id).attempts == 1
    assert [e["messageId"] for e in sent_events()] == [good.id]


def test_a_block_inside_another_leaves_the_sending_to_the_outer_one(landlord, config, sends):
    with outbound.delivered_here(config):
        with outbound.delivered_here(config):
            message = outbound.queue(landlord=landlord, to=VENDOR, body="Job K7Q2?")
        assert sends == []
    assert sends == [message.id]
