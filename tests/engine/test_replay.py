"""Replaying the event log re-runs every handler and changes nothing that already happened."""

from __future__ import annotations

import pytest

from app import events
from app.booking import loop, sweep
from app.messaging.channels import Outbox, SendError
from app.models import MODELS, Appointment, Event, Message, Ping
from tests.engine.conftest import asked, events_of, fresh, pending


def snapshot() -> dict[str, list[tuple]]:
    """Every row of every table, in id order."""
    return {model.__name__: list(model.select().order_by(model.id).tuples()) for model in MODELS}


@pytest.fixture
def unreachable(monkeypatch) -> set[str]:
    """Numbers the provider refuses outright (no retry): their messages fail."""
    numbers: set[str] = set()
    send = Outbox.send

    def refusing(self, message, config):
        if message.to_number in numbers:
            raise SendError("unknown number", retryable=False)
        return send(self, message, config)

    monkeypatch.setattr(Outbox, "send", refusing)
    return numbers


@pytest.fixture
def booked(bus, make_vendor, intake, config, fake_clock, unreachable):
    """A whole story: NO, an offer that cannot be delivered, silence, a late YES, the notices."""
    make_vendor("Ann")
    unreachable.add(make_vendor("Bob").phones[0])
    make_vendor("Cy")
    make_vendor("Dee")
    ticket = intake()
    bus.settle()  # Ann is asked
    loop.decline(pending(ticket).id, config)
    bus.settle()  # Bob's offer fails, so Cy is asked
    cy = pending(ticket)
    fake_clock.advance(config.vendor_reply_timeout + 1)
    sweep.run(config)
    bus.settle()  # Cy is silent, so Dee is asked
    assert loop.accept(cy.id, "sms", config) == "booked"
    bus.settle()  # tenant, landlord and Dee are told

    assert asked(ticket) == [("Ann", "declined"), ("Bob", "failed"), ("Cy", "accepted"),
                             ("Dee", "filled")]
    assert fresh(ticket).status == "scheduled"
    handled = {e.type for e in Event.select() if e.type in events.HANDLERS}
    assert handled == {"intake.completed", "notification.failed", "appointment.confirmed"}
    return ticket


def test_replaying_twice_changes_nothing(booked, bus, config):
    before = snapshot()
    counts = {name: len(rows) for name, rows in before.items()}
    assert (counts["Appointment"], counts["Ping"]) == (1, 4)
    sends = list(bus.sends)

    assert events.replay(config) == 3
    assert events.replay(config) == 3
    bus.settle()

    assert snapshot() == before
    assert bus.sends == sends  # nothing was handed to the broker again
    assert fresh(booked).status == "scheduled"


def test_replaying_one_ticket_changes_nothing(booked, bus, config, intake):
    other = intake(category="pest")  # escalated at once: nobody does pest control
    bus.settle()
    before = snapshot()

    assert events.replay(config, ticket_id=booked.id) == 3
    assert events.replay(config, ticket_id=other.id) == 1
    bus.settle()

    assert snapshot() == before
    assert (Appointment.select().count(), Ping.select().count()) == (1, 4)
    assert len(events_of(other, "ticket.escalated")) == 1
    assert Message.select().where(Message.ticket == other).count() == 2
