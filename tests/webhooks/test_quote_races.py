"""§11's SMS words racing each other on real threads and connections (SQLite and PostgreSQL):
APPROVE and DENY of one quote, two QUOTEs of one job, a new QUOTE and APPROVE of the old one,
two AGAINs, AGAIN and a late YES. One consistent end state, and every answer tells the truth."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

from app.booking import closing, loop, quotes, selection, visits
from app.models import (
    Appointment,
    Event,
    Message,
    Ping,
    Property,
    Question,
    Quote,
    Ticket,
)
from tests.webhooks import test_races
from tests.webhooks.conftest import pending, said
from tests.webhooks.test_races import ROUNDS, sms

racer = test_races.racer  # the fixture, requested by name below


def asked_quote(open_job, config) -> Quote:
    """A new plumbing job booked by its first vendor, who quotes $350 over the $250 limit."""
    ticket = open_job()
    assert loop.accept(pending(ticket).id, "sms", config) == "booked"
    visit = Appointment.get(Appointment.ticket == ticket)
    quote = quotes.submit(visit.id, Decimal("350"), actor=f"vendor:{visit.vendor_id}",
                          config=config)
    assert quote.status == "pending"
    return quote


def judge(quote: Quote, responses) -> tuple[str | None, list]:
    """(which decision won, what is wrong) after APPROVE and DENY raced on one quote."""
    if any(r.status_code != 200 for r in responses):
        return None, [(r.status_code, r.data[:300]) for r in responses]
    approve_said, deny_said = (said(r) for r in responses)
    status = Quote.get_by_id(quote.id).status
    decided = [e.type for e in Event.select().where(
        Event.ticket == quote.ticket_id, Event.type.in_(["quote.approved", "quote.denied"]))]
    told = Message.select().where(Message.ticket == quote.ticket_id,
                                  Message.recipient_type == "vendor",
                                  Message.body.contains("your quote")).count()
    lost = f"Quote {quote.id} was already {status}, so nothing changed."
    if status == "approved":
        ok = approve_said.startswith("Approved: ") and deny_said == lost
    elif status == "denied":
        ok = deny_said.startswith("Denied: ") and approve_said == lost
    else:
        return None, ["neither decided", status, approve_said, deny_said]
    if not ok or decided != [f"quote.{status}"] or told != 1:
        return status, [status, decided, told, approve_said, deny_said]
    return status, []


def test_approve_and_deny_of_one_quote_at_the_same_instant(office, open_job, config, racer):
    Property.update(approval_limit=Decimal("250")).where(
        Property.id == office.property.id).execute()
    race = racer(2)
    phone = office.landlord.phone
    problems, winners = [], Counter()
    for round_no in range(ROUNDS):
        quote = asked_quote(open_job, config)
        bare = round_no % 4 == 3  # now and then the bare words (the newest open question)
        number = "" if bare else f" {quote.id}"
        responses = race.race([sms(phone, f"APPROVE{number}"), sms(phone, f"DENY{number}")])
        if bare:  # the loser finds no open question: it must say so, and change nothing
            _bare(quote, responses, problems, round_no, winners)
        else:
            winner, problem = judge(quote, responses)
            winners[winner] += 1
            if problem:
                problems.append((round_no, problem))
        closing.complete(Ticket.get_by_id(quote.ticket_id), actor="test")  # frees the vendor
    print(f"\n{config.database_url.split(':')[0]}: {ROUNDS} rounds of APPROVE and DENY at once "
          f"({race.overlapped} fully overlapping), winners {dict(winners)}")
    assert problems == []
    assert sum(winners.values()) == ROUNDS and None not in winners


def _bare(quote: Quote, responses, problems: list, round_no: int, winners: Counter) -> None:
    """Judge a race of bare APPROVE and DENY: one decides, the other finds nothing open."""
    answers = [said(r) for r in responses]
    status = Quote.get_by_id(quote.id).status
    decided = Event.select().where(Event.ticket == quote.ticket_id,
                                   Event.type.in_(["quote.approved", "quote.denied"])).count()
    won = [a for a in answers if a.startswith(("Approved: ", "Denied: "))]
    nothing = [a for a in answers if a == "Fixline has no quote waiting for your approval, so "
                                          "nothing changed."]
    winners[status if status in ("approved", "denied") else None] += 1
    if decided != 1 or len(won) != 1 or len(nothing) != 1 or (
            won[0].split(":")[0].lower() != status):
        problems.append((round_no, status, decided, answers))


# -- QUOTE racing QUOTE, QUOTE racing APPROVE, AGAIN racing AGAIN or a late YES --------------


def holder_phone(quote_or_visit) -> str:
    return Appointment.get_by_id(quote_or_visit.appointment_id
                                 if isinstance(quote_or_visit, Quote)
                                 else quote_or_visit.id).vendor.phones[0]


def booked_visit(open_job, config) -> Appointment:
    """A new plumbing job booked by its first vendor, who has not quoted yet."""
    ticket = open_job()
    assert loop.accept(pending(ticket).id, "sms", config) == "booked"
    return Appointment.get(Appointment.ticket == ticket)


def landlord_asked(ticket_id: int) -> int:
    """How many quote SMS the landlord was sent about this ticket."""
    return Message.select().where(Message.ticket == ticket_id,
                                  Message.recipient_type == "landlord",
                                  Message.direction == "outbound",
                                  Message.body.contains(" quotes $")).count()


def vendor_told(ticket_id: int) -> int:
    """How many decisions the vendor was texted about (not the answers to their own words)."""
    return Message.select().where(Message.ticket == ticket_id,
                                  Message.recipient_type == "vendor",
                                  Message.direction == "outbound",
                                  Message.status != "replied",
                                  Message.body.contains("your quote")).count()


def sent_for_approval(code: str | None, amount: str) -> str:
    where = f"Job {code}" if code else "Your job"
    return (f"{where}: your quote of ${amount} was sent to the landlord for approval. We will "
            "text you their answer.")


def test_two_quotes_of_one_job_at_the_same_instant(office, open_job, config, racer):
    """The holder texts QUOTE 300 and QUOTE 400 at once (both over the $250 limit): the later
    one replaces the earlier, the landlord is asked about each, both answers are true."""
    Property.update(approval_limit=Decimal("250")).where(
        Property.id == office.property.id).execute()
    race = racer(2)
    problems, newest = [], Counter()
    for round_no in range(ROUNDS):
        visit = booked_visit(open_job, config)
        code = visits.code_of(visit)
        phone = holder_phone(visit)
        bare = round_no % 4 == 3  # now and then without the code: the visit they hold
        named = "" if bare else f" {code}"
        amounts = ("300.00", "400.00")
        responses = race.race([sms(phone, f"QUOTE{named} 300"), sms(phone, f"QUOTE{named} 400")])
        if any(r.status_code != 200 for r in responses):
            problems.append((round_no, [(r.status_code, r.data[:300]) for r in responses]))
            continue
        answers = [said(r) for r in responses]
        made = list(Quote.select().where(Quote.ticket == visit.ticket_id).order_by(Quote.id))
        statuses = [q.status for q in made]
        submitted = [e.data for e in Event.select().where(
            Event.ticket == visit.ticket_id, Event.type == "quote.submitted").order_by(Event.id)]
        questions = list(Question.select().where(Question.ticket == visit.ticket_id,
                                                 Question.kind == "quote").order_by(Question.id))
        expected_answers = [sent_for_approval(code, a) for a in amounts]  # bare: still named
        if (statuses != ["replaced", "pending"]
                or answers != expected_answers
                or landlord_asked(visit.ticket_id) != 2
                or [d["replaces"] for d in submitted] != [None, made[0].id]
                or [q.answer for q in questions] != ["replaced", None]
                or quotes.pending(visit.ticket_id).id != made[1].id
                or Event.select().where(Event.ticket == visit.ticket_id,
                                        Event.type.in_(["quote.approved", "quote.denied"])
                                        ).exists()):
            problems.append((round_no, statuses, answers, submitted,
                             [q.answer for q in questions], landlord_asked(visit.ticket_id)))
        else:
            newest[f"{made[1].amount:.2f}"] += 1
        closing.complete(Ticket.get_by_id(visit.ticket_id), actor="test")  # frees the vendor
    print(f"\n{config.database_url.split(':')[0]}: {ROUNDS} rounds of two QUOTEs at once "
          f"({race.overlapped} fully overlapping), the pending one's amount {dict(newest)}")
    assert problems == []
    assert sum(newest.values()) == ROUNDS


def test_a_new_quote_and_approve_of_the_old_one_at_the_same_instant(office, open_job, config,
                                                                    racer):
    """$350 waits for the landlord; the vendor quotes $300 as the landlord approves $350 (by
    number, or now and then bare): either the old one is approved and the new one waits, or
    the old one was replaced and the APPROVE says so (a bare APPROVE then approves the newest
    it was asked about); every answer names what really happened."""
    Property.update(approval_limit=Decimal("250")).where(
        Property.id == office.property.id).execute()
    race = racer(2)
    landlord = office.landlord.phone
    problems, outcomes = [], Counter()
    for round_no in range(ROUNDS):
        old = asked_quote(open_job, config)
        visit = Appointment.get_by_id(old.appointment_id)
        code = visits.code_of(visit)
        bare = round_no % 4 == 3
        responses = race.race([sms(holder_phone(visit), f"QUOTE {code} 300"),
                               sms(landlord, "APPROVE" if bare else f"APPROVE {old.id}")])
        if any(r.status_code != 200 for r in responses):
            problems.append((round_no, [(r.status_code, r.data[:300]) for r in responses]))
            continue
        quote_said, approve_said = (said(r) for r in responses)
        old = Quote.get_by_id(old.id)
        new = Quote.get(Quote.ticket == old.ticket_id, Quote.id > old.id)
        approved = [e.data["quoteId"] for e in Event.select().where(
            Event.ticket == old.ticket_id, Event.type == "quote.approved")]
        whose = visit.vendor.name
        address = office.property.address
        outcome, ok = (old.status, new.status), False
        if outcome == ("approved", "pending"):  # APPROVE first, then the new quote
            ok = (approve_said == f"Approved: {whose}'s quote {old.id} of $350.00 for plumbing "
                                  f"at {address}. We told {whose}."
                  and quote_said == sent_for_approval(code, "300.00")
                  and approved == [old.id] and vendor_told(old.ticket_id) == 1)
        elif outcome == ("replaced", "pending") and not bare:  # QUOTE first, APPROVE told
            ok = (approve_said == f"Quote {old.id} was replaced by a newer quote, so nothing "
                                  f"changed. The newer one is $300.00: reply APPROVE {new.id} "
                                  f"or DENY {new.id}."
                  and quote_said == sent_for_approval(code, "300.00")
                  and approved == [] and vendor_told(old.ticket_id) == 0)
        elif outcome == ("replaced", "approved") and bare:  # the newest question: the new one
            ok = (approve_said == f"Approved: {whose}'s quote {new.id} of $300.00 for plumbing "
                                  f"at {address}. We told {whose}."
                  and quote_said == sent_for_approval(code, "300.00")
                  and approved == [new.id] and vendor_told(old.ticket_id) == 1)
        if not ok or landlord_asked(old.ticket_id) != 2:
            problems.append((round_no, bare, outcome, quote_said, approve_said, approved,
                             vendor_told(old.ticket_id), landlord_asked(old.ticket_id)))
        else:
            outcomes[(bare, *outcome)] += 1
        closing.complete(Ticket.get_by_id(old.ticket_id), actor="test")  # frees the vendor
    print(f"\n{config.database_url.split(':')[0]}: {ROUNDS} rounds of QUOTE and APPROVE at once "
          f"({race.overlapped} fully overlapping), (bare, old, new): {dict(outcomes)}")
    assert problems == []
    assert sum(outcomes.values()) == ROUNDS


def everyone_declined(open_job, config) -> Ticket:
    """A plumbing emergency every plumber said NO to: escalated, nobody left to ask."""
    ticket = open_job()
    while (ping := pending(ticket)) is not None:
        loop.decline(ping.id, config)
    ticket = Ticket.get_by_id(ticket.id)
    assert ticket.status == "escalated"
    return ticket


def test_two_agains_of_one_ticket_at_the_same_instant(office, open_job, config, racer):
    """The landlord's AGAIN arrives twice at once (two taps, two phones' worth): one new
    offer, one "OK: we are asking", one "Nothing changed" naming who holds the offer."""
    race = racer(2)
    phone = office.landlord.phone
    acme = office.vendors["Acme Plumbing"]
    problems = []
    for round_no in range(ROUNDS):
        ticket = everyone_declined(open_job, config)
        before = Ping.select().where(Ping.ticket == ticket).count()
        bare = round_no % 4 == 3  # the newest escalated ticket: this one
        word = "AGAIN" if bare else f"AGAIN {ticket.id}"
        responses = race.race([sms(phone, word), sms(phone, word)])
        if any(r.status_code != 200 for r in responses):
            problems.append((round_no, [(r.status_code, r.data[:300]) for r in responses]))
            continue
        answers = sorted(said(r) for r in responses)
        asked = (f"OK: we are asking Acme Plumbing about ticket {ticket.id}, the plumbing job at "
                 f"{office.property.address}, and will text you when a vendor takes it.")
        held = (f"Nothing changed for ticket {ticket.id}: Acme Plumbing still holds the offer; "
                "wait for their answer or for it to time out.")
        new = list(Ping.select().where(Ping.ticket == ticket).order_by(Ping.id))[before:]
        counts = [Event.select().where(Event.ticket == ticket, Event.type == kind).count()
                  for kind in (selection.ROUND_RESTARTED, "ticket.acknowledged")]
        if (answers != sorted([asked, held])
                or [(p.vendor_id, p.outcome) for p in new] != [(acme.id, "pending")]
                or counts != [1, 1]
                or Ticket.get_by_id(ticket.id).status != "escalated"):
            problems.append((round_no, answers, [(p.vendor_id, p.outcome) for p in new], counts))
    print(f"\n{config.database_url.split(':')[0]}: {ROUNDS} rounds of two AGAINs at once "
          f"({race.overlapped} fully overlapping)")
    assert problems == []


def everyone_silent(open_job, config) -> Ticket:
    """A plumbing emergency whose three plumbers let the offer time out: escalated (an
    emergency escalates once everyone was asked), and each may still say YES late."""
    ticket = open_job()
    while (ping := pending(ticket)) is not None:
        assert loop.lapse(ping.id, "timed_out", config)
    ticket = Ticket.get_by_id(ticket.id)
    assert ticket.status == "escalated"
    return ticket


def test_again_and_a_late_yes_at_the_same_instant(office, open_job, config, racer):
    """Best Pipes says YES late as the landlord sends AGAIN: Best books the job either way;
    when AGAIN came first Acme was asked and its offer is filled by the booking, and the
    AGAIN's answer said it was asking Acme; when the YES came first the AGAIN says a vendor
    is booked and asks nobody."""
    race = racer(2)
    landlord = office.landlord.phone
    acme, best = office.vendors["Acme Plumbing"], office.vendors["Best Pipes"]
    problems, firsts = [], Counter()
    for round_no in range(ROUNDS):
        ticket = everyone_silent(open_job, config)
        late = Ping.get(Ping.ticket == ticket, Ping.vendor == best)
        assert late.outcome == "timed_out"
        yes = f"YES {late.code}" if round_no % 2 == 0 else "YES"  # bare: Best's newest open
        responses = race.race([sms(late.to_number, yes), sms(landlord, f"AGAIN {ticket.id}")])
        if any(r.status_code != 200 for r in responses):
            problems.append((round_no, [(r.status_code, r.data[:300]) for r in responses]))
            continue
        yes_said, again_said = (said(r) for r in responses)
        visits_ = list(Appointment.select().where(Appointment.ticket == ticket))
        offers = list(Ping.select().where(Ping.ticket == ticket).order_by(Ping.id))
        extra = [(p.vendor_id, p.outcome) for p in offers[3:]]
        status = Ticket.get_by_id(ticket.id).status
        booked_by_best = (status == "scheduled" and [v.vendor_id for v in visits_] == [best.id]
                          and yes_said.startswith(f"You have job {late.code}:"))
        if extra == []:  # the YES first: AGAIN found the job booked
            first = "yes"
            ok = again_said == f"Nothing changed for ticket {ticket.id}: a vendor is booked for it."
        else:  # AGAIN first: Acme asked, then the booking filled Acme's offer
            first = "again"
            ok = (extra == [(acme.id, "filled")] and again_said == (
                f"OK: we are asking Acme Plumbing about ticket {ticket.id}, the plumbing job at "
                f"{office.property.address}, and will text you when a vendor takes it."))
        if not (ok and booked_by_best):
            problems.append((round_no, status, [v.vendor_id for v in visits_], extra, yes_said,
                             again_said))
        else:
            firsts[first] += 1
        closing.complete(Ticket.get_by_id(ticket.id), actor="test")  # frees Best Pipes
    print(f"\n{config.database_url.split(':')[0]}: {ROUNDS} rounds of AGAIN and a late YES at "
          f"once ({race.overlapped} fully overlapping), first {dict(firsts)}")
    assert problems == []
    assert sum(firsts.values()) == ROUNDS
