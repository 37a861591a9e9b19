"""The job page's Quote form (CONTRACT.md §11): the vendor holding the job quotes its cost,
approved at once within the limit or sent to the landlord; its status on the page."""

from __future__ import annotations

import html as markup
from decimal import Decimal

import pytest

from app.booking import quotes
from app.models import Message, Property, Quote
from tests.web.test_job_page import accepted, flashed, now, post, show, world  # noqa: F401

# now and world are fixtures, imported to be requested by name below


@pytest.fixture
def held(client, world):  # noqa: F811
    """Acme took the job on its page; the property's limit is $250."""
    Property.update(approval_limit=Decimal("250")).where(
        Property.id == world.property.id).execute()
    return accepted(client, world)


def text_of(page: str) -> str:
    return markup.unescape(page)


def test_the_form_shows_only_once_the_vendor_holds_the_job(client, world):  # noqa: F811
    page = show(client, world.ping)
    assert "Send the quote" not in page and 'id="quote-title"' not in page


def test_a_quote_within_the_limit_is_approved_at_once(client, world, held):  # noqa: F811
    page = text_of(flashed(client, post(client, world.ping, "quote", {"amount": "$249.99"})))
    assert "Your quote of $249.99 is approved at once. Go ahead." in page
    quote = Quote.get()
    assert (quote.amount, quote.status, quote.vendor_id) == (Decimal("249.99"), "approved",
                                                             world.acme.id)
    assert "Send a new quote" in page


def test_a_quote_over_the_limit_waits_for_the_landlord(client, world, held):  # noqa: F811
    page = text_of(flashed(client, post(client, world.ping, "quote", {"amount": "1,234.50"})))
    assert "Your quote of $1,234.50 was sent to the landlord for approval." in page
    quote = Quote.get()
    assert quote.status == "pending"
    assert Message.select().where(Message.recipient_type == "landlord",
                                  Message.body.contains("quotes $1,234.50")).count() == 1
    quotes.deny(quote.id, actor="api")
    page = text_of(show(client, world.ping))
    assert "The landlord denied your quote of $1,234.50, so do not start that work." in page


@pytest.mark.parametrize("amount, problem", [
    ("lots", quotes.UNREADABLE), ("", quotes.UNREADABLE), ("12.345", "two decimals"),
    ("0", "more than $0.00"), ("x" * 41, "under 40 characters"),
])
def test_an_amount_that_cannot_be_used_is_422_and_sends_nothing(client, world, held,  # noqa: F811
                                                                amount, problem):
    response = post(client, world.ping, "quote", {"amount": amount})
    assert response.status_code == 422
    page = text_of(response.get_data(as_text=True))
    assert problem in page and 'aria-invalid="true"' in page
    assert not Quote.select().exists()


def test_a_vendor_who_does_not_hold_the_job_cannot_quote(client, world):  # noqa: F811
    response = post(client, world.ping, "quote", {"amount": "100"})
    assert "You no longer hold this job" in flashed(client, response)
    assert not Quote.select().exists()


def test_the_same_quote_twice_is_one(client, world, held):  # noqa: F811
    for _ in range(2):
        flashed(client, post(client, world.ping, "quote", {"amount": "300"}))
    assert Quote.select().count() == 1
