"""The spend cap (CONTRACT.md §14): /api/notify and manual pings share SMS_HOURLY_LIMIT per
landlord, counted in the database; a second manual ping while one is pending is a 409."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from app import clock
from app.booking import loop
from app.models import Message, Ping
from tests.api.conftest import error_of, make_ticket, make_vendor
from tests.conftest import make_config

LIMIT = 4


@pytest.fixture
def config(database_url, tmp_path):
    return make_config(database_url, tmp_path / "instance", sms_hourly_limit=LIMIT)


def notify(client, auth, n: int):
    return client.post("/api/notify", json={"to": f"+1555000{n:04d}", "message": "Hi"},
                       headers=auth)


def ping(client, auth, vendor, ticket):
    return client.post(f"/api/vendors/{vendor.id}/ping",
                       json={"ticketId": ticket.id, "method": "sms"}, headers=auth)


def test_past_the_limit_notify_and_pings_answer_429_with_retry_after(
        client, auth, landlord, other_auth):
    vendor, ticket = make_vendor(landlord), make_ticket(landlord)
    assert ping(client, auth, vendor, ticket).status_code == 202
    for n in range(LIMIT - 1):
        assert notify(client, auth, n).status_code == 202
    stored = Message.select().count()
    refused = notify(client, auth, 99)
    assert refused.status_code == 429 and error_of(refused)["code"] == "sms_limit"
    assert 0 < int(refused.headers["Retry-After"]) <= 3600
    other_vendor = make_vendor(landlord, "Second Vendor")
    refused = ping(client, auth, other_vendor, ticket)
    assert refused.status_code == 429 and error_of(refused)["code"] == "sms_limit"
    assert Message.select().count() == stored
    assert notify(client, auth, 100).status_code == 429
    assert notify(client, other_auth, 1).status_code == 202  # another landlord's own hour


def test_an_hour_later_messages_go_again(client, auth):
    start = clock.now()
    clock.set_fake(start)
    try:
        for n in range(LIMIT):
            assert notify(client, auth, n).status_code == 202
        retry_after = int(notify(client, auth, 9).headers["Retry-After"])
        clock.set_fake(start + timedelta(seconds=retry_after - 5))
        assert notify(client, auth, 9).status_code == 429
        clock.set_fake(start + timedelta(seconds=retry_after + 1))
        assert notify(client, auth, 9).status_code == 202
    finally:
        clock.set_fake(None)


def test_the_engines_own_messages_do_not_count(client, auth, landlord, config):
    vendor, ticket = make_vendor(landlord), make_ticket(landlord, status="new")
    loop.start(ticket.id, config)  # the engine's offer
    assert Ping.get(Ping.ticket == ticket).vendor_id == vendor.id
    for n in range(LIMIT):
        assert notify(client, auth, n).status_code == 202


def test_racing_senders_never_pass_the_cap(app, auth, landlord):
    """Several threads (as several web processes would) share one count in the database."""
    answers, gate = [], threading.Barrier(8)

    def send(n: int) -> None:
        client = app.test_client()
        gate.wait()
        with app.app_context():
            answers.append(notify(client, auth, n).status_code)

    threads = [threading.Thread(target=send, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(answers) == [202] * LIMIT + [429] * (8 - LIMIT)
    assert Message.select().where(Message.capped == True).count() == LIMIT  # noqa: E712


def test_a_second_manual_ping_while_one_is_pending_is_409(client, auth, landlord, config):
    vendor, ticket = make_vendor(landlord), make_ticket(landlord)
    assert ping(client, auth, vendor, ticket).status_code == 202
    again = ping(client, auth, vendor, ticket)
    assert again.status_code == 409 and "still has this job's offer pending" in (
        error_of(again)["message"])
    assert Ping.select().count() == 1
    loop.lapse(Ping.get().id, "timed_out", config)
    assert ping(client, auth, vendor, ticket).status_code == 202
