"""One bad row harms nobody else: a ticket, event, message or ping whose handling fails is
retried with backoff, then parked and shown; every other ticket's deadlines still fire."""

from __future__ import annotations

import pytest

from app import events, faults
from app.booking import handlers, selection, sweep
from app.messaging import channels, notices
from app.models import Event, Fault, Message, Ticket
from tests.conftest import make_config
from tests.engine.conftest import asked, events_of, fresh, messages_to

MINUTE = 60
POISON = "poisoned on purpose"


@pytest.fixture
def config(database_url, tmp_path):
    """Vendors have ten minutes to answer; emergencies escalate after five."""
    return make_config(database_url, tmp_path / "instance", vendor_reply_timeout=10 * MINUTE,
                       dispatch_rounds=1)  # one round: these tests are about faults


def fault_of(kind: str, row_id: int) -> Fault | None:
    return Fault.get_or_none(Fault.kind == kind, Fault.row_id == row_id)


def run_for(bus, config, fake_clock, seconds: int) -> None:
    """Sweep once a second for this long, running whatever the sweep hands to workers."""
    for _ in range(seconds):
        fake_clock.advance(1)
        sweep.run(config)
        bus.settle()


@pytest.fixture
def poison():
    """Its own MonkeyPatch: undoing the poison leaves the bus fixture's patches in place."""
    with pytest.MonkeyPatch.context() as patch:
        yield patch


def test_one_poisoned_row_of_each_kind_harms_nobody_else(
        bus, make_vendor, intake, config, fake_clock, poison):
    make_vendor("First")
    make_vendor("Second")
    healthy = [intake(severity="emergency") for _ in range(2)]
    bad_ticket = intake(severity="emergency")  # its escalation raises
    bad_ping_ticket = intake(severity="emergency")  # choosing its next vendor raises
    bus.run_events()
    bad_event_ticket = intake(severity="emergency")  # its intake handler raises

    def escalated(ticket, *args):
        if ticket.id == bad_ticket.id:
            raise RuntimeError(POISON)
        return real_escalated(ticket, *args)

    def next_up(ticket, *args, **kwargs):
        if ticket.id == bad_ping_ticket.id:
            raise OverflowError(POISON)
        return real_next_up(ticket, *args, **kwargs)

    def start(event, config):
        if event.ticket_id == bad_event_ticket.id:
            raise ValueError(POISON)
        return real_start(event, config)

    def send(self, message, config):
        if message.to_number == healthy[0].tenant.phone and "landlord" in message.body:
            raise UnicodeError(POISON)  # the tenant's "your landlord is on it" notice
        return real_send(self, message, config)

    real_escalated, real_next_up = notices.escalated, selection.next_up
    real_start, real_send = handlers.start_dispatch, channels.Outbox.send
    poison.setattr(notices, "escalated", escalated)
    poison.setattr(selection, "next_up", next_up)
    poison.setitem(events.HANDLERS, "intake.completed", start)
    poison.setattr(channels.Outbox, "send", send)

    bus.run_events()  # the bad event fails at once, and is not lost
    event = events_of(bad_event_ticket, "intake.completed")[0]
    assert fault_of("event", event.id).attempts == 1
    assert fresh(bad_event_ticket).status == "new"

    run_for(bus, config, fake_clock, 21 * MINUTE)

    # Everyone else's deadlines fired: the emergencies escalated to the landlord at five
    # minutes, with their messages sent, and offers timed out and went to the next vendor.
    for ticket in healthy:
        assert sorted(asked(ticket)) == [("First", "timed_out"), ("Second", "timed_out")]
        assert fresh(ticket).status == "escalated"
        # The SMS and the call, then (nobody acknowledged) the SMS again at 5, 10, 15 minutes,
        # and once the last offer lapsed (20 minutes) the update that nobody is left to ask.
        to_landlord = messages_to("landlord", ticket)
        assert [(m.channel, m.status) for m in to_landlord] == [
            ("sms", "stored"), ("voice", "stored")] + [("sms", "stored")] * 4
        assert [m.body.startswith("Fixline update") for m in to_landlord].count(True) == 1
    # Each poisoned row was tried a bounded number of times, with backoff, then parked.
    bad_ping = asked(bad_ping_ticket)
    assert [outcome for _, outcome in bad_ping] == ["pending"]  # its lapse rolled back
    ping_id = bad_ping_ticket.pings.get().id
    message = Message.get(Message.ticket == healthy[0].id, Message.recipient_type == "tenant",
                          Message.body.contains("landlord"))
    for kind, row_id, ticket in [("ticket", bad_ticket.id, bad_ticket),
                                 ("ping", ping_id, bad_ping_ticket),
                                 ("event", event.id, bad_event_ticket),
                                 ("message", message.id, healthy[0])]:
        fault = fault_of(kind, row_id)
        assert fault.attempts == faults.MAX_ATTEMPTS, kind
        assert fault.failed_at is not None and fault.retry_at is None, kind
        assert POISON in fault.error and fault.ticket_id == ticket.id, kind
        assert fault.landlord_id == ticket.landlord_id, kind
        parked = [e.data for e in events_of(ticket, "fault.parked")]
        assert {"kind": kind, "rowId": row_id} in [
            {"kind": d["kind"], "rowId": d["rowId"]} for d in parked], kind
    assert message.__class__.get_by_id(message.id).status == "queued"
    assert fresh(bad_ticket).status == "dispatching"  # its escalation never half-happened
    assert {(f.kind, f.row_id) for f in faults.parked(landlord=bad_ticket.landlord_id)} >= {
        ("ticket", bad_ticket.id), ("ping", ping_id), ("event", event.id),
        ("message", message.id)}

    # The landlord retries once the cause is gone: each row is handled and its fault forgotten.
    poison.undo()
    for fault in faults.parked(landlord=bad_ticket.landlord_id):
        faults.retry(fault, actor="landlord:1")
    run_for(bus, config, fake_clock, 20)
    assert list(Fault.select().dicts()) == []
    assert fresh(bad_ticket).status == "escalated"
    assert asked(bad_ping_ticket)[0][1] == "timed_out"
    assert fresh(bad_event_ticket).status != "new"
    assert Message.get_by_id(message.id).status == "stored"


def test_a_failing_row_is_retried_with_backoff_not_every_second(
        bus, make_vendor, intake, config, fake_clock, monkeypatch):
    make_vendor("Only")
    ticket = intake(severity="emergency")

    def start(event, config):
        raise ValueError(POISON)

    monkeypatch.setitem(events.HANDLERS, "intake.completed", start)
    bus.run_events()
    event = events_of(ticket, "intake.completed")[0]
    tries = []
    for second in range(1, 400):
        fake_clock.advance(1)
        sweep.run(config)
        if bus.events:
            tries.append(second)
            bus.run_events()
    # Backoff 2, 15, 60, 300 s (each try is handed over on the sweep after it is due).
    gaps = [b - a for a, b in zip([0, *tries], tries, strict=False)]
    assert len(tries) == faults.MAX_ATTEMPTS - 1, tries
    assert gaps == [2, 15, 60, 300], gaps
    assert fault_of("event", event.id).failed_at is not None
    fake_clock.advance(3600)
    assert sweep.run(config)["republished"] == 0  # parked: nobody tries again on their own


def test_a_window_stored_before_the_bound_no_longer_breaks_dispatch(
        bus, make_vendor, intake, config, fake_clock):
    """The row that once stopped every sweep: a window in the year 9999."""
    make_vendor("Plumber")
    ticket = intake(severity="routine")
    Ticket.update(window="9999-12-31 1-2pm").where(Ticket.id == ticket.id).execute()
    bus.run_events()
    assert asked(ticket) == [("Plumber", "pending")]
    run_for(bus, config, fake_clock, 15 * MINUTE)  # every round of asking
    assert asked(ticket) == [("Plumber", "timed_out")] * config.dispatch_rounds
    fake_clock.advance(config.routine_booking_escalation)
    run_for(bus, config, fake_clock, 1)
    assert fresh(ticket).status == "escalated"
    assert Fault.select().count() == 0


def test_events_replay_retries_parked_rows(bus, make_vendor, intake, config, fake_clock, poison):
    make_vendor("Only")
    ticket = intake(severity="emergency")
    poison.setitem(events.HANDLERS, "intake.completed",
                        lambda event, config: (_ for _ in ()).throw(ValueError(POISON)))
    bus.run_events()
    run_for(bus, config, fake_clock, 400)
    event = Event.get(Event.ticket == ticket, Event.type == "intake.completed")
    assert fault_of("event", event.id).failed_at is not None
    poison.undo()
    assert events.replay(config, ticket_id=ticket.id) >= 1
    assert fault_of("event", event.id) is None
    # Meanwhile its SLA ran out: the sweep started dispatch itself and escalated it.
    assert fresh(ticket).status == "escalated" and asked(ticket)
    assert [e.type for e in events_of(ticket, "fault.retried")] == ["fault.retried"]
