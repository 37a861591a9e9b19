"""Every YES/NO answer tells the truth: for each state a vendor's offer can be in, the reply
matches what is actually true afterwards (issue 9 item 1: never claim an effect that did not
happen)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from app.booking import closing, loop
from app.booking.appointments import active_appointment, book
from app.booking.dispatch import send_ping
from app.booking.intake import Report, open_ticket
from app.config import Config
from app.models import Ping, Ticket
from tests.webhooks.conftest import pending, said


def _state(office, open_job, config, name: str) -> SimpleNamespace:
    """Make Acme Plumbing's offer be in the named state; returns its ping and ticket."""
    acme = office.vendors["Acme Plumbing"]
    if name == "new":  # asked by hand before dispatch began
        report = Report(tenant_id=office.tenant.id, property_id=office.property.id,
                        category="plumbing", severity="routine", window="today 2-5pm")
        ticket, _ = open_ticket(office.landlord, report, config)
        ping = send_ping(ticket, acme, "sms", config, actor=f"landlord:{office.landlord.id}")
        return SimpleNamespace(ping=ping, ticket=ticket)
    ticket = open_job()
    ping = pending(ticket)
    assert ping.vendor_id == acme.id
    if name == "timed_out":
        assert loop.lapse(ping.id, "timed_out", config)
    elif name == "declined":
        loop.decline(ping.id, config)
    elif name in ("accepted", "completed"):
        assert loop.accept(ping.id, "sms", config) == "booked"
        if name == "completed":
            closing.complete(Ticket.get_by_id(ticket.id), actor="test")
    elif name == "filled":  # the landlord booked Best Pipes while Acme's offer was open
        book(Ticket.get_by_id(ticket.id), office.vendors["Best Pipes"], None, None, "manual",
             f"landlord:{office.landlord.id}", config=Config())
    elif name == "held_by_hand":  # the landlord booked Acme while its offer was open
        book(Ticket.get_by_id(ticket.id), acme, None, None, "manual",
             f"landlord:{office.landlord.id}", config=Config())
    elif name == "cancelled":
        closing.cancel(Ticket.get_by_id(ticket.id), actor="test")
    else:
        assert name == "pending"
    return SimpleNamespace(ping=Ping.get_by_id(ping.id), ticket=Ticket.get_by_id(ticket.id))


def holds(ping: Ping) -> bool:
    visit = active_appointment(Ticket.get_by_id(ping.ticket_id))
    return visit is not None and visit.vendor_id == ping.vendor_id


# What each kind of reply claims, checked against the state it leaves behind.
CLAIMS = {
    "You have job": lambda ping, ticket: holds(ping) and ticket.status == "scheduled",
    "You still have job": lambda ping, ticket: holds(ping) and ticket.status == "scheduled",
    "OK, you passed": lambda ping, ticket: ping.outcome == "declined" and not holds(ping),
    "has already been filled": lambda ping, ticket: (ticket.status == "scheduled"
                                                     and not holds(ping)),
    "was cancelled": lambda ping, ticket: ticket.status == "cancelled",
    "already marked done": lambda ping, ticket: ticket.status == "completed",
}

# (state of Acme's offer, what Acme answers, the reply it must get, the ping's outcome after)
TABLE = [
    ("pending", "YES", "You have job {code}", "accepted"),
    ("pending", "NO", "OK, you passed on job {code}", "declined"),
    ("timed_out", "YES", "You have job {code}", "accepted"),  # a late YES still wins
    ("timed_out", "NO", "OK, you passed on job {code}", "declined"),
    ("declined", "YES {code}", "You have job {code}", "accepted"),  # changed their mind, unbooked
    ("declined", "NO {code}", "OK, you passed on job {code}", "declined"),
    ("accepted", "YES", "You have job {code}", "accepted"),
    ("accepted", "NO", "You still have job {code}: a NO does not hand it back. If you cannot "
                       "do it, reply CANCEL {code}, or call Lana Lord at +15550001000.",
     "accepted"),
    ("accepted", "NO {code}", "You still have job {code}", "accepted"),
    ("filled", "YES {code}", "Sorry, job {code} has already been filled", "filled"),
    ("filled", "NO {code}", "Sorry, job {code} has already been filled", "filled"),
    ("filled", "NO", "Sorry, job {code} has already been filled", "filled"),
    ("held_by_hand", "YES {code}", "You have job {code}", "filled"),
    ("held_by_hand", "NO {code}", "You still have job {code}", "filled"),
    ("cancelled", "YES {code}", "Job {code} was cancelled by the landlord", "cancelled"),
    ("cancelled", "NO {code}", "Job {code} was cancelled by the landlord", "cancelled"),
    ("completed", "YES {code}", "Job {code} is already marked done", "accepted"),
    ("completed", "NO {code}", "Job {code} is already marked done", "accepted"),
    ("new", "YES {code}", "You have job {code}", "accepted"),  # asked by hand, before dispatch
]


@pytest.mark.parametrize("state, word, reply, outcome", TABLE,
                         ids=[f"{s}-{w.split()[0]}{'-code' if '{' in w else ''}"
                              for s, w, _, _ in TABLE])
def test_the_reply_matches_the_state_it_leaves(office, open_job, config, text,
                                               state, word, reply, outcome):
    made = _state(office, open_job, config, state)
    code = made.ping.code
    answer = said(text(office.vendors["Acme Plumbing"], word.format(code=code)))
    assert answer.startswith(reply.format(code=code)), answer
    ping, ticket = Ping.get_by_id(made.ping.id), Ticket.get_by_id(made.ticket.id)
    assert ping.outcome == outcome
    claims = [check for phrase, check in CLAIMS.items() if phrase in answer]
    assert claims, f"no known claim in {answer!r}"
    assert all(check(ping, ticket) for check in claims), (answer, ping.outcome, ticket.status)


def test_a_holder_who_says_no_keeps_the_job_and_nothing_changes(office, open_job, config, text):
    made = _state(office, open_job, config, "accepted")
    before = Ticket.get_by_id(made.ticket.id)
    text(office.vendors["Acme Plumbing"], f"NO {made.ping.code}")
    after = Ticket.get_by_id(made.ticket.id)
    assert (after.status, after.updated_at) == (before.status, before.updated_at)
    assert holds(made.ping)
