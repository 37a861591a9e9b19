"""The sweep's observability (issue 12): a request id per tick for its log lines and what it
enqueues, and how late each deadline it acts on fired."""

from __future__ import annotations

import logging

from app import events, shared_metrics
from app.booking import sweep
from app.logs import request_id_var
from app.messaging import outbound
from tests.engine.conftest import pending


def lateness(kind: str) -> dict[str, float]:
    figures = shared_metrics.totals(None)
    prefix = f"deadline_lateness_seconds|{kind}|"
    return {field[len(prefix):]: value for field, value in figures.items()
            if field.startswith(prefix)}


def test_a_tick_has_its_own_request_id_and_records_deadline_lateness(
        bus, make_vendor, intake, config, fake_clock, monkeypatch, caplog, client):
    caplog.set_level(logging.INFO)
    make_vendor("Slow")
    make_vendor("Next", priority=2)
    ticket = intake(severity="routine")
    bus.settle()
    ping = pending(ticket)

    handed_over = []  # (what, request id) of everything the tick enqueued
    monkeypatch.setattr(events, "_publisher", lambda event_id: (
        handed_over.append(("event", request_id_var.get())), bus.publish(event_id)))
    monkeypatch.setattr(outbound, "_sender", lambda message_id, delay: (
        handed_over.append(("message", request_id_var.get())), bus.send(message_id, delay)))
    before = lateness("ping")
    fake_clock.set(ping.expires_at)
    fake_clock.advance(2.5)
    caplog.clear()
    assert sweep.run(config)["expired"] == 1

    after = lateness("ping")
    assert after["count"] == before.get("count", 0) + 1
    assert after["sum"] == before.get("sum", 0) + 2.5
    assert after.get("2.0", 0) == before.get("2.0", 0)  # 2.5 s late: not within 2 s,
    assert after["5.0"] == before.get("5.0", 0) + 1  # within 5 s
    ids = {request_id for _, request_id in handed_over}
    assert handed_over and len(ids) == 1, handed_over
    tick = ids.pop()
    assert tick.startswith("sweep-") and len(tick) == len("sweep-") + 12
    summary = [r for r in caplog.records if r.getMessage().startswith("sweep: ")]
    assert [r.request_id for r in summary] == [tick]
    assert request_id_var.get() == "-"

    bus.settle()
    handed_over.clear()
    fake_clock.set(pending(ticket).expires_at)
    sweep.run(config)
    assert handed_over and {request_id for _, request_id in handed_over} != {tick}

    text = client.get("/metrics").get_data(as_text=True)
    assert 'fixline_deadline_lateness_seconds_bucket{kind="ping",le="5.0"}' in text
    assert 'fixline_deadline_lateness_seconds_count{kind="ping"}' in text
