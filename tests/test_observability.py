"""Observability (issue 12): JSON logs whose request id follows into the worker, slow queries,
and the operations figures on /metrics."""

from __future__ import annotations

import io
import json
import logging
import os
import re
import subprocess
import sys
import uuid
from datetime import timedelta

import dramatiq
import pytest
import redis

from actors import tasks
from app import clock, create_app, events, shared_metrics
from app.api.auth import mint
from app.config import ROOT, Config, ConfigError
from app.db import db, watch_slow_queries
from app.logs import JsonFormatter, request_id_var
from app.messaging import outbound
from app.models import Fault, Message
from app.seed import load
from tests.conftest import make_config

TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL")


def json_lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


# --- settings ---

def test_log_format_and_slow_query_settings(tmp_path):
    base = {"FIXLINE_INSTANCE_PATH": str(tmp_path)}
    config = Config.from_env(base)
    assert (config.log_format, config.slow_query_ms) == ("text", 100)
    config = Config.from_env({**base, "LOG_FORMAT": "JSON", "SLOW_QUERY_MS": "0"})
    assert (config.log_format, config.slow_query_ms) == ("json", 0)
    with pytest.raises(ConfigError, match="LOG_FORMAT must be text or json, got 'xml'"):
        Config.from_env({**base, "LOG_FORMAT": "xml"})
    for bad in ("-5", "1.5", "soon"):
        with pytest.raises(ConfigError, match="SLOW_QUERY_MS must be a whole number"):
            Config.from_env({**base, "SLOW_QUERY_MS": bad})


# --- structured logs ---

def test_json_line_parses_and_carries_the_request_id():
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("fixline.test.json")
    logger.addHandler(handler)
    token = request_id_var.set("req-json-1")
    try:
        logger.warning("two\nlines and a \"quote\" for %s", "you")
        try:
            raise ValueError("boom")
        except ValueError:
            logger.exception("it failed")
    finally:
        request_id_var.reset(token)
        logger.removeHandler(handler)
    first, second = json_lines(out.getvalue())
    assert set(first) == {"time", "level", "logger", "message", "request_id"}
    assert first["message"] == 'two\nlines and a "quote" for you'
    assert (first["level"], first["logger"], first["request_id"]) == (
        "WARNING", "fixline.test.json", "req-json-1")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", first["time"])
    assert second["request_id"] == "req-json-1"
    assert "ValueError: boom" in second["exc_info"] and "Traceback" in second["exc_info"]


def run_python(code: str, tmp_path, **env) -> subprocess.CompletedProcess:
    environ = {**os.environ, "FIXLINE_INSTANCE_PATH": str(tmp_path / "instance"),
               "DATABASE_URL": f"sqlite:///{tmp_path / 'fixline.db'}", "REDIS_URL": "stub://",
               **env}
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=environ,
                          capture_output=True, text=True, timeout=60)


def test_web_process_logs_json_lines_with_the_request_id(tmp_path):
    """A web process with LOG_FORMAT=json: its access log line is JSON with the request id."""
    done = run_python(
        "from app import create_app\n"
        "app = create_app()\n"
        "app.test_client().get('/healthz', headers={'X-Request-Id': 'req-web-7'})\n",
        tmp_path, LOG_FORMAT="json")
    assert done.returncode == 0, done.stderr
    lines = json_lines(done.stderr)
    access = [line for line in lines if line["logger"] == "fixline.access"]
    assert len(access) == 1 and access[0]["request_id"] == "req-web-7"
    assert access[0]["message"].startswith("GET /healthz 200")


def test_worker_and_scheduler_processes_log_json_too(tmp_path):
    """dramatiq's worker and the scheduler call basicConfig, then import actors: json then
    re-formats their handler; text leaves today's format alone."""
    code = ("import logging\n"
            "logging.basicConfig(level=logging.INFO, format='%(asctime)s host %(message)s')\n"
            "import actors\n"
            "from app.logs import request_id_var\n"
            "request_id_var.set('sweep-abc')\n"
            "logging.getLogger('fixline.scheduler').info('started')\n")
    lines = json_lines(run_python(code, tmp_path, LOG_FORMAT="json").stderr)
    assert lines == [{"time": lines[0]["time"], "level": "INFO", "logger": "fixline.scheduler",
                      "message": "started", "request_id": "sweep-abc"}]
    text = run_python(code, tmp_path, LOG_FORMAT="text").stderr.strip()
    assert text.endswith(" host started") and not text.startswith("{")


# --- the request id follows into the worker ---

def test_a_request_id_follows_into_every_actor_message_it_causes(
        app, client, broker, worker, caplog, monkeypatch):
    """POST /api/tickets → intake.completed → handle_event in the worker → the vendor's offer
    → send_message in the worker: all under the request's id."""
    caplog.set_level(logging.INFO)
    trace = logging.getLogger("fixline.test.trace")
    handler = events.HANDLERS["intake.completed"]
    deliver = outbound.deliver

    def traced_handler(event, config):
        trace.info("handling event %s", event.id)
        return handler(event, config)

    def traced_deliver(message_id, config):
        trace.info("delivering message %s", message_id)
        return deliver(message_id, config)

    monkeypatch.setitem(events.HANDLERS, "intake.completed", traced_handler)
    monkeypatch.setattr(outbound, "deliver", traced_deliver)
    landlord = load()
    tenant = landlord.properties[0].tenants[0]
    created = client.post("/api/tickets", headers={
        "Authorization": f"Bearer {mint(landlord)}", "X-Request-Id": "req-trace-1"}, json={
        "tenantId": tenant.id, "propertyId": tenant.property_id, "category": "plumbing",
        "severity": "emergency", "window": "now"})
    assert created.status_code == 201, created.json
    broker.join("default")
    worker.join()

    traced = [r for r in caplog.records if r.name == "fixline.test.trace"]
    assert any(r.getMessage().startswith("handling event") for r in traced)
    assert any(r.getMessage().startswith("delivering message") for r in traced)
    assert all(r.threadName != "MainThread" for r in traced)  # they ran in the worker
    assert {r.request_id for r in traced} == {"req-trace-1"}
    line = json.loads(JsonFormatter().format(traced[0]))
    assert line["request_id"] == "req-trace-1" and line["message"].startswith("handling event")


def test_enqueued_messages_carry_the_request_id_and_none_without_one(app, broker):
    token = request_id_var.set("req-enq-2")
    try:
        tasks.handle_event.send(123456)
    finally:
        request_id_var.reset(token)
    tasks.handle_event.send(123457)
    queued = [broker.queues["default"].get_nowait() for _ in range(2)]
    messages = [dramatiq.Message.decode(raw) for raw in queued]
    assert messages[0].options["request_id"] == "req-enq-2"
    assert "request_id" not in messages[1].options
    assert request_id_var.get() == "-"


# --- slow queries ---

SLOW_SQLITE = ("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < ?) "
               "SELECT count(*) FROM c")


def slow_lines(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "fixline.slow_query"]


def test_slow_query_is_logged_with_its_shape_and_duration_never_its_values(
        app, client, caplog):
    caplog.set_level(logging.WARNING, logger="fixline.slow_query")
    counted = metric(client.get("/metrics").get_data(as_text=True), "fixline_slow_queries_total")
    if db.obj.__class__.__name__.startswith("Sqlite"):
        watch_slow_queries(db.obj, 1)  # 200,000 CTE rows take well over a millisecond
        db.execute_sql(SLOW_SQLITE, (200_003,)).fetchone()
        value, shape = "200003", "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c "
    else:  # the default 100 ms against a 150 ms sleep
        db.execute_sql("SELECT pg_sleep(%s), %s", (0.15, "secret-value-9")).fetchone()
        value, shape = "secret-value-9", "SELECT pg_sleep(%s), %s"
    watch_slow_queries(db.obj, 100)
    lines = [line for line in slow_lines(caplog) if shape in line]
    assert len(lines) == 1, slow_lines(caplog)
    found = re.fullmatch(r"slow query (\d+\.\d)ms: (.*)", lines[0])
    assert found, lines[0]
    assert float(found.group(1)) > 1 and shape in found.group(2)
    assert value not in lines[0]
    assert [r.levelno for r in caplog.records if r.name == "fixline.slow_query"][0] == \
        logging.WARNING
    text = client.get("/metrics").get_data(as_text=True)
    assert metric(text, "fixline_slow_queries_total") >= counted + 1


def test_slow_query_ms_zero_logs_every_statement_without_values(database_url, tmp_path, caplog):
    caplog.set_level(logging.WARNING, logger="fixline.slow_query")
    app = create_app(make_config(database_url, tmp_path / "instance", slow_query_ms=0))
    from app.migrate import upgrade

    with app.app_context(), db.connection_context():
        upgrade()
        caplog.clear()
        list(Message.select().where(Message.to_number == "+15559990123",
                                    Message.body == "my secret body"))
    lines = slow_lines(caplog)
    assert any('FROM "message"' in line for line in lines), lines
    assert not any("+15559990123" in line or "my secret body" in line for line in lines)
    watch_slow_queries(db.obj, 100)


# --- /metrics ---

def metric(text: str, name: str, **labels) -> float | None:
    """The value of one sample in Prometheus text, or None when it is absent."""
    wanted = ",".join(f'{key}="{value}"' for key, value in labels.items())
    pattern = re.escape(name + (f"{{{wanted}}}" if labels else "")) + r" (\S+)"
    found = re.search(r"^" + pattern + r"$", text, re.MULTILINE)
    return float(found.group(1)) if found else None


def test_metrics_show_actor_runs_failures_queues_parked_rows_and_sms(
        app, client, broker, worker, monkeypatch):
    before = client.get("/metrics").get_data(as_text=True)
    landlord = load()
    tenant = landlord.properties[0].tenants[0]
    client.post("/api/tickets", headers={"Authorization": f"Bearer {mint(landlord)}"}, json={
        "tenantId": tenant.id, "propertyId": tenant.property_id, "category": "plumbing",
        "severity": "emergency", "window": "now"})
    broker.join("default")
    worker.join()

    def broken(message_id, config):
        raise RuntimeError("the channel blew up")

    monkeypatch.setattr(outbound, "deliver", broken)
    tasks.send_message.send(1)
    broker.join("default", fail_fast=False)
    worker.join()
    worker.pause()  # nothing takes these two: the queue depth shows them
    tasks.send_message.send(2)
    tasks.send_message.send_with_options(args=(3,), delay=60_000)
    Fault.create(kind="message", row_id=99, attempts=5, error="RuntimeError: x",
                 failed_at=clock.now(), landlord=landlord)
    Fault.create(kind="event", row_id=98, attempts=1, error="RuntimeError: y",
                 retry_at=clock.now() + timedelta(seconds=2))

    text = client.get("/metrics").get_data(as_text=True)
    broker.flush_all()
    worker.resume()
    for actor in ("handle_event", "send_message"):
        runs = metric(text, "fixline_actor_duration_seconds_count", actor=actor)
        assert runs > (metric(before, "fixline_actor_duration_seconds_count", actor=actor) or 0)
        assert metric(text, "fixline_actor_duration_seconds_bucket", actor=actor,
                      le="+Inf") == runs
    assert metric(text, "fixline_actor_failures_total", actor="send_message") == (
        metric(before, "fixline_actor_failures_total", actor="send_message") + 1)
    assert metric(text, "fixline_queue_depth", queue="default") == 1
    assert metric(text, "fixline_queue_depth", queue="default.DQ") == 1
    assert metric(text, "fixline_parked_rows", kind="message") == 1
    assert metric(text, "fixline_parked_rows", kind="event") is None  # only backing off
    assert metric(text, "fixline_sms_sent_last_hour") >= 1  # the vendor's offer (outbox)
    assert metric(text, "fixline_sweep_tick_seconds_count") is not None


def test_metrics_count_sweep_ticks(app, client, config):
    """(How late deadlines fired: tests/engine/test_observability_sweep.py.)"""
    from app.booking import sweep

    ticks = metric(client.get("/metrics").get_data(as_text=True),
                   "fixline_sweep_tick_seconds_count")
    sweep.run(config)
    sweep.run(config)
    text = client.get("/metrics").get_data(as_text=True)
    assert metric(text, "fixline_sweep_tick_seconds_count") == ticks + 2
    assert metric(text, "fixline_sweep_tick_seconds_bucket", le="+Inf") == ticks + 2


def test_metrics_show_how_long_sqlite_writes_waited_for_and_held_the_writer_lock(app, client):
    """SQLite has one writer: /metrics shows each write transaction's wait for the lock and
    how long it held it (the hold's rate is the share of time the one writer is busy)."""
    from app.db import is_sqlite, transaction
    from app.models import Landlord

    before = client.get("/metrics").get_data(as_text=True)
    with transaction():
        Landlord.create(name="Wren Writer", email="wren@example.com", phone="+15550007777")
    text = client.get("/metrics").get_data(as_text=True)
    for phase in ("wait", "hold"):
        now = metric(text, "fixline_sqlite_writer_seconds_count", phase=phase)
        was = metric(before, "fixline_sqlite_writer_seconds_count", phase=phase) or 0
        if is_sqlite():
            assert now >= was + 1, phase
            assert metric(text, "fixline_sqlite_writer_seconds_bucket", le="+Inf",
                          phase=phase) == now  # (labels in the text's order)
        else:  # PostgreSQL has no such lock: nothing is recorded by this test's write
            assert (now or 0) == was


@pytest.mark.skipif(not TEST_REDIS_URL, reason="Redis server not configured: set TEST_REDIS_URL")
def test_worker_figures_reach_metrics_on_web_through_redis(database_url, tmp_path, monkeypatch):
    """A worker process flushes its figures to Redis; /metrics on a web process reads them."""
    key = f"fixline:metrics:test:{uuid.uuid4().hex}"
    monkeypatch.setattr(shared_metrics, "KEY", key)
    client = redis.Redis.from_url(TEST_REDIS_URL)
    here = shared_metrics.totals(None)  # this process's own, from earlier stub-broker tests
    app = create_app(make_config(database_url, tmp_path / "inst", redis_url=TEST_REDIS_URL))
    try:
        code = ("import redis\n"
                "from app import shared_metrics\n"
                f"shared_metrics.KEY = {key!r}\n"
                f"shared_metrics.bind(redis.Redis.from_url({TEST_REDIS_URL!r}))\n"
                "shared_metrics.observe('actor_duration_seconds', 'handle_event', 0.02)\n"
                "shared_metrics.count('actor_failures', 'handle_event')\n"
                "shared_metrics.observe('deadline_lateness_seconds', 'ticket', 1.5)\n"
                "assert shared_metrics.flush()\n")
        done = run_python(code, tmp_path)
        assert done.returncode == 0, done.stderr
        with app.app_context():
            from app.migrate import upgrade

            with db.connection_context():
                upgrade()
            text = app.test_client().get("/metrics").get_data(as_text=True)
        def mine(field: str) -> float:
            return here.get(field, 0.0)

        assert metric(text, "fixline_actor_duration_seconds_bucket", actor="handle_event",
                      le="0.025") == mine("actor_duration_seconds|handle_event|0.025") + 1
        assert metric(text, "fixline_actor_duration_seconds_sum", actor="handle_event") == \
            pytest.approx(mine("actor_duration_seconds|handle_event|sum") + 0.02)
        assert metric(text, "fixline_actor_failures_total", actor="handle_event") == \
            mine("actor_failures|handle_event|total") + 1
        assert metric(text, "fixline_deadline_lateness_seconds_bucket", kind="ticket",
                      le="1.0") == mine("deadline_lateness_seconds|ticket|1.0")
        assert metric(text, "fixline_deadline_lateness_seconds_bucket", kind="ticket",
                      le="2.0") == mine("deadline_lateness_seconds|ticket|2.0") + 1
        assert metric(text, "fixline_queue_depth", queue="default") is not None
        assert metric(text, "fixline_queue_dead_letters", queue="default") is not None
    finally:
        client.delete(key)
        client.close()
        create_app(make_config(database_url, tmp_path / "inst"))  # back to the stub broker
