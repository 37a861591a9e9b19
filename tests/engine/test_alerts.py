"""An emergency's escalation rings the landlord and texts again every five minutes, three times
at most, until the landlord acknowledges it (ACK, the call's 1, or any action on the ticket)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from twilio.twiml.voice_response import VoiceResponse

from app import faults
from app.booking import alerts, answers, appointments, dispatch, loop, sweep, transitions
from app.db import transaction
from app.models import Fault, Message, Ticket
from tests.engine.conftest import events_of, fresh, messages_to

MINUTE = 60


def texts_to_landlord(ticket: Ticket) -> list[Message]:
    """The escalation texts the landlord got about ticket (not the booking notice)."""
    return [m for m in messages_to("landlord", ticket)
            if m.channel == "sms" and m.body.startswith("Fixline needs you")]


def run_for(bus, config, fake_clock, seconds: int, ticket: Ticket) -> list[int]:
    """Sweep once a second for this long; the seconds at which the landlord got a new SMS."""
    start, seen, at = fake_clock.now, len(texts_to_landlord(ticket)), []
    for _ in range(seconds):
        fake_clock.advance(1)
        sweep.run(config)
        bus.settle()
        count = len(texts_to_landlord(ticket))
        if count > seen:
            at += [int((fake_clock.now - start).total_seconds())] * (count - seen)
            seen = count
    return at


@pytest.fixture
def escalated(bus, make_vendor, intake, config, fake_clock):
    """An emergency whose only vendor did not answer: escalated with nobody left to ask."""
    make_vendor("Only")
    ticket = intake(severity="emergency")
    bus.run_events()
    fake_clock.advance(config.vendor_reply_timeout + 1)
    sweep.run(config)
    bus.settle()
    ticket = fresh(ticket)
    assert (ticket.status, ticket.escalation_reason) == ("escalated", loop.NOBODY_LEFT)
    return ticket


def test_an_emergency_rings_the_landlord_and_texts_again_at_5_10_15_minutes_then_stops(
        bus, escalated, config, fake_clock, landlord):
    sms, call = messages_to("landlord", escalated)
    assert (sms.channel, call.channel) == ("sms", "voice")
    assert call.to_number == landlord.phone and call.status == "stored"
    assert loop.NOBODY_LEFT in call.body and call.body.endswith("Press 1 to acknowledge.")
    assert f"Reply ACK {escalated.id} to stop the reminders." in sms.body
    assert escalated.alert_due_at == fake_clock.now + timedelta(seconds=alerts.REPEAT_SECONDS)

    assert run_for(bus, config, fake_clock, 30 * MINUTE, escalated) == [300, 600, 900]
    texts = texts_to_landlord(escalated)
    assert {m.body for m in texts} == {sms.body}  # the same alert, again
    assert [m.dedupe_key.rsplit(":", 1)[1] for m in texts[1:]] == ["1", "2", "3"]
    ticket = fresh(escalated)
    assert (ticket.alert_repeats, ticket.alert_due_at, ticket.acknowledged_at) == (3, None, None)
    assert len([m for m in messages_to("landlord", ticket) if m.channel == "voice"]) == 1


def test_a_routine_escalation_is_neither_called_nor_repeated(
        bus, make_vendor, intake, config, fake_clock):
    make_vendor("Only")
    ticket = intake(severity="routine")
    bus.run_events()
    fake_clock.advance(config.vendor_reply_timeout + 1)
    sweep.run(config)
    bus.settle()
    assert fresh(ticket).status == "dispatching"  # silence: asked again later (§10 rounds)
    fake_clock.advance(config.routine_booking_escalation)  # then the SLA escalates it
    sweep.run(config)
    bus.settle()
    ticket = fresh(ticket)
    assert ticket.status == "escalated" and ticket.alert_due_at is None
    assert "ACK" not in texts_to_landlord(ticket)[0].body
    assert run_for(bus, config, fake_clock, 10 * MINUTE, ticket) == []
    # no repeat and no call; once its last round ended with nobody, the landlord is told so
    escalated, *later = messages_to("landlord", ticket)
    assert escalated.channel == "sms" and escalated.body.startswith("Fixline needs you")
    assert [(m.channel, m.body.startswith("Fixline update")) for m in later] == [("sms", True)]


def _sms(ticket, config, body="ACK"):
    return answers.on_sms(sid=f"SM{ticket.id:032x}", from_number=ticket.landlord.phone,
                          to_number="+15005550006", body=body, config=config)


def _call(ticket, config):
    response = VoiceResponse()
    alerts.on_call(response, ticket_id=ticket.id, call_sid="CA" + "1" * 32, digits="1",
                   config=config)
    return str(response)


def _cancel(ticket, config):
    with transaction():
        transitions.change_status(ticket, "cancelled", actor=f"landlord:{ticket.landlord_id}")


def _book(ticket, config):
    appointments.book(ticket, ticket.pings.get().vendor, None, None, "manual",
                      actor=f"landlord:{ticket.landlord_id}", config=config)


def _dispatch_again(ticket, config):
    assert loop.redispatch(ticket.id, config, actor=f"landlord:{ticket.landlord_id}")


def _ping_by_hand(ticket, config):
    dispatch.send_ping(ticket, ticket.pings.get().vendor, "sms", config, actor="api",
                       manual=True)


@pytest.mark.parametrize("act, by, said", [
    (_sms, "sms", "Thanks: you acknowledged ticket"),
    (_call, "call", "Thanks: you acknowledged ticket"),
    (_cancel, "status change", None),
    (_book, "status change", None),
    (_dispatch_again, "dispatch again", None),
    (_ping_by_hand, "manual ping", None),
])
def test_each_acknowledgement_stops_the_repeats(
        bus, escalated, config, fake_clock, act, by, said):
    assert run_for(bus, config, fake_clock, 5 * MINUTE, escalated) == [300]
    fake_clock.advance(30)
    answer = act(fresh(escalated), config)
    if said:
        assert said in answer
    ticket = fresh(escalated)
    assert ticket.acknowledged_at == fake_clock.now and ticket.alert_due_at is None
    [event] = events_of(ticket, "ticket.acknowledged")
    assert event.data == {"by": by}
    assert event.actor in ("api", f"landlord:{ticket.landlord_id}")
    assert run_for(bus, config, fake_clock, 10 * MINUTE, escalated) == []
    assert fresh(escalated).alert_repeats == 1


def test_a_vendor_booking_the_escalated_job_stops_the_alert_without_acknowledging(
        bus, escalated, config, fake_clock):
    late = escalated.pings.get()
    assert loop.accept(late.id, "sms", config) == "booked"
    ticket = fresh(escalated)
    assert (ticket.status, ticket.alert_due_at, ticket.acknowledged_at) == (
        "scheduled", None, None)
    assert events_of(ticket, "ticket.acknowledged") == []
    assert run_for(bus, config, fake_clock, 10 * MINUTE, ticket) == []


def test_ack_with_nothing_to_acknowledge_says_so(bus, escalated, config, fake_clock):
    assert _sms(escalated, config).startswith("Thanks: you acknowledged ticket")
    again = answers.on_sms(sid="SM" + "2" * 32, from_number=escalated.landlord.phone,
                           to_number="+15005550006", body="ack", config=config)
    assert again == "Fixline has no unacknowledged alert for you."
    named = answers.on_sms(sid="SM" + "3" * 32, from_number=escalated.landlord.phone,
                           to_number="+15005550006", body=f"ACK {escalated.id}", config=config)
    assert named == f"Fixline has no unacknowledged alert about ticket {escalated.id} for you."
    assert len(events_of(escalated, "ticket.acknowledged")) == 1


def test_a_repeat_whose_deadline_was_not_moved_on_is_not_sent_twice(
        bus, escalated, config, fake_clock):
    """A crash after the repeat went out but before its deadline moved: the sweep finds it due
    again, and the repeat's dedupe key (escalation and repeat number) keeps it single."""
    assert run_for(bus, config, fake_clock, 5 * MINUTE, escalated) == [300]
    Ticket.update(alert_repeats=0, alert_due_at=fake_clock.now).where(
        Ticket.id == escalated.id).execute()
    assert run_for(bus, config, fake_clock, 1, escalated) == []
    assert fresh(escalated).alert_repeats == 1
    assert run_for(bus, config, fake_clock, 10 * MINUTE, escalated) == [300, 600]
    assert fresh(escalated).alert_repeats == 3


def test_a_failing_repeat_is_retried_with_backoff_and_sent_once(
        bus, escalated, config, fake_clock, monkeypatch):
    real = alerts.REPEATED.execute
    failures = []

    def crash_once(**values):  # the repeat is queued, then its deadline write fails
        if not failures:
            failures.append(values)
            raise ConnectionError("database went away")
        return real(**values)

    monkeypatch.setattr(alerts.REPEATED, "execute", crash_once)
    assert run_for(bus, config, fake_clock, 5 * MINUTE, escalated) == []  # rolled back
    assert Fault.get(Fault.kind == "alert", Fault.row_id == escalated.id).attempts == 1
    assert run_for(bus, config, fake_clock, faults.BACKOFF_SECONDS[0], escalated) == [2]
    assert Fault.select().count() == 0
    assert fresh(escalated).alert_repeats == 1
