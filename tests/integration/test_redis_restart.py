"""The broker dies and comes back empty: deadlines and the outbox in the database carry on."""

from __future__ import annotations

import pytest

from tests.integration.stack import (
    Stack,
    add_vendors,
    answer_yes,
    assert_booked_once,
    offers,
    open_ticket,
    wait_until,
)

TIMEOUT = 2  # VENDOR_REPLY_TIMEOUT_SECONDS
RESEND_AFTER = 30  # app.booking.sweep.STALE_QUEUED

pytestmark = pytest.mark.slow  # starts the stack's processes


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'fixline.db'}"
    return request.getfixturevalue("postgres_url")


def test_redis_restart_mid_dispatch_loses_nothing(tmp_path, database_url, own_redis):
    with Stack(tmp_path, database_url, own_redis.url,
               VENDOR_REPLY_TIMEOUT_SECONDS=str(TIMEOUT)) as stack:
        stack.prepare()
        stack.start(workers=2)
        first, second = add_vendors(stack)
        waiting = open_ticket(stack)
        stack.wait_offer(waiting, to=first)

        own_redis.kill()  # mid-dispatch: a ping is pending
        during = open_ticket(stack, tenant=1)  # intake works; its event stays in the outbox
        assert stack.ticket(during)["status"] == "new"
        own_redis.start()  # a fresh, empty server on the same socket

        # The expired ping lives in the database: the sweep asks the next vendor.
        offer = stack.wait_offer(waiting, to=second)
        answer_yes(stack, offer, "SM" + "d" * 32)
        ticket = assert_booked_once(stack, waiting, second)
        assert [p["outcome"] for p in ticket["pings"]] == ["timed_out", "accepted"]
        assert [m["to"] for m in offers(stack, waiting)] == [first, second]

        # The sweep republishes the event the broker never got: dispatch starts.
        offer = stack.wait_offer(during)
        answer_yes(stack, offer, "SM" + "e" * 32)
        assert_booked_once(stack, during, offer["to"])


def test_messages_lost_with_redis_are_sent_again(tmp_path, own_redis):
    """What sat in Redis when it died: queued messages go again after 30 s; events do not."""
    with Stack(tmp_path, f"sqlite:///{tmp_path / 'fixline.db'}", own_redis.url) as stack:
        stack.prepare()
        stack.start(workers=2)
        first, _ = add_vendors(stack)
        booked = open_ticket(stack)
        offer = stack.wait_offer(booked, to=first)
        tenant = stack.api("GET", "/tenants")[0]

        stack.pause_workers()  # nothing is fetched from Redis: it only holds what is queued
        answer_yes(stack, offer, "SM" + "f" * 32)  # books in the web request
        assert stack.ticket(booked)["status"] == "scheduled"
        note = stack.api("POST", "/notify", {"recipient": {"type": "tenant", "id": tenant["id"]},
                                             "message": "The plumber is on the way."})
        unstarted = open_ticket(stack, tenant=1)
        own_redis.kill()
        own_redis.start()
        stack.resume_workers()

        def delivered() -> bool:
            stack.check_alive()
            return any(m["id"] == note["id"] and m["status"] == "stored"
                       for m in stack.api("GET", "/messages?limit=500"))

        wait_until(delivered, RESEND_AFTER + 15, "the lost message sent again", stack.logs)
        ticket = stack.ticket(booked)
        assert ticket["status"] == "scheduled" and len(ticket["appointments"]) == 1

        # Events Redis lost (never handled) are handed over again by the sweep.
        stack.wait_notices(ticket, timeout=20)  # each told exactly once
        stack.wait_offer(unstarted, timeout=20)
