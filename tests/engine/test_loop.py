"""The booking loop: one vendor at a time, NO and silence move on, the first YES wins."""

from __future__ import annotations

import socket
import threading
import time
from datetime import datetime, timedelta
from xml.etree import ElementTree

import pytest

from app import events
from app.booking import loop, sweep
from app.booking.dispatch import send_ping
from app.db import db
from app.messaging import outbound, templates, voice
from app.models import Appointment, Message, Ping
from tests import twilio_fake
from tests.conftest import make_config
from tests.engine.conftest import (
    asked,
    assert_one_open_ping,
    events_of,
    fresh,
    messages_to,
    pending,
)

fake_twilio = twilio_fake.fake_twilio  # the fixture, requested by name below


@pytest.fixture
def three(make_vendor):
    """Ann, Bob and Cy: equal plumbers, asked in that order."""
    return make_vendor("Ann"), make_vendor("Bob"), make_vendor("Cy")


@pytest.fixture
def dispatched(bus, intake, three):
    """A routine plumbing ticket whose intake event has been handled: Ann holds the offer."""
    ticket = intake()
    assert bus.run_events() == 1
    return ticket


def offer_of(ping: Ping) -> Message:
    [message] = Message.select().where(Message.ping == ping, Message.direction == "outbound")
    return message


def test_intake_pings_exactly_one_vendor(bus, intake, three, config, fake_clock):
    ann = three[0]
    ticket = intake()
    assert (fresh(ticket).status, pending(ticket)) == ("new", None)

    assert bus.run_events() == 1  # intake.completed → start dispatch
    assert fresh(ticket).status == "dispatching"
    ping = pending(ticket)
    assert asked(ticket) == [("Ann", "pending")]
    assert ping.expires_at == fake_clock.now + timedelta(seconds=config.vendor_reply_timeout)
    offer = offer_of(ping)
    assert (offer.to_number, offer.channel, offer.recipient_id) == (ann.phones[0], "sms", ann.id)
    assert f"Reply YES {ping.code} to take it or NO {ping.code} to pass." in offer.body
    [pinged] = events_of(ticket, "vendor.pinged")
    assert (pinged.data["pingId"], pinged.data["messageId"]) == (ping.id, offer.id)

    [intake_event] = events_of(ticket, "intake.completed")
    events.handle(intake_event.id, config)  # delivered twice: nothing more happens
    assert asked(ticket) == [("Ann", "pending")]
    assert Message.select().count() == 1


def test_a_vendor_asked_by_hand_before_dispatch_holds_the_only_offer(
        bus, intake, three, config, landlord):
    ticket = intake()
    send_ping(ticket, three[2], "sms", config, actor=f"landlord:{landlord.id}")
    assert bus.run_events() == 1  # dispatch starts, but Cy already holds the offer
    assert fresh(ticket).status == "dispatching"
    assert asked(ticket) == [("Cy", "pending")]

    loop.decline(pending(ticket).id, config)
    assert asked(ticket) == [("Cy", "declined"), ("Ann", "pending")]


def test_no_asks_the_next_vendor_at_once(dispatched, config):
    first = pending(dispatched)
    assert loop.decline(first.id, config) == "declined"
    assert asked(dispatched) == [("Ann", "declined"), ("Bob", "pending")]
    assert [e.data["pingId"] for e in events_of(dispatched, "vendor.declined")] == [first.id]

    assert loop.decline(first.id, config) == "declined"  # the same NO again
    assert asked(dispatched) == [("Ann", "declined"), ("Bob", "pending")]
    assert len(events_of(dispatched, "vendor.declined")) == 1
    assert_one_open_ping()


def test_silence_times_out_and_the_next_vendor_is_asked(dispatched, config, fake_clock):
    first = pending(dispatched)
    fake_clock.advance(config.vendor_reply_timeout - 1)
    assert sweep.run(config)["expired"] == 0
    assert asked(dispatched) == [("Ann", "pending")]

    fake_clock.advance(2)
    assert sweep.run(config)["expired"] == 1
    assert asked(dispatched) == [("Ann", "timed_out"), ("Bob", "pending")]
    [timed_out] = events_of(dispatched, "vendor.timed_out")
    assert (timed_out.data["pingId"], timed_out.data["vendor"]) == (first.id, "Ann")
    assert pending(dispatched).expires_at == (
        fake_clock.now + timedelta(seconds=config.vendor_reply_timeout))
    assert sweep.run(config)["expired"] == 0  # Bob's clock has only just started


def test_the_first_yes_wins_even_after_its_own_timeout(dispatched, bus, config, fake_clock):
    late = pending(dispatched)
    fake_clock.advance(config.vendor_reply_timeout + 1)
    sweep.run(config)
    bob = pending(dispatched)

    assert loop.accept(late.id, "sms", config) == "booked"
    ticket = fresh(dispatched)
    assert ticket.status == "scheduled" and ticket.booked_at == fake_clock.now
    assert asked(ticket) == [("Ann", "accepted"), ("Bob", "filled")]
    [appointment] = Appointment.select()
    assert (appointment.vendor.name, appointment.ping_id, appointment.status) == (
        "Ann", late.id, "tentative")
    assert pending(ticket) is None
    assert messages_to("vendor", ticket)[-1].ping_id == bob.id  # Bob not told yet

    assert bus.run_events() == 1  # appointment.confirmed → notices
    filled = messages_to("vendor", ticket)[-1]
    assert (filled.to_number, filled.body) == (bob.to_number, templates.job_filled(bob.code))
    assert [m.to_number for m in messages_to("tenant", ticket)] == [ticket.tenant.phone]
    assert [m.to_number for m in messages_to("landlord", ticket)] == [ticket.landlord.phone]
    assert "Ann" in messages_to("tenant", ticket)[0].body


def test_a_yes_after_booking_is_filled(dispatched, bus, config, fake_clock):
    ann = pending(dispatched)
    loop.decline(ann.id, config)
    bob = pending(dispatched)
    fake_clock.advance(config.vendor_reply_timeout + 1)
    sweep.run(config)  # Bob times out, Cy is asked
    cy = pending(dispatched)
    assert loop.accept(cy.id, "sms", config) == "booked"
    bus.run_events()

    assert loop.accept(bob.id, "sms", config) == "filled"  # timed out, and too late
    assert loop.accept(ann.id, "sms", config) == "filled"  # had said NO
    assert loop.accept(cy.id, "sms", config) == "booked"  # the same YES again
    assert loop.decline(cy.id, config) == "accepted"  # a NO after one's own YES changes nothing
    assert Appointment.select().count() == 1
    assert asked(dispatched) == [("Ann", "declined"), ("Bob", "timed_out"), ("Cy", "accepted")]
    assert len(events_of(dispatched, "appointment.confirmed")) == 1
    assert fresh(dispatched).status == "scheduled"


def test_the_vendor_holding_the_offer_says_yes_too_late(dispatched, bus, config, fake_clock):
    ann = pending(dispatched)
    fake_clock.advance(config.vendor_reply_timeout + 1)
    sweep.run(config)
    bob = pending(dispatched)
    loop.accept(ann.id, "sms", config)

    assert loop.accept(bob.id, "sms", config) == "filled"
    assert Appointment.select().count() == 1
    assert Appointment.get().vendor.name == "Ann"


def test_when_everybody_declines_landlord_and_tenant_are_told(
        intake, three, config, broker, worker, landlord, home):
    _, tenant = home
    ticket = intake()  # through the real broker and a worker this time
    broker.join("default")
    worker.join()
    for _ in three:
        loop.decline(pending(ticket).id, config)
        broker.join("default")
        worker.join()

    ticket = fresh(ticket)
    assert (ticket.status, ticket.escalation_reason) == ("escalated", loop.NOBODY_LEFT)
    assert asked(ticket) == [("Ann", "declined"), ("Bob", "declined"), ("Cy", "declined")]
    [escalated] = events_of(ticket, "ticket.escalated")
    assert escalated.data["reason"] == loop.NOBODY_LEFT
    [to_landlord] = messages_to("landlord", ticket)
    [to_tenant] = messages_to("tenant", ticket)
    assert (to_landlord.recipient_id, to_landlord.to_number) == (landlord.id, landlord.phone)
    assert (to_tenant.recipient_id, to_tenant.to_number) == (tenant.id, tenant.phone)
    assert loop.NOBODY_LEFT in to_landlord.body
    assert to_landlord.status == to_tenant.status == "stored"
    delivered = {e.data["messageId"]: e.data["recipientType"]
                 for e in events_of(ticket, "notification.sent")}
    assert delivered[to_landlord.id] == "landlord" and delivered[to_tenant.id] == "tenant"
    assert len(delivered) == 3 + 2  # three offers, two notices


@pytest.mark.parametrize("vendor, ticket, why", [
    (dict(specialties=["electrical"]), dict(category="plumbing"), "1 do not do plumbing"),
    (dict(hours="Sat-Sun 9AM-5PM"), dict(window="tomorrow 9-11am"),  # tomorrow is Thursday
     "1 off work then"),
    (dict(hours="9AM-5PM"), dict(severity="emergency"),  # 09:00 UTC is 03:00 in Chicago
     "1 off work then"),
])
def test_nobody_fits_escalates_at_once(bus, make_vendor, intake, fake_clock, vendor, ticket,
                                       why):
    fake_clock.set(fake_clock.now.replace(hour=9))
    make_vendor("Misfit", **vendor)
    reported = intake(**ticket)
    bus.run_events()

    reported = fresh(reported)
    reason = f"no vendor can take this job ({why})"
    assert (reported.status, reported.escalation_reason) == ("escalated", reason)
    assert asked(reported) == []
    assert [e.data["reason"] for e in events_of(reported, "ticket.escalated")] == [reason]
    assert f"is not booked ({reason})" in messages_to("landlord", reported)[0].body
    calls = ["voice"] if reported.severity == "emergency" else []  # an emergency also rings
    assert [m.channel for m in messages_to("landlord", reported)] == ["sms", *calls]
    assert len(messages_to("tenant", reported)) == 1


def test_an_escalated_ticket_is_still_booked_by_a_late_yes(
        bus, make_vendor, intake, config, fake_clock):
    make_vendor("Only")
    ticket = intake(severity="emergency")  # escalates once everyone was asked (§10)
    bus.run_events()
    only = pending(ticket)
    fake_clock.advance(config.vendor_reply_timeout + 1)
    sweep.run(config)
    assert fresh(ticket).status == "escalated"

    assert loop.accept(only.id, "sms", config) == "booked"
    assert fresh(ticket).status == "scheduled"
    assert [(e.data["from"], e.data["to"]) for e in events_of(ticket, "ticket.status_changed")] == [
        ("new", "dispatching"), ("dispatching", "escalated"), ("escalated", "scheduled")]
    bus.run_events()
    assert len(messages_to("tenant", ticket)) == 2  # "landlord is on it", then "booked"


def refusing_port() -> int:
    """A local port nothing listens on: connections to it are refused at once."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class TestAnOfferTheProviderCannotTake:
    """Twilio is configured but unreachable: every offer fails to send."""

    @pytest.fixture
    def config(self, database_url, tmp_path):
        return make_config(database_url, tmp_path / "instance",
                           twilio_account_sid="AC" + "0" * 32, twilio_auth_token="1" * 32,
                           twilio_from_number="+15005550006",
                           twilio_api_base=f"http://127.0.0.1:{refusing_port()}")

    def test_retried_with_backoff_then_counted_as_no_answer(self, dispatched, bus):
        ann = pending(dispatched)
        offer = offer_of(ann)
        assert bus.deliver() == ["retrying", "retrying", "failed"]
        delays = [delay for message_id, delay in bus.sends if message_id == offer.id]
        assert delays == [0, *outbound.RETRY_DELAYS_MS] and delays[1] < delays[2]
        offer = Message.get_by_id(offer.id)
        assert (offer.status, offer.attempts) == ("failed", outbound.MAX_ATTEMPTS)
        assert "Twilio unreachable" in offer.error
        [failed] = events_of(dispatched, "notification.failed")
        assert failed.data["pingId"] == ann.id
        assert asked(dispatched) == [("Ann", "pending")]  # until the handler runs

        assert bus.run_events() == 1
        assert asked(dispatched) == [("Ann", "failed"), ("Bob", "pending")]
        assert [e.data["pingId"] for e in events_of(dispatched, "vendor.unreachable")] == [ann.id]

    def test_through_the_worker(self, intake, three, broker, worker, monkeypatch):
        monkeypatch.setattr(outbound, "RETRY_DELAYS_MS", (10, 20))
        ticket = intake()
        broker.join("default")
        worker.join()
        # Every offer fails in turn, so everybody is skipped and the landlord is told.
        assert asked(ticket) == [("Ann", "failed"), ("Bob", "failed"), ("Cy", "failed")]
        offers = Message.select().where(Message.ping.is_null(False))
        assert [(m.status, m.attempts) for m in offers] == [("failed", 3)] * 3
        assert fresh(ticket).escalation_reason == loop.NOBODY_LEFT


class TestVoiceOffers:
    """A vendor who prefers calls is offered the job by a call that waits for a keypress."""

    @pytest.fixture
    def config(self, database_url, tmp_path, fake_twilio):
        return make_config(database_url, tmp_path / "instance",
                           **fake_twilio.settings("+15005550006"))

    def test_the_call_gathers_one_digit(self, bus, make_vendor, intake, config, fake_twilio):
        caller = make_vendor("Caller", preferred_channel="voice")
        ticket = intake()
        bus.run_events()
        ping = pending(ticket)
        offer = offer_of(ping)
        assert (ping.channel, offer.channel, offer.to_number) == ("voice", "voice",
                                                                 caller.phones[0])
        assert offer.body == templates.vendor_offer_spoken(ticket, ping.code)

        gather = ElementTree.fromstring(str(voice.offer(offer.body, ping.id, config))).find(
            "Gather")
        assert gather.get("numDigits") == "1"
        assert gather.get("action").endswith(f"/webhooks/twilio/voice?ping={ping.id}")
        assert "Press 1 to take the job, or press 2 to pass." in gather.find("Say").text

        assert bus.deliver() == ["queued"]
        [call] = fake_twilio.requests
        assert call.path.endswith("/Calls.json") and call.form["To"] == caller.phones[0]
        sent = ElementTree.fromstring(call.form["Twiml"]).find("Gather")
        assert sent.get("numDigits") == "1" and sent.get("action") == gather.get("action")


def wait_for_a_lock_wait(connection, failure: str) -> None:
    """PostgreSQL: until some transaction waits for a lock (about 5 s at most)."""
    with connection.cursor() as cur:
        for _ in range(500):
            cur.execute("SELECT count(*) FROM pg_locks WHERE NOT granted")
            if cur.fetchone()[0]:
                return
            time.sleep(0.01)
    pytest.fail(failure)


def test_a_yes_waiting_on_the_ticket_lock_reads_its_ping_after_the_lock(
        dispatched, config, database_url):
    """PostgreSQL: the vendor's first YES commits while a second one waits for the row lock."""
    if not database_url.startswith("postgresql"):
        pytest.skip("row locks and read committed: PostgreSQL only (SQLite locks at BEGIN)")
    import psycopg2

    ann = pending(dispatched)
    first = psycopg2.connect(database_url)  # stands in for the first YES, mid-transaction
    with first.cursor() as cur:
        cur.execute("SELECT id FROM ticket WHERE id = %s FOR UPDATE", (dispatched.id,))
        cur.execute("UPDATE ping SET outcome = 'accepted' WHERE id = %s", (ann.id,))
        cur.execute("UPDATE ticket SET status = 'scheduled' WHERE id = %s", (dispatched.id,))
    answers = []

    def second_yes():
        try:
            answers.append(loop.accept(ann.id, "sms", config))
        finally:
            db.close()

    thread = threading.Thread(target=second_yes)
    thread.start()
    try:
        wait_for_a_lock_wait(first, "the second YES never waited for the ticket lock")
        first.commit()
    finally:
        thread.join(10)
        first.close()
    assert answers == ["booked"]  # the winner's repeat is not told the job went to someone else


def test_a_window_already_begun_books_the_visit_from_now(bus, make_vendor, intake, fake_clock,
                                                        config):
    make_vendor("Ace")
    reported = intake(severity="emergency", window="now, I am home all day")  # 09:00 Chicago
    bus.run_events()
    fake_clock.advance(90)
    assert loop.accept(Ping.get(Ping.ticket == reported).id, "sms", config) == "booked"
    visit = Appointment.get(Appointment.ticket == reported)
    assert visit.starts_at == datetime(2026, 3, 4, 15, 1)  # 09:01, not the day's 08:00
    assert visit.ends_at == datetime(2026, 3, 5, 2, 0)  # the window's end: 20:00 Chicago


def _offering(database_url: str, vendor_id: int):
    """Another ticket's dispatch, mid-transaction, holding the vendor it is offering."""
    import psycopg2

    other = psycopg2.connect(database_url)
    with other.cursor() as cur:
        cur.execute("SELECT id FROM vendor WHERE id = %s FOR NO KEY UPDATE", (vendor_id,))
    return other


def _dispatching(bus) -> threading.Thread:
    def run():
        try:
            bus.run_events()
        finally:
            db.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def test_a_vendor_another_dispatch_is_offering_is_passed_over(
        bus, make_vendor, intake, database_url):
    """PostgreSQL: two tickets dispatched at once rotate as one after the other would; the
    second does not wait on the first's vendor and offer them a second job."""
    if not database_url.startswith("postgresql"):
        pytest.skip("row locks: PostgreSQL only (SQLite runs one dispatch at a time)")
    ace, best = make_vendor("Ace"), make_vendor("Best")  # Ace is first in asking order
    reported = intake(severity="emergency", window="now")
    other = _offering(database_url, ace.id)
    thread = _dispatching(bus)
    thread.join(10)
    stuck = thread.is_alive()
    other.rollback()
    other.close()
    thread.join(10)
    assert not stuck, "the dispatch waited for the vendor another dispatch holds"
    assert Ping.get(Ping.ticket == reported).vendor_id == best.id


def test_the_only_vendor_another_dispatch_is_offering_is_waited_for(
        bus, make_vendor, intake, database_url):
    """PostgreSQL: with nobody else to ask, the dispatch waits for the vendor, as before."""
    if not database_url.startswith("postgresql"):
        pytest.skip("row locks: PostgreSQL only (SQLite runs one dispatch at a time)")
    ace = make_vendor("Ace")
    reported = intake(severity="emergency", window="now")
    other = _offering(database_url, ace.id)
    thread = _dispatching(bus)
    try:
        wait_for_a_lock_wait(other, "the dispatch never waited for the vendor's row")
    finally:
        other.rollback()
        other.close()
        thread.join(10)
    assert not thread.is_alive()
    assert Ping.get(Ping.ticket == reported).vendor_id == ace.id
