"""The sweep's tick hands each due deadline to a worker (issue 12): it claims the row with a
lease in the database and enqueues one `sweep_row` message; the worker does the work. The
lease decides who acts, so a row is acted on once however many ticks saw it or messages
carried it, and a row whose message was lost is due again once the lease has passed."""

from __future__ import annotations

from datetime import datetime, timedelta
from types import SimpleNamespace

import pytest

from app import clock, faults, shared_metrics
from app.booking import loop, sweep
from app.db import transaction
from app.models import Fault
from tests.engine.conftest import asked, events_of, pending


def lateness(kind: str) -> dict[str, float]:
    figures = shared_metrics.totals(None)
    prefix = f"deadline_lateness_seconds|{kind}|"
    return {field[len(prefix):]: value for field, value in figures.items()
            if field.startswith(prefix)}


class Outbox:
    """Stands in for the broker under the tick: keeps the sweep_row messages it is given."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, int, str]] = []
        self.delays: list[int] = []  # ms, one a message

    def __call__(self, kind: str, row_id: int, lease: str, delay_ms: int) -> None:
        self.sent.append((kind, row_id, lease))
        self.delays.append(delay_ms)

    def run(self, config, message) -> bool:
        kind, row_id, lease = message
        return sweep.handle(kind, row_id, datetime.fromisoformat(lease), config)


@pytest.fixture
def waiting(bus, make_vendor, intake, fake_clock):
    """A ticket whose offer to First has just expired (Second is next)."""
    make_vendor("First")
    make_vendor("Second", priority=2)
    ticket = intake(severity="routine")
    bus.settle()
    fake_clock.set(pending(ticket).expires_at)
    fake_clock.advance(0.5)
    return ticket


def test_a_tick_only_claims_and_enqueues_one_message_per_due_row(waiting, config, bus):
    outbox = Outbox()
    ping = pending(waiting)
    assert sweep.run(config, send=outbox)["expired"] == 1
    assert [(kind, row_id) for kind, row_id, _ in outbox.sent] == [("ping", ping.id)]
    assert asked(waiting) == [("First", "pending")]  # the tick did not do the work
    lease = Fault.get(Fault.kind == "ping", Fault.row_id == ping.id)
    assert lease.attempts == 0 and lease.failed_at is None and lease.retry_at > ping.expires_at

    assert sweep.run(config, send=outbox)["expired"] == 0  # leased: the next tick skips it
    assert len(outbox.sent) == 1

    assert outbox.run(config, outbox.sent[0]) is True
    bus.settle()
    assert asked(waiting) == [("First", "timed_out"), ("Second", "pending")]
    assert Fault.select().count() == 0  # handled: the lease is gone


def test_a_row_two_ticks_saw_is_handled_once(waiting, config, bus):
    ping = pending(waiting)
    first = Outbox()
    sweep.run(config, send=first)

    # A second tick that read the due rows before the first wrote its lease (another
    # process, same instant: the same lease end) claims the same row.
    stale = [SimpleNamespace(id=ping.id, fault_id=None, due_at=ping.expires_at)]

    class StaleRead:
        def rows(self, **_):
            return stale

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(sweep, "_due", lambda kind: StaleRead())
        second = [("ping", row_id, lease.isoformat())
                  for row_id, lease, _ in sweep.claim("ping")]
    messages = first.sent + second
    assert [(kind, row_id) for kind, row_id, _ in messages] == [("ping", ping.id)] * 2

    results = [first.run(config, message) for message in messages]
    bus.settle()
    assert results.count(True) == 1
    assert asked(waiting) == [("First", "timed_out"), ("Second", "pending")]
    assert len(events_of(waiting, "vendor.timed_out")) == 1


def test_a_message_for_a_row_already_handled_does_nothing(waiting, config, bus, fake_clock):
    outbox = Outbox()
    sweep.run(config, send=outbox)
    message = outbox.sent[0]
    assert outbox.run(config, message) is True
    bus.settle()
    assert outbox.run(config, message) is False  # redelivered by the broker
    bus.settle()
    assert asked(waiting) == [("First", "timed_out"), ("Second", "pending")]

    # A message whose row was answered meanwhile lets the lease go and does nothing.
    fake_clock.set(pending(waiting).expires_at)
    fake_clock.advance(1)
    outbox.sent.clear()
    sweep.run(config, send=outbox)
    second = pending(waiting)
    with transaction():
        loop.lapse(second.id, "failed", config)  # settled some other way first
    bus.settle()
    assert outbox.run(config, outbox.sent[0]) is False
    assert Fault.select().count() == 0
    assert len(events_of(waiting, "vendor.timed_out")) == 1


def test_a_lost_message_leaves_the_row_due_again_after_the_lease(
        waiting, config, bus, fake_clock):
    lost = Outbox()  # Redis died with the message in it
    sweep.run(config, send=lost)
    fake_clock.advance(sweep.LEASE.total_seconds() - 1)
    again = Outbox()
    assert sweep.run(config, send=again)["expired"] == 0  # still leased
    fake_clock.advance(2)
    assert sweep.run(config, send=again)["expired"] == 1  # the lease passed: due again
    assert again.sent[0][:2] == lost.sent[0][:2] and again.sent[0][2] != lost.sent[0][2]

    assert again.run(config, lost.sent[0]) is False  # the old message, if it ever comes
    assert again.run(config, again.sent[0]) is True
    bus.settle()
    assert asked(waiting) == [("First", "timed_out"), ("Second", "pending")]


def test_a_worker_killed_mid_handle_leaves_the_row_due_again(
        waiting, config, bus, fake_clock, monkeypatch):
    outbox = Outbox()
    sweep.run(config, send=outbox)

    def killed(*_):
        raise KeyboardInterrupt  # not an Exception: like the process dying, nothing recorded

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(loop, "lapse", killed)
        with pytest.raises(KeyboardInterrupt):
            outbox.run(config, outbox.sent[0])
    assert asked(waiting) == [("First", "pending")]
    assert sweep.run(config, send=outbox)["expired"] == 0
    fake_clock.advance(sweep.LEASE.total_seconds() + 1)
    assert sweep.run(config, send=outbox)["expired"] == 1
    assert outbox.run(config, outbox.sent[-1]) is True
    bus.settle()
    assert asked(waiting) == [("First", "timed_out"), ("Second", "pending")]


def test_lateness_is_recorded_when_the_work_runs(waiting, config, bus, fake_clock):
    ping = pending(waiting)  # expired 0.5 s ago
    outbox = Outbox()
    before = lateness("ping")
    sweep.run(config, send=outbox)
    assert lateness("ping") == before  # enqueued, not yet late by anything
    fake_clock.advance(3)  # the message waited 3 s for a worker
    outbox.run(config, outbox.sent[0])
    after = lateness("ping")
    assert after["count"] == before.get("count", 0) + 1
    assert after["sum"] == pytest.approx(before.get("sum", 0) + 3.5)
    assert after.get("2.0", 0) == before.get("2.0", 0)
    assert after["5.0"] == before.get("5.0", 0) + 1
    assert ping.expires_at + timedelta(seconds=3.5) == clock.now()


def test_a_failing_row_is_retried_with_backoff_then_parked(
        waiting, config, bus, fake_clock, monkeypatch):
    ping = pending(waiting)

    def broken(*_):
        raise RuntimeError("poisoned on purpose")

    monkeypatch.setattr(loop, "lapse", broken)
    outbox = Outbox()
    for attempt in range(1, faults.MAX_ATTEMPTS + 1):
        outbox.sent.clear()
        assert sweep.run(config, send=outbox)["expired"] == 1
        assert outbox.run(config, outbox.sent[0]) is False
        fault = Fault.get(Fault.kind == "ping", Fault.row_id == ping.id)
        assert fault.attempts == attempt and fault.error.startswith("RuntimeError")
        assert fault.ticket_id == waiting.id and fault.landlord_id == waiting.landlord_id
        assert sweep.run(config, send=outbox)["expired"] == 0  # waiting out its backoff
        if attempt < faults.MAX_ATTEMPTS:
            fake_clock.set(fault.retry_at)
    assert fault.failed_at is not None  # parked: shown, and no tick leases it again
    fake_clock.advance(3600)
    assert sweep.run(config, send=outbox)["expired"] == 0
    assert [f.row_id for f in faults.parked(ticket=waiting.id)] == [ping.id]


def test_the_sweep_actor_hands_rows_to_sweep_row_messages(waiting, config, bus, broker, worker):
    from actors import tasks

    tasks.sweep.send()
    broker.join(tasks.sweep.queue_name)
    broker.join(tasks.sweep_row.queue_name)
    worker.join()
    bus.settle()
    assert asked(waiting) == [("First", "timed_out"), ("Second", "pending")]
    assert Fault.select().count() == 0


def test_a_tick_hands_over_rows_due_before_the_next_tick_delayed_to_their_deadline(
        bus, make_vendor, intake, fake_clock, config):
    """The interval between ticks does not make a deadline late: a row due within AHEAD is
    claimed now and its message waits until the deadline; one due later is left for later."""
    make_vendor("First")
    make_vendor("Second", priority=2)
    ticket = intake(severity="routine")
    bus.settle()
    ping = pending(ticket)
    fake_clock.set(ping.expires_at - timedelta(seconds=2))
    outbox = Outbox()
    assert sweep.run(config, send=outbox)["expired"] == 0  # due after the next tick: not yet

    fake_clock.set(ping.expires_at - timedelta(milliseconds=400))
    assert sweep.run(config, send=outbox)["expired"] == 1
    assert outbox.delays == [400]  # runs at the deadline, not at the tick after it
    assert outbox.run(config, outbox.sent[0]) is False  # early (another clock): let go, no harm
    assert asked(ticket) == [("First", "pending")]
    assert Fault.select().count() == 0  # the lease is gone: the next tick claims it again

    fake_clock.set(ping.expires_at)
    assert sweep.run(config, send=outbox)["expired"] == 1
    assert outbox.delays[-1] == 0
    assert outbox.run(config, outbox.sent[-1]) is True
    bus.settle()
    assert asked(ticket) == [("First", "timed_out"), ("Second", "pending")]


def test_the_inline_sweep_acts_only_on_rows_already_due(bus, make_vendor, intake, fake_clock,
                                                        config):
    make_vendor("First")
    ticket = intake(severity="routine")
    bus.settle()
    fake_clock.set(pending(ticket).expires_at - timedelta(milliseconds=400))
    assert sweep.run(config)["expired"] == 0
    assert asked(ticket) == [("First", "pending")]
