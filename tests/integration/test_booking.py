"""A booking through real processes: PostgreSQL + Redis with two workers, and `make run`'s stack."""

from __future__ import annotations

import os
import re
import signal

import pytest

from tests.integration.stack import PYTHON, Stack, answer_yes, assert_booked_once, wait_until
from tests.test_make_run import alive, descendants

pytestmark = pytest.mark.slow  # starts the stack's processes


def book_a_ticket(stack: Stack) -> dict:
    """Intake over HTTP, the offer in /api/messages, a signed YES: booked once, people told."""
    tenant = stack.api("GET", "/tenants")[0]
    created = stack.api("POST", "/tickets", {
        "tenantId": tenant["id"], "propertyId": tenant["propertyId"], "category": "plumbing",
        "severity": "emergency", "window": "now", "description": "kitchen sink leaking"})
    offer = stack.wait_offer(created["id"])
    code = re.search(r"Reply YES (\w+)", offer["body"])[1]
    assert f"You have job {code}" in answer_yes(stack, offer, "SM" + "a" * 32)
    ticket = assert_booked_once(stack, created["id"], offer["to"])
    assert ticket["firstResponseAt"] and ticket["pings"][0]["code"] == code
    return ticket


def test_postgres_redis_two_workers_book_a_ticket(tmp_path, postgres_url, redis_url):
    with Stack(tmp_path, postgres_url, redis_url) as stack:
        stack.prepare()
        stack.start(workers=2)
        book_a_ticket(stack)
        assert all(worker.running() for worker in stack.workers)
        stack.assert_no_tracebacks()


def test_make_run_stack_on_sqlite_books_a_ticket(tmp_path):
    """`python -m app.supervisor`: SQLite, embedded Redis, one worker, then a clean stop."""
    children: dict[int, tuple[str, str]] = {}
    with Stack(tmp_path, f"sqlite:///{tmp_path / 'fixline.db'}", None) as stack:
        try:
            supervisor = stack.spawn("supervisor", [PYTHON, "-m", "app.supervisor"])
            banner = wait_until(
                lambda: re.search(r"Demo API key:\s+(\S+)", supervisor.log_path.read_text())
                or not supervisor.running() and pytest.fail(stack.logs()),
                60, "the supervisor's banner", stack.logs)
            stack.api_key = banner[1]
            stack.wait_ready()
            children = descendants(supervisor.pid)
            book_a_ticket(stack)
            supervisor.popen.send_signal(signal.SIGINT)
            assert supervisor.popen.wait(30) == 0, stack.logs()
            assert [cmd for pid, (start, cmd) in children.items() if alive(pid, start)] == []
            stack.assert_no_tracebacks()
        finally:
            stack.close()
            for pid, (start, _) in children.items():
                if alive(pid, start):
                    os.kill(pid, signal.SIGKILL)
