"""Quotes and approvals (CONTRACT.md §11) in the engine: the limits (and an emergency's own),
approval at once, the landlord's question, replacement, approve and deny each safe twice, and
amounts kept exact."""

from __future__ import annotations

from decimal import Decimal

import pytest

from app.booking import closing, loop, quotes, visits
from app.messaging import templates
from app.models import Event, Property, Question, Quote, Ticket
from tests.engine.conftest import events_of, messages_to, pending

D = Decimal


@pytest.fixture
def ann(make_vendor):
    return make_vendor("Ann Plumbing")


def booked_visit(intake, bus, config, severity: str = "routine"):
    """A plumbing job Ann took by YES: her active visit."""
    ticket = intake(severity=severity, window="today 2-5pm")
    bus.run_events()
    assert loop.accept(pending(ticket).id, "sms", config) == "booked"
    bus.run_events()
    return ticket.appointments.get()


@pytest.fixture
def visit(ann, intake, bus, config):
    return booked_visit(intake, bus, config)


def set_limits(ticket_or_visit, limit=None, emergency=None) -> None:
    ticket = Ticket.get_by_id(getattr(ticket_or_visit, "ticket_id", ticket_or_visit))
    Property.update(approval_limit=limit, emergency_approval_limit=emergency).where(
        Property.id == ticket.property_id).execute()


def quote(visit, amount, config, actor=None) -> Quote:
    return quotes.submit(visit.id, D(amount), actor=actor or f"vendor:{visit.vendor_id}",
                         config=config)


def landlord_texts(ticket_id: int) -> list[str]:
    return [m.body for m in messages_to("landlord", Ticket.get_by_id(ticket_id))
            if "quotes $" in m.body]


def open_landlord_questions(ticket_id: int) -> list[Question]:
    return list(Question.select().where(Question.ticket == ticket_id, Question.role == "landlord",
                                        Question.closed_at.is_null()))


# -- money ------------------------------------------------------------------------------------


@pytest.mark.parametrize("amount, shown", [
    (D("350"), "$350.00"), (D("350.5"), "$350.50"), (D("1234.5"), "$1,234.50"),
    (D("0.01"), "$0.01"), (D("1000000000"), "$1,000,000,000.00"), (D("0.10"), "$0.10"),
])
def test_money_is_shown_with_cents_and_thousands(amount, shown):
    assert templates.money(amount) == shown


@pytest.mark.parametrize("typed, amount", [
    ("350", D("350.00")), ("350.50", D("350.50")), ("$1,234.5", D("1234.50")),
    ("0.1", D("0.10")), (" 99.99 ", D("99.99")), ("1000000000", D("1000000000.00")),
    ("$75", D("75.00")), ("1234", D("1234.00")),
])
def test_amounts_are_read_exactly(typed, amount):
    read = quotes.read_amount(typed)
    assert read == amount and isinstance(read, Decimal)
    assert str(read) == str(amount)


@pytest.mark.parametrize("typed, problem", [
    ("", quotes.UNREADABLE), ("abc", quotes.UNREADABLE), ("350,50", quotes.UNREADABLE),
    ("1e3", quotes.UNREADABLE), ("-5", quotes.UNREADABLE), ("$", quotes.UNREADABLE),
    ("0", "more than $0.00"), ("0.00", "more than $0.00"), ("350.505", "two decimals"),
    ("1000000000.01", "at most $1,000,000,000.00"), ("99999999999999999999", "at most"),
    ("NaN", quotes.UNREADABLE), ("Infinity", quotes.UNREADABLE),
])
def test_unreadable_or_impossible_amounts_are_refused(typed, problem):
    with pytest.raises(quotes.BadAmount, match=problem.replace("$", r"\$")):
        quotes.read_amount(typed)


def test_a_float_is_never_an_amount(visit, config):
    with pytest.raises(TypeError):
        quotes.submit(visit.id, 350.5, actor=f"vendor:{visit.vendor_id}", config=config)
    assert Quote.select().count() == 0


def test_amounts_stay_exact_through_the_database(visit, config):
    """0.1 + 0.2 is exactly 0.3 in a Decimal; a float would have said 0.30000000000000004."""
    made = quote(visit, "0.30", config)
    stored = Quote.get_by_id(made.id)
    assert stored.amount == D("0.1") + D("0.2") and isinstance(stored.amount, Decimal)
    assert events_of(None, "quote.submitted")[0].data["amount"] == "0.30"


# -- the limits --------------------------------------------------------------------------------


def test_without_a_limit_a_quote_is_approved_at_once(visit, config):
    made = quote(visit, "5000", config)
    assert (made.status, made.decided_by, made.approval_limit) == ("approved", "auto", None)
    [submitted] = events_of(None, "quote.submitted")
    assert submitted.data == {"quoteId": made.id, "amount": "5000.00", "vendorId": visit.vendor_id,
                              "vendor": "Ann Plumbing", "limit": None, "replaces": None}
    [approved] = events_of(None, "quote.approved")
    assert approved.data["auto"] is True and approved.data["quoteId"] == made.id
    assert landlord_texts(visit.ticket_id) == [] and open_landlord_questions(visit.ticket_id) == []


@pytest.mark.parametrize("amount, status", [("249.99", "approved"), ("250", "approved"),
                                            ("250.01", "pending")])
def test_at_or_under_the_limit_is_approved_over_it_asked(visit, config, amount, status):
    set_limits(visit, limit=D("250.00"))
    made = quote(visit, amount, config)
    assert made.status == status and made.approval_limit == D("250.00")
    asked = landlord_texts(visit.ticket_id)
    assert len(asked) == (status == "pending")
    assert len(events_of(None, "quote.approved")) == (status == "approved")


def test_over_the_limit_the_landlord_gets_the_contract_sms_and_a_question(visit, config):
    set_limits(visit, limit=D("250"))
    made = quote(visit, "1350", config)
    ticket = Ticket.get_by_id(visit.ticket_id)
    assert landlord_texts(ticket.id) == [
        f"Ann Plumbing quotes $1,350.00 for plumbing at {ticket.property.address} "
        f"(limit $250.00). Reply APPROVE {made.id} or DENY {made.id}."]
    [question] = open_landlord_questions(ticket.id)
    assert (question.kind, question.role, question.phone, question.person_id) == (
        "quote", "landlord", ticket.landlord.phone, ticket.landlord_id)
    assert quotes.asked_of(ticket.landlord.phone, {ticket.landlord_id}).id == question.id


def test_an_emergency_uses_the_emergency_limit_when_set(ann, intake, bus, config):
    emergency = booked_visit(intake, bus, config, severity="emergency")
    set_limits(emergency, limit=D("100"), emergency=D("500"))
    assert quote(emergency, "400", config).status == "approved"
    assert quote(emergency, "600", config).status == "pending"
    assert "(limit $500.00)" in landlord_texts(emergency.ticket_id)[0]


def test_an_emergency_without_its_own_limit_uses_the_approval_limit(ann, intake, bus, config):
    emergency = booked_visit(intake, bus, config, severity="emergency")
    set_limits(emergency, limit=D("100"))
    assert quote(emergency, "150", config).status == "pending"


def test_a_routine_job_ignores_the_emergency_limit(visit, config):
    set_limits(visit, limit=D("100"), emergency=D("500"))
    assert quote(visit, "150", config).status == "pending"


# -- who may quote -------------------------------------------------------------------------------


def test_only_the_vendor_holding_the_visit_may_quote(visit, make_vendor, config):
    other = make_vendor("Bob Pipes")
    with pytest.raises(quotes.NotHolder):
        quote(visit, "100", config, actor=f"vendor:{other.id}")
    with pytest.raises(quotes.NotHolder):
        quote(visit, "100", config, actor="api")
    visits.hand_back(visit.id, actor=f"vendor:{visit.vendor_id}", config=config)
    with pytest.raises(quotes.NotHolder):
        quote(visit, "100", config)
    with pytest.raises(LookupError):
        quotes.submit(10**9, D("1"), actor="vendor:1", config=config)
    assert Quote.select().count() == 0


def test_a_closed_ticket_takes_no_quote(visit, config):
    closing.complete(Ticket.get_by_id(visit.ticket_id), actor="test")
    with pytest.raises(quotes.NotHolder):
        quote(visit, "100", config)


# -- replacement and repeats -------------------------------------------------------------------


def test_a_newer_quote_replaces_a_pending_one(visit, config):
    set_limits(visit, limit=D("100"))
    first = quote(visit, "300", config)
    second = quote(visit, "280", config)
    assert Quote.get_by_id(first.id).status == "replaced"
    assert second.status == "pending"
    [question] = open_landlord_questions(visit.ticket_id)
    assert question.asked_at >= Quote.get_by_id(first.id).decided_at
    assert events_of(None, "quote.submitted")[1].data["replaces"] == first.id
    with pytest.raises(quotes.QuoteClosed) as refused:
        quotes.approve(first.id, actor=f"landlord:{visit.ticket.landlord_id}")
    assert refused.value.status == "replaced"
    third = quote(visit, "90", config)  # within the limit: approved, and the pending one goes
    assert (Quote.get_by_id(second.id).status, third.status) == ("replaced", "approved")
    assert open_landlord_questions(visit.ticket_id) == []


def test_an_approved_quote_is_not_replaced(visit, config):
    first = quote(visit, "300", config)
    set_limits(visit, limit=D("100"))
    second = quote(visit, "500", config)
    assert (Quote.get_by_id(first.id).status, second.status) == ("approved", "pending")


def test_the_same_quote_twice_is_recorded_once(visit, config):
    set_limits(visit, limit=D("100"))
    first = quote(visit, "300", config)
    again = quote(visit, "300.00", config)
    assert again.id == first.id and Quote.select().count() == 1
    assert len(landlord_texts(visit.ticket_id)) == 1
    assert len(events_of(None, "quote.submitted")) == 1


def test_the_same_amount_after_a_denial_asks_again(visit, config):
    set_limits(visit, limit=D("100"))
    first = quote(visit, "300", config)
    assert quotes.deny(first.id, actor="api") == "denied"
    again = quote(visit, "300", config)
    assert again.id != first.id and again.status == "pending"


# -- approve and deny --------------------------------------------------------------------------


@pytest.fixture
def asked(visit, config) -> Quote:
    """Ann quoted $1,234.50 over the $250 limit: pending, the landlord asked."""
    set_limits(visit, limit=D("250"))
    return quote(visit, "1234.50", config)


def landlord(quote_row: Quote) -> str:
    return f"landlord:{Ticket.get_by_id(quote_row.ticket_id).landlord_id}"


def vendor_texts(ticket_id: int) -> list[str]:
    return [m.body for m in messages_to("vendor", Ticket.get_by_id(ticket_id))
            if "your quote" in m.body]


def test_approve_tells_the_vendor_once_and_closes_the_question(asked, config):
    assert quotes.approve(asked.id, actor=landlord(asked)) == "approved"
    assert quotes.approve(asked.id, actor=landlord(asked)) == "already"
    stored = Quote.get_by_id(asked.id)
    assert (stored.status, stored.decided_by) == ("approved", landlord(asked))
    assert stored.decided_at is not None
    [approved] = events_of(None, "quote.approved")
    assert approved.data["auto"] is False and approved.actor == landlord(asked)
    assert approved.data["amount"] == "1234.50"  # read back from the database: still 2 places
    code = visits.code_of(asked.appointment)
    [told] = vendor_texts(asked.ticket_id)
    assert told.startswith(f"Fixline job {code}: the landlord approved your quote of $1,234.50")
    assert open_landlord_questions(asked.ticket_id) == []
    assert Question.get(Question.kind == "quote").answer == "approved"


def test_deny_tells_the_vendor_once(asked, config):
    assert quotes.deny(asked.id, actor=landlord(asked)) == "denied"
    assert quotes.deny(asked.id, actor=landlord(asked)) == "already"
    assert Quote.get_by_id(asked.id).status == "denied"
    assert len(events_of(None, "quote.denied")) == 1
    [told] = vendor_texts(asked.ticket_id)
    assert "the landlord denied your quote of $1,234.50" in told
    assert open_landlord_questions(asked.ticket_id) == []


@pytest.mark.parametrize("first, then", [(quotes.approve, quotes.deny),
                                         (quotes.deny, quotes.approve)])
def test_a_quote_decided_one_way_cannot_be_decided_the_other(asked, first, then):
    first(asked.id, actor="api")
    with pytest.raises(quotes.QuoteClosed):
        then(asked.id, actor="api")
    assert Event.select().where(Event.type.in_(["quote.approved", "quote.denied"])).count() == 1
    assert len(vendor_texts(asked.ticket_id)) == 1


def test_another_landlord_or_a_vendor_cannot_decide(asked, other_landlord):
    for actor in (f"landlord:{other_landlord.id}", f"vendor:{asked.vendor_id}", "system"):
        with pytest.raises(LookupError):
            quotes.approve(asked.id, actor=actor)
    with pytest.raises(LookupError):
        quotes.deny(10**9, actor="api")
    assert Quote.get_by_id(asked.id).status == "pending"


def test_the_timeline_shows_quotes_as_money(asked, config):
    from app import events

    quotes.approve(asked.id, actor="api")
    [submitted] = events_of(None, "quote.submitted")
    [approved] = events_of(None, "quote.approved")
    assert events.summarize(submitted) == "Ann Plumbing quoted $1,234.50"
    assert events.summarize(approved) == "Quote of $1,234.50 from Ann Plumbing approved (by the " \
                                         "landlord)"


def test_a_waiting_quote_is_withdrawn_when_the_vendor_hands_the_job_back(bus, config, asked):
    """The landlord is no longer asked about a job its vendor gave up."""
    visits.hand_back(asked.appointment_id, actor=f"vendor:{asked.vendor_id}", config=config)
    assert Quote.get_by_id(asked.id).status == "withdrawn"
    assert open_landlord_questions(asked.ticket_id) == []


def test_a_waiting_quote_is_withdrawn_when_the_ticket_is_cancelled(bus, config, asked):
    closing.cancel(Ticket.get_by_id(asked.ticket_id), actor="landlord:1")
    assert Quote.get_by_id(asked.id).status == "withdrawn"
    assert open_landlord_questions(asked.ticket_id) == []
