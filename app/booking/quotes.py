"""Costs and approvals (CONTRACT.md §11): the vendor holding a job quotes a price; within the
property's limit it is approved at once, over it the landlord is asked (APPROVE n / DENY n by
SMS, the API, the pages) and the vendor is told either way. A newer quote replaces a pending one.

Amounts are exact decimals with at most two places, never floats. Every function takes the
ticket's lock (loop.lock) in one transaction, writes the change, its event and the messages it
sends together, and is safe to run twice.
"""

from __future__ import annotations

from contextlib import suppress
from decimal import Decimal, InvalidOperation

from app import clock, events, money
from app.booking import loop, visits
from app.config import Config
from app.db import transaction
from app.i18n import N_, gettext
from app.messaging import outbound, templates
from app.models import (
    ACTIVE_APPOINTMENT_STATUSES,
    Appointment,
    Property,
    Question,
    Quote,
    Ticket,
    Vendor,
)
from app.prepared import Param, Prepared

EXAMPLE = "350.50"
UNREADABLE = N_("That is not an amount we can read.")
DECIDED = {"approve": "approved", "deny": "denied"}

TICKET_OF = Prepared(lambda: Quote.select(Quote.ticket).where(Quote.id == Param("id")))
PENDING_OF = Prepared(lambda: Quote.select().where(
    Quote.ticket == Param("ticket"), Quote.status == "pending")
    .order_by(Quote.id.desc()).limit(1))
NEWEST_OF_VENDOR = Prepared(lambda: Quote.select().where(
    Quote.ticket == Param("ticket"), Quote.vendor == Param("vendor"))
    .order_by(Quote.id.desc()).limit(1))
OF_TICKET = Prepared(lambda: Quote.select().where(Quote.ticket == Param("ticket"))
                     .order_by(Quote.submitted_at, Quote.id))
DECIDE = Prepared(lambda: Quote.update(
    status=Param("status", Quote.status), decided_at=Param("at", Quote.decided_at),
    decided_by=Param("by", Quote.decided_by)).where(
    Quote.id == Param("id"), Quote.status == "pending"))
CLOSE_QUESTION = Prepared(lambda: Question.update(
    closed_at=Param("at", Question.closed_at), answer=Param("answer", Question.answer)).where(
    Question.ticket == Param("ticket"), Question.kind == "quote", Question.role == "landlord",
    Question.closed_at.is_null()))
NEWEST_QUESTION = Prepared(lambda: Question.select().where(
    Question.phone == Param("phone"), Question.role == "landlord", Question.kind == "quote",
    Question.closed_at.is_null()).order_by(Question.asked_at.desc(), Question.id.desc()))


class QuoteError(Exception):
    """A quote that cannot be taken or decided now (an SMS answer, a page's notice, a 409)."""


class BadAmount(QuoteError, ValueError):
    """Not an amount Fixline takes: the message is a sentence for the vendor."""


class NotHolder(QuoteError):
    """Only the vendor holding the job's active visit may quote for it."""


class QuoteClosed(QuoteError):
    """The quote was replaced, or decided the other way."""

    def __init__(self, quote: Quote):
        self.quote, self.status = quote, quote.status
        super().__init__(f"quote {quote.id} is {quote.status}")


class _MoneySummary(str):
    """A timeline summary whose {amount} reads as money ($1,234.50), not "1234.50"."""

    def format(self, *args, **fields) -> str:
        with suppress(InvalidOperation, ValueError):
            fields["amount"] = templates.money(Decimal(str(fields.get("amount"))))
        return super().format(*args, **fields)


for _type, _summary in (("quote.submitted", "{vendor} quoted {amount}"),
                        ("quote.approved", "Quote of {amount} from {vendor} approved ({how})"),
                        ("quote.denied", "Quote of {amount} from {vendor} denied")):
    events.SUMMARIES.setdefault(_type, _MoneySummary(_summary))


def read_amount(text: str) -> Decimal:
    """What a vendor typed ("350", "350.50", "$1,234.50") as an exact amount; BadAmount else."""
    typed = (text or "").strip()
    if not money.TYPED.fullmatch(typed):  # the amounts people type on the pages, too
        raise BadAmount(gettext(UNREADABLE))
    return check_amount(Decimal(typed.lstrip("$").replace(",", "")))


def check_amount(amount: Decimal) -> Decimal:
    """amount if Fixline takes it: a Decimal above 0, at most 1,000,000,000 and two places."""
    if isinstance(amount, bool) or not isinstance(amount, (Decimal, int)):
        raise TypeError("an amount is a Decimal, never a float")
    amount = Decimal(amount)
    if not amount.is_finite() or amount <= 0:
        raise BadAmount(gettext("A quote must be more than $0.00."))
    if amount > money.MAX:
        raise BadAmount(gettext("A quote can be at most %(most)s.",
                                most=templates.money(money.MAX)))
    if amount != amount.quantize(money.CENT):
        raise BadAmount(gettext("An amount has at most two decimals (cents)."))
    return amount.quantize(money.CENT)


def limit_for(ticket: Ticket) -> Decimal | None:
    """The amount a quote may reach without asking: the emergency limit for an emergency
    when the property has one, else the approval limit; None means no limit."""
    prop = ticket.property
    if ticket.severity == "emergency" and prop.emergency_approval_limit is not None:
        return prop.emergency_approval_limit
    return prop.approval_limit


def _text(amount: Decimal) -> str:
    """An amount as event data: a string with its two places ("350.00"), exact."""
    return str(money.exact(amount))


def _data(quote: Quote, **more) -> dict:
    return dict(quoteId=quote.id, amount=_text(quote.amount), vendorId=quote.vendor_id,
                vendor=quote.vendor.name, **more)


def submit(appointment_id: int, amount: Decimal, *, actor: str, config: Config) -> Quote:
    """The vendor holding the visit quotes amount: approved at once within the limit, else
    pending and the landlord asked by SMS; a pending quote of the ticket is replaced. The
    same amount again while pending or approved returns that quote, changing nothing.

    Raises BadAmount, NotHolder (not this vendor's active visit), LookupError.
    """
    amount = check_amount(amount)
    with transaction():
        visit, ticket = visits.locked(appointment_id)
        if visit is None:
            raise LookupError(f"appointment {appointment_id} not found")
        if (visit.status not in ACTIVE_APPOINTMENT_STATUSES
                or actor != f"vendor:{visit.vendor_id}"):
            raise NotHolder(f"{actor} does not hold appointment {appointment_id}")
        newest = NEWEST_OF_VENDOR.first(ticket=ticket, vendor=visit.vendor_id)
        if (newest is not None and newest.amount == amount
                and newest.status in ("pending", "approved")):
            return newest  # the same quote again (a repeated text or press)
        return _record(visit, ticket, amount, actor)


def _record(visit: Appointment, ticket: Ticket, amount: Decimal, actor: str) -> Quote:
    now, limit = clock.now(), limit_for(ticket)
    replaced = PENDING_OF.first(ticket=ticket)
    if replaced is not None:
        Quote.update(status="replaced", decided_at=now, decided_by=actor).where(
            Quote.id == replaced.id).execute()
        _close_question(ticket, "replaced")
    within = limit is None or amount <= limit
    quote = Quote.create(ticket=ticket, appointment=visit, vendor=visit.vendor_id, amount=amount,
                         approval_limit=limit, status="approved" if within else "pending",
                         submitted_at=now, decided_at=now if within else None,
                         decided_by="auto" if within else None)
    events.emit("quote.submitted", ticket=ticket, actor=actor, **_data(
        quote, limit=None if limit is None else _text(limit),
        replaces=replaced.id if replaced is not None else None))
    if within:
        events.emit("quote.approved", ticket=ticket, actor="system",
                    **_data(quote, auto=True, how="within the limit"))
        return quote
    landlord = ticket.landlord
    question = Question.create(kind="quote", ticket=ticket, appointment=visit,
                               phone=landlord.phone, role="landlord", person_id=landlord.id,
                               asked_at=now)
    outbound.queue(landlord=ticket.landlord_id, to=landlord.phone, ticket=ticket,
                   body=templates.quote_landlord(ticket, quote, visit.vendor),
                   recipient=("landlord", landlord.id), dedupe_key=f"question:{question.id}")
    return quote


def approve(quote_id: int, *, actor: str) -> str:
    """The landlord approves a pending quote; the vendor is told. 'approved', or 'already';
    raises QuoteClosed (replaced, or denied) or LookupError (no such quote of theirs)."""
    return _decide(quote_id, "approve", actor)


def deny(quote_id: int, *, actor: str) -> str:
    """The landlord denies a pending quote; the vendor is told. 'denied', or 'already';
    raises QuoteClosed (replaced, or approved) or LookupError (no such quote of theirs)."""
    return _decide(quote_id, "deny", actor)


def _decide(quote_id: int, decision: str, actor: str) -> str:
    status = DECIDED[decision]
    with transaction():
        quote, ticket = locked(quote_id)
        if quote is None or not _may_decide(actor, ticket):
            raise LookupError(f"quote {quote_id} not found")
        if quote.status == status:
            return "already"
        if quote.status != "pending" or DECIDE.execute(
                id=quote.id, status=status, at=clock.now(), by=actor) != 1:
            raise QuoteClosed(quote)
        quote.status = status
        event = events.emit(f"quote.{status}", ticket=ticket, actor=actor, **_data(
            quote, **({"auto": False, "how": "by the landlord"} if status == "approved" else {})))
        _close_question(ticket, status)
        visit = Appointment.find(quote.appointment_id) if quote.appointment_id else None
        phone = next(iter(quote.vendor.phones), None)
        if phone:
            code = visits.code_of(visit) if visit is not None else None
            outbound.queue(landlord=ticket.landlord_id, to=phone, ticket=ticket,
                           body=templates.quote_decided_vendor(
                               ticket, quote, code, status == "approved",
                               lang=quote.vendor.language),
                           recipient=("vendor", quote.vendor_id),
                           dedupe_key=f"event:{event.id}:vendor")
    return status


def _may_decide(actor: str, ticket: Ticket) -> bool:
    """Only the ticket's landlord decides its quotes (an API key's: the caller checked)."""
    return actor == "api" or actor == f"landlord:{ticket.landlord_id}"


def locked(quote_id: int) -> tuple[Quote | None, Ticket | None]:
    """A quote and its ticket, the ticket locked and the quote read after it."""
    ticket_id = TICKET_OF.scalar(id=quote_id)
    ticket = loop.lock(ticket_id) if ticket_id is not None else None
    quote = Quote.find(quote_id) if ticket is not None else None
    return (quote, ticket) if quote is not None else (None, None)


def waiting(landlord_id: int, limit: int = 20) -> list[Quote]:
    """A landlord's quotes waiting for their decision, oldest first, with ticket and vendor."""
    return list(Quote.select(Quote, Ticket, Property, Vendor)
                .join(Ticket).join(Property).switch(Quote).join(Vendor)
                .where(Ticket.landlord == landlord_id, Quote.status == "pending")
                .order_by(Quote.submitted_at, Quote.id).limit(limit))


def withdraw(ticket: Ticket, *, actor: str) -> None:
    """The job went from the vendor (handed back, a no-show, cancelled): a quote still waiting
    for the landlord is withdrawn and their question closed (in the caller's transaction)."""
    waiting = PENDING_OF.first(ticket=ticket)
    if waiting is not None:
        DECIDE.execute(id=waiting.id, status="withdrawn", at=clock.now(), by=actor)
        _close_question(ticket, "withdrawn")


def _close_question(ticket: Ticket, answer: str) -> None:
    """The landlord's open quote question about this ticket is answered (or overtaken)."""
    CLOSE_QUESTION.execute(ticket=ticket, at=clock.now(), answer=answer)


def of_ticket(ticket: Ticket | int) -> list[Quote]:
    """A ticket's quotes, oldest first (one query)."""
    return OF_TICKET.rows(ticket=ticket)


def newest(ticket: Ticket, vendor_id: int) -> Quote | None:
    """This vendor's newest quote for the ticket (the job page shows it)."""
    return NEWEST_OF_VENDOR.first(ticket=ticket, vendor=vendor_id)


def pending(ticket: Ticket | int) -> Quote | None:
    """The ticket's quote waiting for the landlord, if any (at most one)."""
    return PENDING_OF.first(ticket=ticket)


def asked_of(phone: str, landlord_ids: set[int]) -> Question | None:
    """The newest open quote question of the landlord(s) at this phone."""
    return next((question for question in NEWEST_QUESTION.rows(phone=phone)
                 if question.person_id in landlord_ids), None)
