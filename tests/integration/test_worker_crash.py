"""SIGKILL every worker mid-dispatch: new workers carry every ticket on, nothing lost or doubled."""

from __future__ import annotations

import time

import pytest

from tests.integration.stack import (
    Stack,
    add_vendors,
    answer_yes,
    assert_booked_once,
    offers,
    open_ticket,
)

TIMEOUT = 2  # VENDOR_REPLY_TIMEOUT_SECONDS

pytestmark = pytest.mark.slow  # starts the stack's processes


def test_killing_every_worker_mid_dispatch_loses_nothing(tmp_path, backend):
    database_url, broker_url = backend
    with Stack(tmp_path, database_url, broker_url,
               VENDOR_REPLY_TIMEOUT_SECONDS=str(TIMEOUT)) as stack:
        stack.prepare()
        stack.start(workers=2)
        first, second = add_vendors(stack)
        waiting = open_ticket(stack)
        stack.wait_offer(waiting, to=first)

        stack.kill_workers()  # a ping is pending; no worker is left to act on anything
        queued = open_ticket(stack, tenant=1)  # its dispatch waits in Redis for a worker
        time.sleep(TIMEOUT + 1)
        ticket = stack.ticket(waiting)
        assert [p["outcome"] for p in ticket["pings"]] == ["pending"]  # expired, nobody acted
        assert stack.ticket(queued)["status"] == "new"

        stack.start_worker()
        stack.start_worker()
        # The sweep finds the expired ping in the database and asks the next vendor.
        offer = stack.wait_offer(waiting, to=second)
        answer_yes(stack, offer, "SM" + "b" * 32)
        ticket = assert_booked_once(stack, waiting, second)
        assert [(p["vendorName"], p["outcome"]) for p in ticket["pings"]] == [
            ("appliance vendor 1", "timed_out"), ("appliance vendor 2", "accepted")]
        assert [m["to"] for m in offers(stack, waiting)] == [first, second]

        # The ticket opened while no worker lived is dispatched by the new ones.
        offer = stack.wait_offer(queued)
        answer_yes(stack, offer, "SM" + "c" * 32)
        assert_booked_once(stack, queued, offer["to"])
        assert len(offers(stack, queued)) == len(stack.ticket(queued)["pings"])
        stack.assert_no_tracebacks()
