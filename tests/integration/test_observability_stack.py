"""Observability across real processes (issue 12): JSON log lines whose request id goes from
the web process into the worker, sweep ticks with ids of their own, and worker figures on the
web process's /metrics (through Redis)."""

from __future__ import annotations

import json
import re

import pytest

from tests.integration.stack import Stack, request, wait_until

pytestmark = pytest.mark.slow  # starts the stack's processes


def json_lines(path) -> list[dict]:
    """The JSON lines of a process's log (gunicorn's and dramatiq's own start-up lines are
    written by their parents, in text)."""
    return [json.loads(line) for line in path.read_text(errors="replace").splitlines()
            if line.startswith("{")]


def sample(text: str, name: str) -> float:
    found = re.search(r"^" + re.escape(name) + r" (\S+)$", text, re.MULTILINE)
    return float(found.group(1)) if found else 0.0


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'fixline.db'}"
    return request.getfixturevalue("postgres_url")


def test_request_ids_and_worker_figures_across_processes(tmp_path, database_url, own_redis):
    """A private Redis: the figures and queues seen are this stack's alone."""
    with Stack(tmp_path, database_url, own_redis.url,
               LOG_FORMAT="json", SLOW_QUERY_MS="0") as stack:
        stack.prepare()
        stack.start(workers=1)
        tenant = stack.api("GET", "/tenants")[0]
        status, created = request("POST", stack.base + "/api/tickets", body={
            "tenantId": tenant["id"], "propertyId": tenant["propertyId"],
            "category": "plumbing", "severity": "emergency", "window": "now"},
            headers={"Authorization": f"Bearer {stack.api_key}", "X-Request-Id": "req-stack-1"})
        assert status == 201, created
        stack.wait_offer(created["id"])

        def metrics() -> str:
            return request("GET", stack.base + "/metrics")[1]

        # The worker flushes its figures every few seconds; the scheduler sweeps every second.
        text = wait_until(lambda: (t := metrics()) and sample(
            t, 'fixline_actor_duration_seconds_count{actor="handle_event"}') >= 1 and sample(
            t, "fixline_sweep_tick_seconds_count") >= 1 and t, 30,
            "worker figures on the web's /metrics", stack.logs)
        assert 'fixline_actor_failures_total{actor="handle_event"} 0.0' in text
        assert 'fixline_queue_depth{queue="default"}' in text

        web = [p for p in stack.procs if p.name == "web"][0]
        access = [line for line in json_lines(web.log_path)
                  if line["logger"] == "fixline.access" and line["request_id"] == "req-stack-1"]
        assert len(access) == 1 and access[0]["message"].startswith("POST /api/tickets 201")

        worker = json_lines(stack.workers[0].log_path)
        assert worker, stack.workers[0].tail()
        traced = [line for line in worker if line["request_id"] == "req-stack-1"]
        # every statement is logged (SLOW_QUERY_MS=0): the event's handler and the offer's send,
        # which the same actor run makes (outbound.delivered_here)
        assert any('INSERT INTO "ping"' in line["message"] for line in traced), traced[:5]
        assert any('UPDATE "message"' in line["message"] for line in traced), traced[:5]
        assert all(line["logger"] == "fixline.slow_query" for line in traced)
        assert not any(tenant["phone"] in line["message"] for line in worker)  # no values
        assert any(line["request_id"].startswith("sweep-") for line in worker)
        stack.assert_no_tracebacks()
