"""Races over the visit (§9) on real threads and connections: the vendor's DONE and CANCEL at
the same instant, and a YES on the job page as another vendor texts YES."""

from __future__ import annotations

import re
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

from app.booking import loop
from app.models import Appointment, Event, Ticket
from tests.webhooks import test_races
from tests.webhooks.conftest import LOCAL, pending, said, sign
from tests.webhooks.test_races import ROUNDS, bookings, sms

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


def _page_accept(app, ping_token: str, barrier: threading.Barrier):
    """A vendor presses Accept on their job page: the page's form and CSRF token first, then
    the POST at the barrier's release; the page it redirects to (its notice)."""
    client = app.test_client()
    page = client.get(f"/j/{ping_token}").get_data(as_text=True)
    token = CSRF.search(page).group(1)
    barrier.wait(timeout=30)
    response = client.post(f"/j/{ping_token}/accept", data={"csrf_token": token})
    assert response.status_code == 303, response.get_data(as_text=True)
    return client.get(response.headers["Location"]).get_data(as_text=True)


def _sms_yes(app, token: str, ping, barrier: threading.Barrier):
    path, form = sms(ping.to_number, f"YES {ping.code}")
    client = app.test_client()
    signature = sign(LOCAL + path, form, token)
    barrier.wait(timeout=30)
    return said(client.post(path, data=form, headers={"X-Twilio-Signature": signature}))


def test_yes_on_the_job_page_and_by_sms_at_the_same_instant(app, office, open_job, config):
    """Acme accepts on its page as Best Pipes texts YES: one booking, the loser told filled."""
    pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="racer")
    problems, winners = [], Counter()
    try:
        for round_no in range(ROUNDS):
            ticket = open_job()
            late = pending(ticket)
            assert loop.lapse(late.id, "timed_out", config)  # Acme may still take it
            held = pending(ticket)
            barrier = threading.Barrier(2)
            on_page = pool.submit(_page_accept, app, late.token, barrier)
            by_sms = pool.submit(_sms_yes, app, config.webhook_auth_token, held, barrier)
            page, text = on_page.result(timeout=60), by_sms.result(timeout=60)
            appointments, scheduled = bookings(ticket)
            visit = Appointment.get_or_none(Appointment.ticket == ticket)
            page_won = "You have job" in page
            sms_won = text.startswith("You have job")
            ok = ((appointments, scheduled) == (1, 1) and page_won != sms_won
                  and visit.vendor_id == (late if page_won else held).vendor_id
                  and ("already been filled" in text if page_won
                       else "taken by another vendor" in page))
            if not ok:
                problems.append((round_no, appointments, scheduled, page_won, sms_won, text))
            winners["page" if page_won else "sms"] += 1
    finally:
        pool.shutdown(wait=True)
    print(f"\n{config.database_url.split(':')[0]}: {ROUNDS} rounds of a page Accept and an SMS "
          f"YES at once, winners {dict(winners)}")
    assert problems == []
