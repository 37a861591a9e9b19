"""Quotes through the API (CONTRACT.md §11): approve and deny, scoped to the landlord, each
safe twice and 409 once replaced or decided the other way; a ticket carries its quotes."""

from __future__ import annotations

from decimal import Decimal

import pytest

from app import clock
from app.booking import quotes
from app.booking.appointments import book
from app.models import Message, Property, Question, Quote
from tests.api.conftest import error_of, snapshot


@pytest.fixture
def visit(ticket, vendor, config):
    """The landlord booked their vendor by hand; the property's limit is $250."""
    Property.update(approval_limit=Decimal("250")).where(
        Property.id == ticket.property_id).execute()
    return book(ticket, vendor, None, None, "manual", "test", config=config)


def submit(visit, amount: str, config) -> Quote:
    return quotes.submit(visit.id, Decimal(amount), actor=f"vendor:{visit.vendor_id}",
                         config=config)


@pytest.fixture
def asked(visit, config) -> Quote:
    return submit(visit, "1234.56", config)


def post(client, auth, quote_id, action: str):
    return client.post(f"/api/quotes/{quote_id}/{action}", headers=auth)


@pytest.mark.parametrize("action, status", [("approve", "approved"), ("deny", "denied")])
def test_a_decision_answers_the_quote(client, auth, asked, action, status):
    response = post(client, auth, asked.id, action)
    assert response.status_code == 200, response.json
    body = response.json
    stored = Quote.get_by_id(asked.id)
    assert body == {"id": asked.id, "ticketId": asked.ticket_id, "vendorId": asked.vendor_id,
                    "amount": 1234.56, "status": status,
                    "submittedAt": clock.isoformat(stored.submitted_at),
                    "decidedAt": clock.isoformat(stored.decided_at)}
    assert isinstance(body["amount"], float) and stored.decided_by.startswith("landlord:")
    assert Message.select().where(Message.recipient_type == "vendor",
                                  Message.body.contains(f"{status} your quote of $1,234.56")
                                  ).count() == 1
    assert not Question.select().where(Question.closed_at.is_null(),
                                       Question.role == "landlord").exists()
    again = post(client, auth, asked.id, action)  # twice: the same answer, nothing more
    assert again.status_code == 200 and again.json == body
    assert Message.select().where(Message.recipient_type == "vendor",
                                  Message.body.contains("your quote")).count() == 1


@pytest.mark.parametrize("first, then", [("approve", "deny"), ("deny", "approve")])
def test_the_other_decision_is_a_409(client, auth, asked, first, then):
    assert post(client, auth, asked.id, first).status_code == 200
    before = snapshot()
    response = post(client, auth, asked.id, then)
    assert response.status_code == 409
    assert error_of(response)["code"] == "illegal_state_change"
    assert snapshot() == before


def test_a_replaced_quote_is_a_409(client, auth, asked, visit, config):
    newer = submit(visit, "300", config)
    for action in ("approve", "deny"):
        response = post(client, auth, asked.id, action)
        assert response.status_code == 409 and "replaced" in error_of(response)["message"]
    assert post(client, auth, newer.id, "approve").json["status"] == "approved"


def test_another_landlords_quote_is_not_found(client, other_auth, asked):
    before = snapshot()
    for action in ("approve", "deny"):
        response = post(client, other_auth, asked.id, action)
        assert response.status_code == 404 and error_of(response)["code"] == "not_found"
    assert post(client, other_auth, 987654, "approve").status_code == 404
    assert snapshot() == before


def test_an_approved_at_once_quote_approves_again_but_does_not_deny(client, auth, visit,
                                                                     config):
    within = submit(visit, "99.90", config)
    assert post(client, auth, within.id, "approve").json["status"] == "approved"
    assert post(client, auth, within.id, "deny").status_code == 409


def test_the_ticket_carries_its_quotes_oldest_first(client, auth, asked, visit, config):
    newer = submit(visit, "200.1", config)
    shown = client.get(f"/api/tickets/{asked.ticket_id}", headers=auth).json["quotes"]
    first, second = (Quote.get_by_id(q.id) for q in (asked, newer))
    assert shown == [
        {"id": asked.id, "amount": 1234.56, "status": "replaced",
         "submittedAt": clock.isoformat(first.submitted_at),
         "decidedAt": clock.isoformat(first.decided_at)},
        {"id": newer.id, "amount": 200.1, "status": "approved",
         "submittedAt": clock.isoformat(second.submitted_at),
         "decidedAt": clock.isoformat(second.decided_at)},
    ]


def test_a_ticket_without_quotes_says_so(client, auth, ticket):
    assert client.get(f"/api/tickets/{ticket.id}", headers=auth).json["quotes"] == []


def test_the_document_describes_the_quote_routes(client):
    paths = client.get("/api/openapi.json").json["paths"]
    for action in ("approve", "deny"):
        operation = paths[f"/api/quotes/{{quote_id}}/{action}"]["post"]
        assert {"200", "404", "409"} <= set(operation["responses"])
