"""Engine fixtures: a fake clock, vendors made to order, a bus that runs worker jobs inline."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pytest
from peewee import fn

from app import clock, events
from app.booking.intake import Report, open_ticket
from app.booking.vendors import create_vendor
from app.config import Config
from app.messaging import outbound
from app.models import Event, Landlord, Message, Ping, Ticket, Vendor

CHICAGO = "America/Chicago"
WEDNESDAY_9AM = datetime(2026, 3, 4, 15, 0)  # Wed 4 Mar 2026, 09:00 in Chicago (CST, UTC-6)


class FakeClock:
    """app.clock frozen at a moment that only moves when a test says so."""

    def __init__(self, start: datetime):
        self.set(start)

    def set(self, moment: datetime) -> None:
        self.now = moment
        clock.set_fake(moment)

    def advance(self, seconds: float) -> datetime:
        self.set(self.now + timedelta(seconds=seconds))
        return self.now


@pytest.fixture(autouse=True)
def one_vendor_at_a_time(request):
    """Whatever an engine test did, it never left a ticket with two open offers."""
    uses_database = "app" in request.fixturenames
    if uses_database:
        request.getfixturevalue("app")  # set up first, so torn down after this check
    yield
    if uses_database:
        assert_one_open_ping()


@pytest.fixture
def fake_clock(app) -> FakeClock:
    """The clock stopped at Wednesday 09:00 in Chicago; restored to the real one afterwards."""
    fake = FakeClock(WEDNESDAY_9AM)
    yield fake
    clock.set_fake(None)


@dataclass
class Bus:
    """Stands in for the broker: records what would be sent and runs it when a test says so."""

    config: Config
    events: list[int] = field(default_factory=list)  # published event ids not yet handled
    queued: list[int] = field(default_factory=list)  # enqueued message ids not yet delivered
    sends: list[tuple[int, int]] = field(default_factory=list)  # every (message id, delay ms)
    down: bool = False  # the broker refuses everything (events stay in the outbox)

    def publish(self, event_id: int) -> None:
        if self.down:
            raise ConnectionError("broker down")
        self.events.append(event_id)

    def send(self, message_id: int, delay_ms: int) -> None:
        if self.down:
            raise ConnectionError("broker down")
        self.sends.append((message_id, delay_ms))
        self.queued.append(message_id)

    def run_events(self) -> int:
        """Run the handler of every published event (and of those they publish); the count."""
        ran = 0
        while self.events:
            events.handle(self.events.pop(0), self.config)
            assert_one_open_ping()
            ran += 1
        return ran

    def deliver(self) -> list[str]:
        """Deliver every enqueued message, retries included, as the send_message actor does."""
        outcomes = []
        while self.queued:
            outcomes.append(outbound.deliver(self.queued.pop(0), self.config))
            assert_one_open_ping()
        return outcomes

    def settle(self) -> None:
        """Run events and deliveries until nothing is left to do."""
        while self.events or self.queued:
            self.run_events()
            self.deliver()


@pytest.fixture
def bus(app, config, fake_clock, monkeypatch) -> Bus:
    """Events and messages go to an inline bus instead of the broker."""
    inline = Bus(config)
    monkeypatch.setattr(events, "_publisher", inline.publish)
    monkeypatch.setattr(outbound, "_sender", inline.send)
    return inline


@pytest.fixture
def make_vendor(landlord, fake_clock) -> Callable[..., Vendor]:
    """make_vendor(name, hours=..., priority=..., specialties=[...], ...): a vendor of landlord."""
    numbers = itertools.count(1)

    def make(name: str, **fields) -> Vendor:
        values = dict(name=name, phones=[f"+1555010{next(numbers):04d}"],
                      specialties=["plumbing"], hours="24/7", priority=1)
        values.update(fields)
        return create_vendor(landlord, values)

    return make


@pytest.fixture
def intake(landlord, home, config, fake_clock) -> Callable[..., Ticket]:
    """intake(severity=..., category=..., window=...): a reported ticket (status new)."""
    prop, tenant = home

    def report(*, landlord: Landlord = landlord, **fields) -> Ticket:
        values = dict(tenant_id=tenant.id, property_id=prop.id, category="plumbing",
                      severity="routine", window="anytime")
        values.update(fields)
        ticket, created = open_ticket(landlord, Report(**values), config)
        assert created
        return ticket

    return report


def fresh(ticket: Ticket) -> Ticket:
    """The ticket row as stored now."""
    return Ticket.get_by_id(ticket.id)


def assert_one_open_ping() -> None:
    """No ticket ever has two pending pings: one vendor is asked at a time."""
    crowded = (Ping.select(Ping.ticket, fn.COUNT(Ping.id))
               .where(Ping.outcome == "pending")
               .group_by(Ping.ticket)
               .having(fn.COUNT(Ping.id) > 1)
               .tuples())
    assert list(crowded) == []


def pending(ticket: Ticket) -> Ping | None:
    """The ticket's open ping, checking first that there is at most one anywhere."""
    assert_one_open_ping()
    return Ping.get_or_none(Ping.ticket == ticket, Ping.outcome == "pending")


def asked(ticket: Ticket) -> list[tuple[str, str]]:
    """(vendor name, outcome) of every ping of the ticket, in the order they were sent."""
    query = (Ping.select(Ping, Vendor).join(Vendor)
             .where(Ping.ticket == ticket)
             .order_by(Ping.id))
    return [(ping.vendor.name, ping.outcome) for ping in query]


def events_of(ticket: Ticket | None, kind: str) -> list[Event]:
    """The ticket's events of one type, oldest first (every ticket's when ticket is None)."""
    query = Event.select().where(Event.type == kind).order_by(Event.id)
    if ticket is not None:
        query = query.where(Event.ticket == ticket)
    return list(query)


def messages_to(kind: str, ticket: Ticket | None = None) -> list[Message]:
    """Outbound messages to a recipient type (landlord, tenant, vendor), oldest first."""
    query = (Message.select()
             .where(Message.direction == "outbound", Message.recipient_type == kind)
             .order_by(Message.id))
    if ticket is not None:
        query = query.where(Message.ticket == ticket)
    return list(query)
