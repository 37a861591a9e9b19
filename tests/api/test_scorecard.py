"""GET /api/vendors/{id}/scorecard (§10): the last 90 days of offers, answers, visits and ratings,
read from pings and appointments in one SQL statement."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import datetime, timedelta

import pytest

from app import clock
from app.booking import scorecards
from app.db import db
from app.models import Appointment, Ping, Ticket, Vendor
from tests.api.conftest import error_of, make_ticket, make_vendor

NOW = datetime(2026, 3, 4, 15, 0)
LONG_AGO = NOW - timedelta(days=100)
codes = iter(range(1000, 10000))


@pytest.fixture(autouse=True)
def frozen(app):
    clock.set_fake(NOW)
    yield
    clock.set_fake(None)


def offer(ticket: Ticket, vendor: Vendor, outcome: str, *, ago: timedelta = timedelta(days=1),
          answer_seconds: float | None = None) -> Ping:
    sent = NOW - ago
    return Ping.create(ticket=ticket, vendor=vendor, channel="sms", code=f"C{next(codes)}",
                       to_number=vendor.phones[0], sent_at=sent,
                       expires_at=sent + timedelta(seconds=30), outcome=outcome,
                       answered_at=None if answer_seconds is None
                       else sent + timedelta(seconds=answer_seconds))


def visit(ticket: Ticket, vendor: Vendor, status: str, *, at: datetime = NOW - timedelta(days=2),
          rating: int | None = None) -> Appointment:
    return Appointment.create(
        ticket=ticket, vendor=vendor, status=status, confirmation_method="sms",
        created_at=at - timedelta(days=1), starts_at=at - timedelta(hours=2), ends_at=at,
        completed_at=at if status == "completed" else None,
        cancelled_at=at if status in ("cancelled", "no_show") else None,
        rating=rating, rated_at=at + timedelta(hours=1) if rating is not None else None)


@pytest.fixture
def seeded(landlord, vendor):
    """The vendor's 90 days: 5 offers (2 YES in 10 s and 30 s, a NO in 20 s, a timeout, one
    pending), a failed send, 2 visits done (rated 5 and 4), one cancelled, one no-show; and
    older things that no longer count."""
    ticket = make_ticket(landlord)
    offer(ticket, vendor, "accepted", answer_seconds=10)
    offer(ticket, vendor, "accepted", answer_seconds=30, ago=timedelta(days=89))
    offer(ticket, vendor, "declined", answer_seconds=20)
    offer(ticket, vendor, "timed_out")
    offer(ticket, vendor, "pending", ago=timedelta(seconds=5))
    offer(ticket, vendor, "failed")
    offer(ticket, vendor, "accepted", answer_seconds=1, ago=timedelta(days=100))
    offer(ticket, vendor, "timed_out", ago=timedelta(days=91))
    visit(ticket, vendor, "completed", rating=5)
    visit(ticket, vendor, "completed", rating=4)
    visit(ticket, vendor, "cancelled")
    visit(ticket, vendor, "no_show")
    visit(ticket, vendor, "completed", at=LONG_AGO, rating=1)
    visit(ticket, vendor, "no_show", at=LONG_AGO)
    return vendor


def test_the_figures_of_the_last_ninety_days(client, auth, seeded):
    response = client.get(f"/api/vendors/{seeded.id}/scorecard", headers=auth)
    assert response.status_code == 200
    assert response.json == {
        "periodDays": 90, "offers": 5, "accepted": 2, "declined": 1, "timedOut": 1,
        "acceptanceRate": 0.4, "medianResponseSeconds": 20.0, "completed": 2, "cancelled": 1,
        "noShows": 1, "ratings": 2, "averageRating": 4.5,
    }


def test_a_vendor_with_nothing_yet(client, auth, vendor):
    assert client.get(f"/api/vendors/{vendor.id}/scorecard", headers=auth).json == {
        "periodDays": 90, "offers": 0, "accepted": 0, "declined": 0, "timedOut": 0,
        "acceptanceRate": None, "medianResponseSeconds": None, "completed": 0, "cancelled": 0,
        "noShows": 0, "ratings": 0, "averageRating": None,
    }


def test_an_even_number_of_answers_takes_the_middle_two(landlord, vendor):
    ticket = make_ticket(landlord)
    for seconds in (40, 10, 30, 20):
        offer(ticket, vendor, "declined", answer_seconds=seconds)
    card = scorecards.scorecard(landlord.id, vendor.id)
    assert card.median_response_seconds == 25.0 and card.acceptance_rate == 0.0


def test_each_vendor_counts_only_its_own(landlord, seeded):
    other = make_vendor(landlord, "Bob's Drains", phones=["+15550003001"])
    offer(make_ticket(landlord), other, "accepted", answer_seconds=100)
    cards = scorecards.scorecards(landlord.id)
    assert set(cards) == {seeded.id, other.id}
    assert (cards[other.id].offers, cards[other.id].median_response_seconds) == (1, 100.0)
    assert cards[seeded.id] == scorecards.scorecard(landlord.id, seeded.id)
    assert cards[seeded.id].offers == 5


def test_another_landlords_vendor_is_404(client, auth, theirs):
    offer(theirs.ticket, theirs.vendor, "accepted", answer_seconds=5)
    response = client.get(f"/api/vendors/{theirs.vendor.id}/scorecard", headers=auth)
    assert response.status_code == 404 and error_of(response)["code"] == "not_found"
    assert client.get("/api/vendors/999/scorecard", headers=auth).status_code == 404
    assert scorecards.scorecard(theirs.landlord.id, theirs.vendor.id).offers == 1


@contextmanager
def statements(monkeypatch):
    """Count the SQL statements the database runs inside the block."""
    ran: list[str] = []
    database = type(db.obj)
    real = database.execute_sql

    def counting(self, sql, params=None, *args, **kwargs):
        ran.append(sql)
        return real(self, sql, params, *args, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(database, "execute_sql", counting)
        yield ran


def test_one_statement_per_scorecard_and_per_landlord(landlord, seeded, monkeypatch):
    for n in range(5):
        vendor = make_vendor(landlord, f"Extra {n}", phones=[f"+155500031{n:02d}"])
        offer(make_ticket(landlord), vendor, "declined", answer_seconds=n + 1)
    with statements(monkeypatch) as ran:
        card = scorecards.scorecard(landlord.id, seeded.id)
    assert card.offers == 5 and len(ran) == 1
    with statements(monkeypatch) as ran:
        cards = scorecards.scorecards(landlord.id)
    assert len(cards) == 6 and len(ran) == 1
