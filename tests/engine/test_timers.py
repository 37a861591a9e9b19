"""Deadlines live in the database: the sweep acts on what is due, whatever the broker lost."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app import events
from app.booking import loop, sweep
from app.messaging import outbound
from app.models import Event, Message
from tests.conftest import make_config
from tests.engine.conftest import asked, events_of, fresh, messages_to, pending

DAY = 24 * 3600


@pytest.fixture
def config(database_url, tmp_path):
    """Vendors have a day to answer, so only the SLA clocks decide here."""
    return make_config(database_url, tmp_path / "instance", vendor_reply_timeout=DAY)


@pytest.mark.parametrize("severity, setting, reason", [
    ("emergency", "emergency_idle_escalation", "emergency not booked within 5 minutes"),
    ("routine", "routine_booking_escalation", "routine job not booked within 2 hours"),
])
def test_an_unbooked_ticket_escalates_when_its_sla_runs_out(
        bus, make_vendor, intake, config, fake_clock, severity, setting, reason):
    make_vendor("Slow")
    ticket = intake(severity=severity)
    bus.run_events()
    seconds = getattr(config, setting)
    assert fresh(ticket).escalate_at == fake_clock.now + timedelta(seconds=seconds)

    fake_clock.advance(seconds - 1)
    assert sweep.run(config)["escalated"] == 0
    assert fresh(ticket).status == "dispatching"

    fake_clock.advance(2)
    assert sweep.run(config)["escalated"] == 1
    ticket = fresh(ticket)
    assert (ticket.status, ticket.escalation_reason) == ("escalated", reason)
    assert ticket.escalated_at == fake_clock.now and ticket.escalate_at is None
    assert [e.data["reason"] for e in events_of(ticket, "ticket.escalated")] == [reason]
    assert reason in messages_to("landlord", ticket)[0].body
    assert len(messages_to("tenant", ticket)) == 1

    fake_clock.advance(DAY)  # the vendor's offer runs out later; nothing escalates twice
    assert sweep.run(config)["escalated"] == 0
    assert len(events_of(ticket, "ticket.escalated")) == 1
    assert asked(ticket) == [("Slow", "timed_out")]


@pytest.mark.parametrize("severity", ["emergency", "routine"])
def test_a_booked_ticket_never_escalates(bus, make_vendor, intake, config, fake_clock, severity):
    make_vendor("Quick")
    ticket = intake(severity=severity)
    bus.run_events()
    fake_clock.advance(10)
    loop.accept(pending(ticket).id, "sms", config)
    assert fresh(ticket).escalate_at is None  # the SLA clock stopped when it was booked

    fake_clock.advance(config.routine_booking_escalation + 1)
    assert sweep.run(config)["escalated"] == 0
    assert fresh(ticket).status == "scheduled"
    assert events_of(ticket, "ticket.escalated") == []


def test_the_sla_clock_stops_when_a_ticket_escalates(bus, intake):
    ticket = intake(category="pest")  # nobody does pest control: escalated at once
    assert fresh(ticket).escalate_at is not None
    bus.run_events()
    ticket = fresh(ticket)
    assert (ticket.status, ticket.escalate_at) == ("escalated", None)


def test_a_ticket_whose_intake_event_was_lost_is_started_by_the_sweep(
        bus, make_vendor, intake, config, fake_clock):
    make_vendor("Ann")
    bus.down = True
    ticket = intake()
    bus.down = False
    [started] = events_of(ticket, "intake.completed")
    assert started.handled_at is None and bus.events == []

    assert sweep.run(config)["republished"] == 0  # give the after-commit publish a moment
    fake_clock.advance(events.REPUBLISH_AFTER_SECONDS + 1)
    assert sweep.run(config)["republished"] == 1
    assert bus.events == [started.id]
    assert Event.get_by_id(started.id).dispatched_at == fake_clock.now
    bus.run_events()
    assert fresh(ticket).status == "dispatching"
    assert asked(ticket) == [("Ann", "pending")]
    assert Event.get_by_id(started.id).handled_at is not None
    fake_clock.advance(events.REPUBLISH_AFTER_SECONDS + 1)
    assert sweep.run(config)["republished"] == 0


def test_an_overdue_ticket_that_never_started_is_started_and_escalated(
        bus, make_vendor, intake, config, fake_clock):
    make_vendor("Ann")
    bus.down = True
    ticket = intake(severity="emergency")
    bus.down = False
    fake_clock.advance(config.emergency_idle_escalation + 1)

    counts = sweep.run(config)
    assert (counts["republished"], counts["escalated"]) == (1, 1)
    ticket = fresh(ticket)
    assert ticket.status == "escalated" and "emergency" in ticket.escalation_reason
    assert asked(ticket) == [("Ann", "pending")]  # asked anyway: a late YES still books it
    bus.run_events()  # the republished intake event finds the ticket already started
    assert asked(ticket) == [("Ann", "pending")]


def test_queued_messages_the_broker_lost_are_sent_again(bus, landlord, config, fake_clock):
    lost = outbound.queue(landlord=landlord, to="+15550300001", body="lost by the broker")
    accepted = outbound.queue(landlord=landlord, to="+15550300002", body="Twilio has it")
    abandoned = outbound.queue(landlord=landlord, to="+15550300003", body="worker died")
    (Message.update(provider_id="SM" + "a" * 32)  # Twilio calls what it accepted "queued" too
     .where(Message.id == accepted.id).execute())
    (Message.update(status="sending", attempts=1)
     .where(Message.id == abandoned.id).execute())
    bus.queued.clear()
    bus.sends.clear()

    fake_clock.advance(sweep.STALE_QUEUED.total_seconds() - 1)
    assert sweep.run(config)["resent"] == 0
    fake_clock.advance(2)
    assert sweep.run(config)["resent"] == 1
    assert bus.sends == [(lost.id, 0)]
    assert bus.deliver() == ["stored"]
    assert Message.get_by_id(lost.id).status == "stored"

    fake_clock.advance(sweep.STALE_SENDING.total_seconds())  # the dead worker's claim lapses
    assert sweep.run(config)["resent"] == 0
    assert Message.get_by_id(abandoned.id).status == "queued"
    fake_clock.advance(sweep.STALE_QUEUED.total_seconds() + 1)
    assert sweep.run(config)["resent"] == 1
    assert bus.sends == [(lost.id, 0), (abandoned.id, 0)]
    assert bus.deliver() == ["stored"]
    assert Message.get_by_id(abandoned.id).attempts == 2

    fake_clock.advance(DAY)
    assert sweep.run(config)["resent"] == 0
    accepted = Message.get_by_id(accepted.id)
    assert (accepted.status, accepted.attempts) == ("queued", 0)  # never sent twice
