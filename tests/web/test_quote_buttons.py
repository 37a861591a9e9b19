"""The landlord's Approve and Deny for a quote over the limit (§11), on the dashboard and the
ticket page: the same engine as APPROVE n / DENY n by SMS; another landlord's is a 404."""

from __future__ import annotations

from decimal import Decimal

import pytest

from app.booking import loop, quotes
from app.models import Appointment, Ping, Property, Quote, Ticket


@pytest.fixture
def waiting(app, seeded, make_ticket) -> Quote:
    """Emergency Handyman holds a plumbing job at 123 Main Street (limit $250, emergencies
    $500) and quoted $1,200.00: the landlord is asked."""
    config = app.extensions["fixline"]
    ticket = make_ticket(seeded)
    loop.start(ticket.id, config)
    assert loop.accept(Ping.get(Ping.ticket == ticket).id, "sms", config) == "booked"
    visit = Appointment.get(Appointment.ticket == ticket)
    Property.update(approval_limit=Decimal("250"), emergency_approval_limit=None).where(
        Property.id == Ticket.get_by_id(ticket.id).property_id).execute()
    quote = quotes.submit(visit.id, Decimal("1200"), actor=f"vendor:{visit.vendor_id}",
                          config=config)
    assert quote.status == "pending"
    return quote


def test_the_dashboard_lists_the_quote_and_approves_it(landlord_client, csrf_token, waiting):
    page = landlord_client.get("/dashboard").get_data(as_text=True)
    assert "Quotes waiting for you" in page and "$1,200.00" in page and "(limit $250.00)" in page
    token = csrf_token(landlord_client, "/dashboard")
    answer = landlord_client.post(
        f"/tickets/{waiting.ticket_id}/quotes/{waiting.id}/approve",
        data={"csrf_token": token, "next": "dashboard"})
    assert answer.status_code == 303 and answer.headers["Location"].endswith("/dashboard")
    assert Quote.get_by_id(waiting.id).status == "approved"
    after = landlord_client.get("/dashboard").get_data(as_text=True)
    assert "Quotes waiting for you" not in after


def test_the_ticket_page_denies_it_and_a_second_press_says_so(landlord_client, csrf_token,
                                                               waiting):
    page = f"/tickets/{waiting.ticket_id}"
    assert "Approve $1,200.00" in landlord_client.get(page).get_data(as_text=True)
    url = f"/tickets/{waiting.ticket_id}/quotes/{waiting.id}/deny"
    token = csrf_token(landlord_client, page)
    assert landlord_client.post(url, data={"csrf_token": token}).status_code == 303
    assert Quote.get_by_id(waiting.id).status == "denied"
    approve = url.replace("/deny", "/approve")
    shown = landlord_client.post(approve, data={"csrf_token": token}, follow_redirects=True)
    assert "already denied" in shown.get_data(as_text=True)
    assert Quote.get_by_id(waiting.id).status == "denied"


def test_another_landlord_cannot_decide(other_client, csrf_token, waiting):
    token = csrf_token(other_client, "/dashboard")
    url = f"/tickets/{waiting.ticket_id}/quotes/{waiting.id}/approve"
    assert other_client.post(url, data={"csrf_token": token}).status_code == 404
    assert Quote.get_by_id(waiting.id).status == "pending"


def test_without_the_csrf_token_nothing_is_decided(landlord_client, waiting):
    url = f"/tickets/{waiting.ticket_id}/quotes/{waiting.id}/approve"
    assert landlord_client.post(url).status_code == 400
    assert Quote.get_by_id(waiting.id).status == "pending"


@pytest.mark.parametrize("page", ["/dashboard", "/tickets/{ticket}"])
def test_both_pages_offer_both_buttons(landlord_client, waiting, page):
    html = landlord_client.get(page.format(ticket=waiting.ticket_id)).get_data(as_text=True)
    for decision in ("approve", "deny"):
        assert f'action="/tickets/{waiting.ticket_id}/quotes/{waiting.id}/{decision}"' in html
