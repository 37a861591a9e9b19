"""§11's SMS words through the signed webhook: a vendor's QUOTE; a landlord's APPROVE, DENY
(numbered or bare) and AGAIN from their own phone; the same words from a wrong phone, naming
another landlord's quote or ticket, and twice."""

from __future__ import annotations

from decimal import Decimal

import pytest

from app.booking import loop, quotes, visits
from app.messaging import replies, templates
from app.models import Appointment, Event, Message, Ping, Property, Question, Quote, Ticket
from tests.conftest import make_landlord
from tests.webhooks.conftest import pending, said, snapshot


@pytest.fixture
def acme(office):
    return office.vendors["Acme Plumbing"]


@pytest.fixture
def booked(ticket, acme, text) -> Appointment:
    """Acme took the plumbing emergency by YES; the property's limit is $250."""
    code = pending(ticket).code
    assert said(text(acme, f"YES {code}")).startswith(f"You have job {code}")
    Property.update(approval_limit=Decimal("250")).where(
        Property.id == ticket.property_id).execute()
    return Appointment.get(Appointment.ticket == ticket)


@pytest.fixture
def code(booked) -> str:
    return visits.code_of(booked)


@pytest.fixture
def asked(booked, acme, code, text) -> Quote:
    """Acme quoted $350 over the $250 limit: the landlord was asked."""
    assert "sent to the landlord for approval" in said(text(acme, f"QUOTE {code} 350"))
    return Quote.get(Quote.ticket == booked.ticket_id)


def landlord_phone(office) -> str:
    return office.landlord.phone


def decisions(quote: Quote) -> list[str]:
    return [e.type for e in Event.select().where(
        Event.type.in_(["quote.approved", "quote.denied"]),
        Event.ticket == quote.ticket_id).order_by(Event.id)
        if e.data["quoteId"] == quote.id]


def vendor_told(quote: Quote) -> list[str]:
    return [m.body for m in Message.select().where(
        Message.ticket == quote.ticket_id, Message.recipient_type == "vendor",
        Message.direction == "outbound", Message.status != "replied").order_by(Message.id)
        if "your quote" in m.body]


# -- the words --------------------------------------------------------------------------


@pytest.mark.parametrize("body, kind, code, text", [
    ("QUOTE K7Q2 350", "quote", "K7Q2", "350"),
    ("quote k7q2 350.50", "quote", "K7Q2", "350.50"),
    ("QUOTE 350", "quote", None, "350"),
    ("QUOTE 1200", "quote", None, "1200"),  # a lone number is the amount, not a job code
    ("Quote: K7Q2 $1,234.50", "quote", "K7Q2", "$1,234.50"),
    ("QUOTE K7Q2", "quote", "K7Q2", ""),
    ("APPROVE 12", "approve", "12", ""), ("approve #12", "approve", "12", ""),
    ("DENY 12", "deny", "12", ""), ("Approve", "approve", None, ""), ("deny.", "deny", None, ""),
    ("AGAIN 34", "again", "34", ""), ("again", "again", None, ""),
    ("APPROVE K7Q2", "unknown", None, ""), ("DENY 12 13", "unknown", None, ""),
])
def test_quote_and_landlord_words_are_read(body, kind, code, text):
    assert replies.parse(body) == replies.Reply(kind, code, text)


# -- QUOTE from the vendor -----------------------------------------------------------------


def test_a_quote_within_the_limit_is_approved_at_once(booked, acme, code, text, office):
    answer = said(text(acme, f"QUOTE {code} 249.50"))
    assert answer == f"Job {code}: your quote of $249.50 is approved at once. Go ahead."
    [quote] = Quote.select()
    assert (quote.amount, quote.status, quote.decided_by) == (Decimal("249.50"), "approved",
                                                              "auto")
    assert not Question.select().where(Question.role == "landlord").exists()


def test_a_quote_over_the_limit_goes_to_the_landlord(asked, acme, code, office):
    ticket = Ticket.get_by_id(asked.ticket_id)
    [to_landlord] = Message.select().where(Message.recipient_type == "landlord",
                                           Message.body.contains("quotes $"))
    assert to_landlord.to_number == landlord_phone(office)
    assert to_landlord.body == (
        f"Acme Plumbing quotes $350.00 for plumbing at {ticket.property.address} (limit "
        f"$250.00). Reply APPROVE {asked.id} or DENY {asked.id}.")
    assert asked.status == "pending"


def test_a_bare_quote_is_about_the_newest_visit_held(booked, acme, text):
    answer = said(text(acme, "QUOTE 120.5"))
    assert "your quote of $120.50 is approved at once" in answer
    assert Quote.get().appointment_id == booked.id


@pytest.mark.parametrize("body", ["QUOTE {code} lots", "QUOTE {code}", "QUOTE {code} 350,50",
                                  "QUOTE {code} 0", "QUOTE {code} 12.345", "QUOTE {code} -4"])
def test_an_unreadable_amount_is_answered_with_an_example(booked, acme, code, text, body):
    before = snapshot()
    answer = said(text(acme, body.format(code=code)))
    assert answer.endswith(f"Nothing changed: reply QUOTE {code} <amount>, for example "
                           f"QUOTE {code} 350.50.")
    after = snapshot()
    assert after["Quote"] == before["Quote"] == [] and after["Event"] == before["Event"]


def test_a_quote_from_a_vendor_not_holding_the_job_changes_nothing(booked, code, office, text):
    best = office.vendors["Best Pipes"]
    assert said(text(best, f"QUOTE {code} 100")) == templates.reply_quote_not_held(code)
    assert said(text(best, "QUOTE 100")) == templates.reply_quote_not_held(None)
    assert not Quote.select().exists()


def test_a_quote_from_a_tenant_or_landlord_gets_their_help(booked, code, office, text):
    assert said(text(office.tenant.phone, f"QUOTE {code} 100")) == templates.reply_help("tenant")
    assert said(text(landlord_phone(office), "QUOTE 100")) == templates.reply_help("landlord")
    assert not Quote.select().exists()


def test_the_same_quote_text_twice_is_one_quote(booked, acme, code, text):
    first = said(text(acme, f"QUOTE {code} 350", sid="SM" + "q" * 32))
    again = said(text(acme, f"QUOTE {code} 350", sid="SM" + "q" * 32))  # Twilio's retry
    other = said(text(acme, f"QUOTE {code} 350.00"))  # the vendor sends it again
    assert first == again
    assert "sent to the landlord" in first and "sent to the landlord" in other
    assert Quote.select().count() == 1
    assert Message.select().where(Message.body.contains("quotes $")).count() == 1


def test_a_newer_quote_replaces_the_pending_one(asked, acme, code, text, office):
    said(text(acme, f"QUOTE {code} 300"))
    newer = Quote.select().order_by(Quote.id.desc()).get()
    assert (Quote.get_by_id(asked.id).status, newer.status) == ("replaced", "pending")
    answer = said(text(landlord_phone(office), f"APPROVE {asked.id}"))
    assert answer == (f"Quote {asked.id} was replaced by a newer quote, so nothing changed. "
                      f"The newer one is $300.00: reply APPROVE {newer.id} or DENY {newer.id}.")
    assert "Approved" in said(text(landlord_phone(office), "APPROVE"))  # the newest question
    assert Quote.get_by_id(newer.id).status == "approved"


# -- APPROVE and DENY from the landlord ------------------------------------------------------


@pytest.mark.parametrize("word, status", [("APPROVE", "approved"), ("DENY", "denied")])
def test_the_landlord_decides_by_number_and_the_vendor_is_told(asked, office, text, code, word,
                                                               status):
    answer = said(text(landlord_phone(office), f"{word} {asked.id}"))
    assert answer == (f"{status.capitalize()}: Acme Plumbing's quote {asked.id} of $350.00 for "
                      f"plumbing at {office.property.address}. We told Acme Plumbing.")
    assert Quote.get_by_id(asked.id).status == status
    [told] = vendor_told(asked)
    verb = "approved" if status == "approved" else "denied"
    assert told.startswith(f"Fixline job {code}: the landlord {verb} your quote of $350.00")
    assert not Question.select().where(Question.role == "landlord",
                                       Question.closed_at.is_null()).exists()


@pytest.mark.parametrize("word, status", [("approve", "approved"), ("Deny", "denied")])
def test_a_bare_word_answers_the_newest_open_question(asked, office, text, word, status):
    assert said(text(landlord_phone(office), word)).startswith(status.capitalize())
    assert Quote.get_by_id(asked.id).status == status
    assert said(text(landlord_phone(office), word)) == templates.reply_no_quote(None)
    assert decisions(asked) == [f"quote.{status}"]


def test_a_bare_word_picks_the_newest_of_two_tickets(asked, office, text, open_job, config):
    second = open_job()
    ping = pending(second)
    assert loop.accept(ping.id, "sms", config) == "booked"
    visit = Appointment.get(Appointment.ticket == second)
    newer = quotes.submit(visit.id, Decimal("999"), actor=f"vendor:{visit.vendor_id}",
                          config=config)
    answer = said(text(landlord_phone(office), "DENY"))
    assert answer.startswith("Denied: ") and f"'s quote {newer.id} of $999.00" in answer
    assert (Quote.get_by_id(asked.id).status, Quote.get_by_id(newer.id).status) == (
        "pending", "denied")


@pytest.mark.parametrize("word", ["APPROVE", "DENY"])
def test_twice_is_one_decision_and_a_truthful_answer(asked, office, text, word):
    said(text(landlord_phone(office), f"{word} {asked.id}"))
    status = Quote.get_by_id(asked.id).status
    again = said(text(landlord_phone(office), f"{word} {asked.id}"))
    assert again == f"Quote {asked.id} is already {status}; nothing changed."
    assert len(decisions(asked)) == 1 and len(vendor_told(asked)) == 1


@pytest.mark.parametrize("first, then", [("APPROVE", "DENY"), ("DENY", "APPROVE")])
def test_the_other_word_after_a_decision_changes_nothing(asked, office, text, first, then):
    said(text(landlord_phone(office), f"{first} {asked.id}"))
    status = Quote.get_by_id(asked.id).status
    answer = said(text(landlord_phone(office), f"{then} {asked.id}"))
    assert answer == f"Quote {asked.id} was already {status}, so nothing changed."
    assert Quote.get_by_id(asked.id).status == status and len(decisions(asked)) == 1


def test_from_any_other_phone_nothing_changes_and_nothing_is_revealed(asked, office, text):
    other = make_landlord("Otto Other", "otto@example.com", "+15550002000")
    strangers = [other.phone, office.tenant.phone, office.vendors["Acme Plumbing"].phones[0],
                 "+15559990000"]
    before = snapshot()["Quote"]
    for number in strangers:
        for body in (f"APPROVE {asked.id}", f"DENY {asked.id}"):
            assert said(text(number, body)) == (
                f"Fixline has no quote {asked.id} waiting for you, so nothing changed.")
        assert said(text(number, "APPROVE")) == templates.reply_no_quote(None)
    # a quote that does not exist at all is answered with the very same words
    assert said(text(other.phone, "DENY 987654")) == templates.reply_no_quote("987654")
    assert snapshot()["Quote"] == before
    assert decisions(asked) == [] and vendor_told(asked) == []
    inbound = Message.select().where(Message.direction == "inbound",
                                     Message.from_number == other.phone)
    assert all(m.ticket_id is None for m in inbound)  # not filed under the other's ticket


def test_a_landlord_cannot_decide_another_landlords_quote(asked, office, text):
    other = make_landlord("Otto Other", "otto@example.com", "+15550002000")
    mine = Quote.get_by_id(asked.id)
    assert said(text(other.phone, f"APPROVE {mine.id}")) == templates.reply_no_quote(str(mine.id))
    assert Quote.get_by_id(asked.id).status == "pending"


def test_a_huge_number_is_no_quote(asked, office, text):
    assert said(text(landlord_phone(office), "APPROVE 99999999999999999999999")) == (
        templates.reply_no_quote("99999999999999999999999"))


# -- AGAIN ----------------------------------------------------------------------------------


@pytest.fixture
def everyone_declined(ticket, config) -> Ticket:
    """Every plumber said NO to the emergency: it escalated, nobody left to ask."""
    while (ping := pending(ticket)) is not None:
        loop.decline(ping.id, config)
    ticket = Ticket.get_by_id(ticket.id)
    assert ticket.status == "escalated"
    return ticket


def test_the_escalation_sms_offers_again(everyone_declined):
    sms = Message.select().where(Message.ticket == everyone_declined,
                                 Message.body.startswith("Fixline needs you")).get()
    assert sms.body.endswith(f"Reply AGAIN {everyone_declined.id} to ask every vendor again.")


def test_again_asks_every_vendor_again_once(everyone_declined, office, text):
    asked_before = Ping.select().where(Ping.ticket == everyone_declined).count()
    answer = said(text(landlord_phone(office), f"AGAIN {everyone_declined.id}"))
    assert answer == (f"OK: we are asking Acme Plumbing about ticket {everyone_declined.id}, the "
                      f"plumbing job at {office.property.address}, and will text you when a "
                      "vendor takes it.")
    assert pending(everyone_declined).vendor_id == office.vendors["Acme Plumbing"].id
    twice = said(text(landlord_phone(office), f"again {everyone_declined.id}"))
    assert twice == (f"Nothing changed for ticket {everyone_declined.id}: Acme Plumbing still "
                     "holds the offer; wait for their answer or for it to time out.")
    assert Ping.select().where(Ping.ticket == everyone_declined).count() == asked_before + 1
    assert Event.select().where(Event.ticket == everyone_declined,
                                Event.type == "ticket.acknowledged").count() == 1


def test_when_asking_again_books_nobody_the_landlord_is_told(everyone_declined, office, text,
                                                            config):
    said(text(landlord_phone(office), f"AGAIN {everyone_declined.id}"))
    while (ping := pending(everyone_declined)) is not None:
        loop.decline(ping.id, config)
    update = Message.select().where(Message.ticket == everyone_declined,
                                    Message.body.startswith("Fixline update")).get()
    assert update.to_number == landlord_phone(office)
    assert f"job at {office.property.address} is not booked (no vendor left to ask" in update.body
    assert update.body.endswith(f"Reply AGAIN {everyone_declined.id} to ask every vendor again.")
    [ended] = Event.select().where(Event.ticket == everyone_declined,
                                   Event.type == "dispatch.exhausted")
    assert ended.data["reason"] == loop.NOBODY_LEFT
    assert Ticket.get_by_id(everyone_declined.id).status == "escalated"


def test_a_bare_again_is_about_the_newest_escalated_ticket(everyone_declined, office, text):
    assert said(text(landlord_phone(office), "AGAIN")).startswith("OK: we are asking Acme")
    assert pending(everyone_declined) is not None


def test_again_on_a_booked_ticket_or_one_nobody_fits_says_why(booked, office, text, open_job):
    ticket_id = booked.ticket_id
    assert said(text(landlord_phone(office), f"AGAIN {ticket_id}")) == (
        f"Nothing changed for ticket {ticket_id}: a vendor is booked for it.")
    pest = open_job(category="pest")
    nobody = said(text(landlord_phone(office), f"AGAIN {pest.id}"))
    assert nobody.startswith(f"Nothing changed for ticket {pest.id}: no vendor can take this "
                             "job (") and nobody.endswith(" do not do pest).")
    assert Ticket.get_by_id(ticket_id).status == "scheduled"
    assert not Ping.select().where(Ping.ticket == pest).exists()


def test_again_from_another_phone_changes_nothing(everyone_declined, office, text):
    other = make_landlord("Otto Other", "otto@example.com", "+15550002000")
    before = snapshot()
    for number in (other.phone, office.tenant.phone, office.vendors["Acme Plumbing"].phones[0],
                   "+15559990000"):
        assert said(text(number, f"AGAIN {everyone_declined.id}")) == (
            templates.reply_no_ticket(str(everyone_declined.id)))
    assert said(text(other.phone, "AGAIN 424242")) == templates.reply_no_ticket("424242")
    assert said(text(other.phone, "AGAIN")) == templates.reply_no_ticket(None)
    after = snapshot()
    for table in ("Ping", "Ticket", "Event", "Quote"):
        assert after[table] == before[table]


@pytest.mark.parametrize("body", ["YES", "NO", "4", "hello"])
def test_a_landlords_open_quote_question_is_no_tenant_question(asked, office, text, body):
    """Only APPROVE and DENY answer it: any other word gets the landlord's help."""
    assert said(text(landlord_phone(office), body)) == templates.reply_help("landlord")
    assert Quote.get_by_id(asked.id).status == "pending"
