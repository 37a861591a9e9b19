"""`make run` under fire: kill -9 each kind of child during a burst of tickets; the supervisor
starts each again, says so, and every ticket is still booked exactly once."""

from __future__ import annotations

import os
import re
import signal

import pytest

from tests.integration.stack import (
    OFFER_CODE,
    PYTHON,
    Stack,
    answer_yes,
    assert_booked_once,
    open_ticket,
    request,
    wait_until,
)
from tests.test_make_run import alive, descendants, proc_stat

pytestmark = pytest.mark.slow  # starts the stack's processes

PER_KILL = 5  # tickets opened right before each kill
# Each kind of child `make run` starts, by a piece of its command line; killed in this order.
KINDS = {"worker": "dramatiq actors --processes 1 --threads 4 --worker-shutdown-timeout 8000 "
                   "--queues default", "webhooks": "--queues webhooks", "redis": "redis-server",
         "scheduler": "actors.scheduler", "web": "gunicorn"}


def child_of(supervisor: int, kind: str) -> int:
    """The pid of the supervisor's own child of that kind (not what that child forked)."""
    for pid, (_, command) in descendants(supervisor).items():
        if KINDS[kind] in command and (proc_stat(pid) or ("", 0))[1] == supervisor:
            return pid
    pytest.fail(f"the supervisor has no {kind} child")


def answer_offers(stack: Stack, answered: set[int]) -> None:
    """The vendor of every offer delivered so far answers YES, once; skipped while the web
    server or Redis is still coming back (the next pass answers it)."""
    status, messages = request("GET", stack.base + "/api/messages?limit=500",
                               headers={"Authorization": f"Bearer {stack.api_key}"})
    if status != 200:
        return
    for message in messages:
        if (message["direction"] == "outbound" and message["status"] == "stored"
                and OFFER_CODE.search(message["body"]) and message["id"] not in answered):
            try:
                answer_yes(stack, message, f"SM{message['id']:032d}")
            except AssertionError:
                continue
            answered.add(message["id"])


def booked(stack: Stack, tickets: list[int], answered: set[int]) -> bool:
    stack.check_alive()
    answer_offers(stack, answered)
    status, page = request("GET", stack.base + "/api/tickets?perPage=100",
                           headers={"Authorization": f"Bearer {stack.api_key}"})
    statuses = {t["id"]: t["status"] for t in page["items"]} if status == 200 else {}
    return all(statuses.get(ticket) == "scheduled" for ticket in tickets)


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'fixline.db'}"
    return request.getfixturevalue("postgres_url")


def test_every_kind_of_child_killed_mid_burst_is_restarted_and_every_ticket_booked(
        tmp_path, database_url):
    # `make run` with its embedded Redis (per instance directory, so no clash with other runs).
    # Replies may come late (a lost offer is sent again after 30 s): nobody's offer lapses.
    with Stack(tmp_path, database_url, None, VENDOR_REPLY_TIMEOUT_SECONDS="600") as stack:
        children: dict[int, tuple[str, str]] = {}
        try:
            supervisor = stack.spawn("supervisor", [PYTHON, "-m", "app.supervisor"])
            log = supervisor.log_path.read_text
            banner = wait_until(
                lambda: re.search(r"Demo API key:\s+(\S+)", log())
                or not supervisor.running() and pytest.fail(stack.logs()),
                60, "the supervisor's banner", stack.logs)
            stack.api_key = banner[1]
            stack.wait_ready()
            # One 24/7 vendor per ticket, the only ones who do appliances: each ticket has
            # somebody free to ask even where a vendor with a visit that day is passed over.
            for n in range(PER_KILL * len(KINDS)):
                stack.api("POST", "/vendors", {"name": f"Appliance vendor {n}",
                                               "phones": [f"+1555700{n:04d}"],
                                               "specialties": ["appliance"], "hours": "24/7",
                                               "priority": 1})
            tickets: list[int] = []
            answered: set[int] = set()
            for kind in KINDS:
                tickets += [open_ticket(stack, tenant=n % 3) for n in range(PER_KILL)]
                children |= descendants(supervisor.pid)
                victim = child_of(supervisor.pid, kind)
                os.kill(victim, signal.SIGKILL)  # its dispatch, offers and notices in flight
                said = re.compile(
                    rf"fixline: {kind} \(pid {victim}\) exited unexpectedly with code -9; "
                    rf"restarting it in [\d.]+ s\n(.*\n)*fixline: {kind} restarted \(pid \d+\)")
                wait_until(lambda: said.search(log()), 20,  # noqa: B023 (used at once)
                           f"{kind} restarted", stack.logs)
                if kind == "web":
                    stack.wait_ready()
                answer_offers(stack, answered)

            wait_until(lambda: booked(stack, tickets, answered), 90,
                       f"all {len(tickets)} tickets booked", stack.logs)
            for ticket in tickets:
                assert_booked_once(stack, ticket)
            assert "stopping everything" not in log()
            children |= descendants(supervisor.pid)
            supervisor.popen.send_signal(signal.SIGTERM)
            assert supervisor.popen.wait(30) == 0, stack.logs()
            assert [cmd for pid, (start, cmd) in children.items() if alive(pid, start)] == []
            # (Tracebacks of children are no bug here: a send while Redis was down logs one.)
            assert 'supervisor.py", line' not in log()
        finally:
            stack.close()
            for pid, (start, _) in children.items():
                if alive(pid, start):
                    os.kill(pid, signal.SIGKILL)
