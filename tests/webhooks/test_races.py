"""Races on real threads and connections: two YES at once, and one webhook delivered 4 times."""

from __future__ import annotations

import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest

from app import clock
from app.booking import answers, loop, sweep
from app.db import db
from app.models import Appointment, Event, Message, Ping, Ticket
from tests.webhooks.conftest import (
    FIXLINE_NUMBER,
    LOCAL,
    SMS,
    VOICE,
    new_sid,
    pending,
    said,
    sign,
)

ROUNDS = 200
KEYPRESS_ROUNDS = 50  # the extra races: a keypress against a text, and a repeated keypress
REPEATS = 4


class Racer:
    """Threads that post webhooks at the same instant, each through its own test client."""

    def __init__(self, app, token: str, parties: int):
        self.app, self.token, self.parties = app, token, parties
        self.pool = ThreadPoolExecutor(max_workers=parties, thread_name_prefix="racer")
        self.local = threading.local()
        self.overlapped = 0

    def _client(self):
        if not hasattr(self.local, "client"):
            self.local.client = self.app.test_client()
        return self.local.client

    def _post(self, barrier: threading.Barrier, path: str, form: dict[str, str]):
        signature = sign(LOCAL + path, form, self.token)
        client = self._client()
        barrier.wait(timeout=30)
        started = time.perf_counter()
        response = client.post(path, data=form, headers={"X-Twilio-Signature": signature})
        return response, (started, time.perf_counter())

    def race(self, posts: list[tuple[str, dict[str, str]]]) -> list:
        """Make every (path, form) post at once, released together by a barrier; the responses.

        Counts in self.overlapped the races in which every request started before any ended.
        """
        assert len(posts) == self.parties
        barrier = threading.Barrier(self.parties)
        futures = [self.pool.submit(self._post, barrier, path, form) for path, form in posts]
        results = [future.result(timeout=60) for future in futures]
        spans = [span for _, span in results]
        if max(start for start, _ in spans) < min(end for _, end in spans):
            self.overlapped += 1
        return [response for response, _ in results]

    def close(self) -> None:
        self.pool.shutdown(wait=True)


@pytest.fixture
def racer(app, config):
    made: list[Racer] = []

    def make(parties: int) -> Racer:
        made.append(Racer(app, config.webhook_auth_token, parties))
        return made[-1]

    yield make
    for each in made:
        each.close()


def sms(number: str, body: str, sid: str | None = None) -> tuple[str, dict[str, str]]:
    """An inbound SMS webhook: (path, form)."""
    return SMS, {"MessageSid": sid or new_sid(), "AccountSid": "AC" + "0" * 32,
                 "From": number, "To": FIXLINE_NUMBER, "Body": body, "NumMedia": "0"}


def keypress(ping: Ping, digits: str) -> tuple[str, dict[str, str]]:
    """A vendor's keypress on an offer call: (path, form)."""
    return f"{VOICE}?ping={ping.id}", {"CallSid": new_sid("CA"), "AccountSid": "AC" + "0" * 32,
                                       "From": FIXLINE_NUMBER, "To": ping.to_number,
                                       "Digits": digits}


def bookings(ticket: Ticket) -> tuple[int, int]:
    """(appointments, moves to scheduled) of a ticket: (1, 1) is one booking."""
    appointments = Appointment.select().where(Appointment.ticket == ticket).count()
    scheduled = sum(1 for event in Event.select().where(Event.ticket == ticket,
                                                        Event.type == "ticket.status_changed")
                    if event.data["to"] == "scheduled")
    return appointments, scheduled


def judge_two_yes(ticket: Ticket, pings: tuple[Ping, Ping], responses) -> tuple[bool, list]:
    """(a double booking?, what else is wrong) after two YES for one ticket raced."""
    if any(r.status_code != 200 for r in responses):
        return False, [(r.status_code, r.data[:300]) for r in responses]
    answers = [said(r) for r in responses]
    appointments, scheduled = bookings(ticket)
    double = appointments > 1 or scheduled > 1
    booked = [a.startswith("You have job") for a in answers]
    filled = ["has already been filled" in a for a in answers]
    if (appointments, scheduled) != (1, 1) or sorted(booked) != [False, True] or any(
            b == f for b, f in zip(booked, filled, strict=True)):
        return double, [answers, appointments, scheduled]
    winner = pings[booked.index(True)]
    appointment = Appointment.get(Appointment.ticket == ticket)
    if appointment.vendor_id != winner.vendor_id:
        return double, ["the appointment is not the winner's", answers]
    if Ticket.get_by_id(ticket.id).status != "scheduled":
        return double, ["not scheduled", answers]
    return double, []


def test_two_vendors_say_yes_at_the_same_instant(office, open_job, config, racer):
    """Both hold answerable pings (one timed out, one pending): exactly one books, each round."""
    race = racer(2)
    acme, best = office.vendors["Acme Plumbing"], office.vendors["Best Pipes"]
    doubles, problems, winners = 0, [], Counter()
    for round_no in range(ROUNDS):
        ticket = open_job()
        late = pending(ticket)
        assert late.vendor_id == acme.id and loop.lapse(late.id, "timed_out", config)
        held = pending(ticket)
        assert held.vendor_id == best.id
        with_code = round_no % 2 == 0
        responses = race.race([sms(ping.to_number, f"YES {ping.code}" if with_code else "yes")
                               for ping in (late, held)])
        double, problem = judge_two_yes(ticket, (late, held), responses)
        doubles += double
        if problem:
            problems.append((round_no, problem))
        else:
            winners[Appointment.get(Appointment.ticket == ticket).vendor.name] += 1
    print(f"\n{config.database_url.split(':')[0]}: {ROUNDS} rounds of two YES at once "
          f"({race.overlapped} fully overlapping), {doubles} double bookings, "
          f"wins {dict(winners)}")
    assert doubles == 0
    assert problems == []
    assert Appointment.select().count() == ROUNDS


def test_a_keypress_and_a_text_say_yes_at_the_same_instant(office, open_job, config, racer):
    """A voice vendor presses 1 as an SMS vendor texts YES: one booking, each round."""
    race = racer(2)
    doubles, problems = 0, []
    for round_no in range(KEYPRESS_ROUNDS):
        ticket = open_job(category="electrical")
        called = pending(ticket)
        assert called.channel == "voice" and loop.lapse(called.id, "timed_out", config)
        texted = pending(ticket)
        responses = race.race([keypress(called, "1"), sms(texted.to_number, "YES")])
        double, problem = judge_two_yes(ticket, (called, texted), responses)
        doubles += double
        if problem:
            problems.append((round_no, problem))
    print(f"\n{config.database_url.split(':')[0]}: {KEYPRESS_ROUNDS} rounds of a keypress "
          f"racing a text ({race.overlapped} fully overlapping), {doubles} double bookings")
    assert doubles == 0
    assert problems == []


@pytest.mark.parametrize("answer", ["YES", "NO", "press 1"])
def test_one_webhook_delivered_four_times_at_once(office, open_job, config, racer, answer):
    """The same MessageSid (CallSid), 4 deliveries at once: one inbound message, one effect."""
    race = racer(REPEATS)
    rounds = KEYPRESS_ROUNDS if answer == "press 1" else ROUNDS
    accepts = answer != "NO"
    doubles, problems = 0, []
    for round_no in range(rounds):
        if answer == "press 1":
            ping = pending(open_job(category="electrical"))
            path, form = keypress(ping, "1")
            inbound = Message.dedupe_key == f"keypress:{form['CallSid']}:{ping.id}"
        else:
            ping = pending(open_job())
            code = f" {ping.code}" if round_no % 2 == 0 else ""
            path, form = sms(ping.to_number, answer + code)
            inbound = Message.provider_id == form["MessageSid"]
        responses = race.race([(path, form)] * REPEATS)
        if any(r.status_code != 200 for r in responses):
            problems.append((round_no, [(r.status_code, r.data[:300]) for r in responses]))
            continue
        answers = {said(r) for r in responses}
        appointments, scheduled = bookings(ping.ticket)
        doubles += appointments > 1 or scheduled > 1
        declines = Event.select().where(Event.ticket == ping.ticket_id,
                                        Event.type == "vendor.declined").count()
        asked = Ping.select().where(Ping.ticket == ping.ticket_id).count()
        expected = ((1, 1, 0, 1) if accepts else (0, 0, 1, 2))  # one booking, or one decline
        if ((appointments, scheduled, declines, asked) != expected
                or Message.select().where(inbound).count() != 1
                or len(answers) != 1  # every delivery got the same answer
                or not answers.pop().startswith("You have job" if accepts else "OK, you passed")):
            problems.append((round_no, appointments, scheduled, declines, asked, answers))
    print(f"\n{config.database_url.split(':')[0]}: {rounds} rounds of {REPEATS} deliveries of "
          f"{answer!r} ({race.overlapped} fully overlapping), {doubles} double bookings")
    assert doubles == 0
    assert problems == []


def test_a_reply_committed_while_the_sweep_walks_its_due_pings(office, open_job, config,
                                                               monkeypatch, request):
    """The sweep times out pings one transaction each; a YES committing in between is fine.

    On SQLite a SELECT left open while each loop.lapse opens BEGIN IMMEDIATE on the same
    connection pins a WAL read snapshot; once another connection commits, taking the write
    lock on that stale snapshot is SQLITE_BUSY_SNAPSHOT ("database is locked" at once, no
    busy timeout helps). The sweep reads the due ids into a list first; this test guards it.
    """
    overdue = [open_job() for _ in range(3)]
    (Ping.update(expires_at=clock.now() - timedelta(seconds=1))
     .where(Ping.ticket.in_(overdue))
     .execute())
    answered = pending(open_job())
    replies: list = []

    def reply() -> None:  # another connection, as a webhook request has
        with db.connection_context():
            replies.append(answers.on_sms(sid=new_sid(), from_number=answered.to_number,
                                          to_number=FIXLINE_NUMBER, body=f"YES {answered.code}",
                                          config=config))

    lapse = loop.lapse

    def lapse_after_a_reply(ping_id: int, outcome: str, config) -> bool:
        if not replies:  # the first due ping: a YES for another job commits right now
            thread = threading.Thread(target=reply)
            thread.start()
            thread.join()
        return lapse(ping_id, outcome, config)

    monkeypatch.setattr(loop, "lapse", lapse_after_a_reply)
    assert sweep.expire_pings(config) == 3
    assert replies[0].startswith("You have job")
    assert Ticket.get_by_id(answered.ticket_id).status == "scheduled"
    assert all(Ping.get(Ping.ticket == t, Ping.vendor == office.vendors["Acme Plumbing"]).outcome
               == "timed_out" for t in overdue)
