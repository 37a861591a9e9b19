"""Races over the visit (§9) on real threads and connections: the vendor's DONE and CANCEL at
the same instant, and a YES on the job page as another vendor texts YES."""

from __future__ import annotations

import re
from collections import Counter

from app.booking import loop
from app.models import Appointment, Event, Ticket
from tests.webhooks import test_races
from tests.webhooks.conftest import pending, said
from tests.webhooks.test_races import ROUNDS, sms

racer = test_races.racer  # the fixture, requested by name below


def _events(ticket: Ticket, kind: str) -> int:
    return Event.select().where(Event.ticket == ticket, Event.type == kind).count()


def judge_done_or_cancel(ticket: Ticket, responses) -> tuple[str | None, list]:
    """(which won, what is wrong) after DONE and CANCEL raced on one held job."""
    if any(r.status_code != 200 for r in responses):
        return None, [(r.status_code, r.data[:300]) for r in responses]
    done_said, cancel_said = (said(r) for r in responses)
    visit = Appointment.get(Appointment.ticket == ticket)
    status = Ticket.get_by_id(ticket.id).status
    completed, cancelled = (_events(ticket, "appointment.completed"),
                            _events(ticket, "appointment.cancelled"))
    if visit.status == "completed":
        ok = (status == "completed" and (completed, cancelled) == (1, 0)
              and done_said.startswith("Thanks: job") and "already marked done" in cancel_said)
        return "done", [] if ok else [visit.status, status, completed, cancelled, done_said,
                                      cancel_said]
    if visit.status == "cancelled":
        ok = (status in ("dispatching", "escalated") and (completed, cancelled) == (0, 1)
              and cancel_said.startswith("OK: you handed back")
              and ("cancelled" in done_said or "do not hold" in done_said))
        return "cancel", [] if ok else [visit.status, status, completed, cancelled, done_said,
                                        cancel_said]
    return None, ["neither won", visit.status, status, done_said, cancel_said]


def test_done_and_cancel_from_the_vendor_at_the_same_instant(office, open_job, config, racer):
    """Exactly one of DONE and CANCEL takes effect, and each answer tells the truth."""
    race = racer(2)
    problems, winners = [], Counter()
    for round_no in range(ROUNDS):
        ticket = open_job()
        held = pending(ticket)
        assert loop.accept(held.id, "sms", config) == "booked"
        code = held.code
        responses = race.race([sms(held.to_number, f"DONE {code}"),
                               sms(held.to_number, f"CANCEL {code}")])
        winner, problem = judge_done_or_cancel(ticket, responses)
        if problem:
            problems.append((round_no, problem))
        winners[winner] += 1
    print(f"\n{config.database_url.split(':')[0]}: {ROUNDS} rounds of DONE and CANCEL at once "
          f"({race.overlapped} fully overlapping), winners {dict(winners)}")
    assert problems == []
    assert sum(winners.values()) == ROUNDS


CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
