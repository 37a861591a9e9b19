"""What the SMS words of §11 do: a vendor's QUOTE, and a landlord's APPROVE, DENY and AGAIN
from their own phone. A word naming nothing of the sender's is refused in words that reveal
nothing, and changes nothing."""

from __future__ import annotations

from app.booking import loop, quotes, transitions, visits
from app.booking.dispatch import PingRefused
from app.bounds import positive_int
from app.config import Config
from app.messaging import replies, templates
from app.messaging.senders import Sender
from app.models import Appointment, Landlord, Quote, Ticket
from app.prepared import Param, Prepared

WORDS = ("quote", "approve", "deny", "again")
LANDLORD_WORDS = ("approve", "deny", "again")
NOT_YOURS = {"scheduled": "a vendor is booked for it", "completed": "it is done",
             "cancelled": "it is cancelled"}

LANDLORDS_AT = Prepared(lambda: Landlord.select(Landlord.id).where(
    Landlord.phone == Param("number")))
NEWEST_ESCALATED = Prepared(lambda: Ticket.select(Ticket.id).where(
    Ticket.landlord.in_(Landlord.select(Landlord.id).where(Landlord.phone == Param("number"))),
    Ticket.status == "escalated").order_by(Ticket.escalated_at.desc(), Ticket.id.desc()).limit(1))
NEWER = Prepared(lambda: Quote.select().where(
    Quote.ticket == Param("ticket"), Quote.id > Param("id")).order_by(Quote.id.desc()).limit(1))


def landlord_ids(number: str) -> set[int]:
    """Every landlord whose own phone this is."""
    return {row.id for row in LANDLORDS_AT.rows(number=number)}


def ticket_named(reply: replies.Reply, number: str) -> int | None:
    """The ticket a landlord's APPROVE, DENY or AGAIN is about, when it is theirs (found
    before anything is locked: the webhook locks it first); None otherwise."""
    ids = landlord_ids(number)
    if not ids:
        return None
    if reply.kind == "again":
        if reply.code is None:
            return NEWEST_ESCALATED.scalar(number=number)
        number_named = positive_int(reply.code)
        ticket = Ticket.find(number_named) if number_named is not None else None
        return ticket.id if ticket is not None and ticket.landlord_id in ids else None
    quote = _named_quote(reply.code, number, ids)
    return quote.ticket_id if quote is not None else None


def _named_quote(code: str | None, number: str, ids: set[int]) -> Quote | None:
    """The quote an APPROVE or DENY names (else the newest one the landlord was asked about),
    when it is one of theirs."""
    if code is None:
        question = quotes.asked_of(number, ids)
        return quotes.pending(question.ticket_id) if question is not None else None
    quote_id = positive_int(code)
    quote = Quote.find(quote_id) if quote_id is not None else None
    if quote is None or Ticket.get_by_id(quote.ticket_id).landlord_id not in ids:
        return None
    return quote


def word(reply: replies.Reply, number: str, visit: Appointment | None, sender: Sender,
         config: Config) -> str:
    """Carry out a QUOTE, APPROVE, DENY or AGAIN (inside the webhook's transaction, the ticket
    locked); the SMS answer."""
    if reply.kind == "quote":
        return vendor_quote(reply, visit, config) if sender.vendors else (
            templates.reply_help(sender.role))
    ids = {landlord.id for landlord in sender.landlords}
    if reply.kind == "again":
        return again(reply.code, number, ids, config)
    return decide(reply, number, ids)


def vendor_quote(reply: replies.Reply, visit: Appointment | None, config: Config) -> str:
    """QUOTE [code] <amount> from the vendor holding the visit."""
    code = reply.code or (visits.code_of(visit) if visit is not None else None)
    if visit is None:
        return templates.reply_quote_not_held(reply.code)
    try:
        amount = quotes.read_amount(reply.text)
        quote = quotes.submit(visit.id, amount, actor=f"vendor:{visit.vendor_id}", config=config)
    except quotes.BadAmount as exc:
        return templates.reply_quote_unreadable(code, str(exc))
    except (quotes.NotHolder, LookupError):
        return templates.reply_quote_not_held(code)
    return templates.reply_quoted(code, quote)


def decide(reply: replies.Reply, number: str, ids: set[int]) -> str:
    """APPROVE or DENY [n] from a landlord's phone."""
    quote = _named_quote(reply.code, number, ids) if ids else None
    if quote is None:
        return templates.reply_no_quote(reply.code)
    ticket = Ticket.get_by_id(quote.ticket_id)
    actor = f"landlord:{ticket.landlord_id}"
    try:
        outcome = (quotes.approve if reply.kind == "approve" else quotes.deny)(
            quote.id, actor=actor)
    except quotes.QuoteClosed as exc:
        return templates.reply_quote_closed(exc.quote, NEWER.first(ticket=ticket, id=quote.id))
    except LookupError:
        return templates.reply_no_quote(reply.code)
    quote = Quote.get_by_id(quote.id)
    return templates.reply_quote_decided(ticket, quote, quote.vendor, outcome)


def again(code: str | None, number: str, ids: set[int], config: Config) -> str:
    """AGAIN [ticket]: ask every matching vendor again, as the ticket page's dispatch again."""
    ticket_id = ticket_named(replies.Reply("again", code), number) if ids else None
    ticket = Ticket.find(ticket_id) if ticket_id is not None else None
    if ticket is None:
        return templates.reply_no_ticket(code)
    try:
        ping = loop.redispatch(ticket.id, config, actor=f"landlord:{ticket.landlord_id}")
    except transitions.IllegalTransition as exc:
        return templates.reply_not_dispatched(
            ticket.id, NOT_YOURS.get(exc.current, f"it is {exc.current}"))
    except PingRefused as exc:
        return templates.reply_not_dispatched(ticket.id, str(exc))
    except LookupError:
        return templates.reply_no_ticket(code)
    ticket = Ticket.get_by_id(ticket.id)
    return (templates.reply_dispatched_again(ticket, ping) if ping is not None
            else templates.reply_nobody_fits(ticket))
