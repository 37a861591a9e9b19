"""Quotes (CONTRACT.md §11): the landlord approves or denies a pending one through
app.booking.quotes, as APPROVE n / DENY n by SMS does."""

from __future__ import annotations

from app.api import route
from app.api import schemas as s
from app.api.errors import ApiError, not_found
from app.api.present import quote_out
from app.booking import quotes
from app.models import Landlord, Quote, Ticket

DECIDED = (" (again answers the same; 409 once replaced by a newer quote or decided the other "
           "way)")


def owned_quote(landlord: Landlord, quote_id: int) -> Quote:
    """The landlord's quote, or a 404 (another landlord's is not found either)."""
    quote = (Quote.select().join(Ticket)
             .where(Quote.id == quote_id, Ticket.landlord == landlord)
             .first())
    if quote is None:
        raise not_found("quote")
    return quote


def _decide(landlord: Landlord, quote_id: int, decide) -> s.QuoteOut:
    quote = owned_quote(landlord, quote_id)
    try:
        decide(quote.id, actor=f"landlord:{landlord.id}")
    except LookupError:
        raise not_found("quote") from None
    except quotes.QuoteClosed as exc:
        raise ApiError(409, f"quote {quote.id} is {exc.status}",
                       code="illegal_state_change") from None
    return quote_out(Quote.get_by_id(quote.id))


@route("/quotes/<int:quote_id>/approve", "POST",
       summary="Approve a pending quote: the vendor is told" + DECIDED,
       response=s.QuoteOut, errors=(404, 409))
def approve_quote(landlord: Landlord, quote_id: int):
    return _decide(landlord, quote_id, quotes.approve)


@route("/quotes/<int:quote_id>/deny", "POST",
       summary="Deny a pending quote: the vendor is told" + DECIDED,
       response=s.QuoteOut, errors=(404, 409))
def deny_quote(landlord: Landlord, quote_id: int):
    return _decide(landlord, quote_id, quotes.deny)
