"""Voice offers: the Gather a vendor hears, and keypresses 1 (take), 2 (pass), anything else."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from app.booking import loop
from app.models import Appointment, Event, Message, Ping, Ticket
from tests.conftest import make_config
from tests.webhooks.conftest import FIXLINE_NUMBER, VOICE, new_sid, pending, said, twiml


@pytest.fixture
def call(signed_post):
    """Twilio posting a call's progress (and the vendor's keypress) for one ping."""

    def post(ping: Ping, digits: str | None = None, *, sid: str | None = None):
        form = {"CallSid": sid or new_sid("CA"), "AccountSid": "AC" + "0" * 32,
                "From": FIXLINE_NUMBER, "To": ping.to_number, "CallStatus": "in-progress",
                "Direction": "outbound-api"}
        if digits is not None:
            form["Digits"] = digits
        return signed_post(f"{VOICE}?ping={ping.id}", form)

    return post


@pytest.fixture
def offer(office, open_job) -> Ping:
    """An electrical job: Volt Electric, who prefers calls, holds the pending ping."""
    ticket = open_job(category="electrical")
    ping = pending(ticket)
    assert ping.vendor_id == office.vendors["Volt Electric"].id
    return ping


def gather_of(response):
    [gather] = twiml(response).iter("Gather")
    return gather


def test_a_voice_preferring_vendor_is_offered_the_job_by_call(offer):
    assert offer.channel == "voice"
    message = Message.get(Message.ping == offer, Message.direction == "outbound")
    assert message.channel == "voice" and message.to_number == "+15550004001"
    assert "Press 1 to take the job, or press 2 to pass." in message.body


def test_without_digits_the_answer_gathers_one_key_posting_back_to_the_ping(offer, call, config):
    response = call(offer)
    gather = gather_of(response)
    assert gather.get("numDigits") == "1" and gather.get("method") == "POST"
    action = urlsplit(gather.get("action"))
    assert action.path == VOICE and parse_qs(action.query) == {"ping": [str(offer.id)]}
    assert gather.get("action") == f"http://{config.host}:{config.port}{VOICE}?ping={offer.id}"
    assert "Press 1 to take the job" in "".join(gather.itertext())
    assert Ping.get_by_id(offer.id).outcome == "pending"
    assert not Message.select().where(Message.direction == "inbound").exists()


def test_pressing_1_books(offer, call):
    response = call(offer, "1")
    assert said(response).startswith(f"You have job {offer.code}")
    assert Ticket.get_by_id(offer.ticket_id).status == "scheduled"
    [appointment] = Appointment.select()
    assert appointment.vendor_id == offer.vendor_id and appointment.confirmation_method == "voice"
    assert Ping.get_by_id(offer.id).outcome == "accepted"
    inbound = Message.get(Message.direction == "inbound")
    assert (inbound.channel, inbound.body, inbound.ping_id) == ("voice", "pressed 1", offer.id)


def test_pressing_2_declines_and_asks_the_next_vendor(office, offer, call):
    response = call(offer, "2")
    assert said(response) == f"OK, you passed on job {offer.code}. Thanks."
    assert Ping.get_by_id(offer.id).outcome == "declined"
    following = pending(Ticket.get_by_id(offer.ticket_id))
    assert following.vendor_id == office.vendors["Watt Electric"].id
    assert Ticket.get_by_id(offer.ticket_id).status == "dispatching"


def test_other_keys_ask_again(office, open_job, call, subtests):
    for digits in ["3", "9", "0", "*", "#", ""]:
        with subtests.test(digits=digits):
            offer = pending(open_job(category="electrical"))
            response = call(offer, digits)
            assert "Press 1 to take the job, or 2 to pass." in said(response)
            gather = gather_of(response)  # the offer is read out again, waiting for a key
            assert gather.get("numDigits") == "1"
            assert gather.get("action").endswith(f"{VOICE}?ping={offer.id}")
            assert Ping.get_by_id(offer.id).outcome == "pending"
            assert not Appointment.select().exists()


@pytest.mark.parametrize("digits", ["1", "2"])
def test_the_same_call_posted_twice_has_one_effect(offer, call, digits):
    sid = new_sid("CA")
    first = call(offer, digits, sid=sid)
    effects = [(e.type, e.data) for e in Event.select().order_by(Event.id)]
    again = call(offer, digits, sid=sid)
    assert first.status_code == again.status_code == 200
    assert said(again) == said(first)
    assert [(e.type, e.data) for e in Event.select().order_by(Event.id)] == effects
    assert Message.select().where(Message.direction == "inbound").count() == 1
    assert Appointment.select().count() == (1 if digits == "1" else 0)
    assert Ping.select().count() == (1 if digits == "1" else 2)  # one next vendor, not two


@pytest.mark.parametrize("query", ["", "?ping=abc", f"?ping={2**64}", "?ping=-1"])
def test_a_call_without_a_ping_is_told_how_jobs_are_offered(signed_post, query):
    response = signed_post(VOICE + query, {"CallSid": new_sid("CA"), "From": "+15550004001",
                                           "To": FIXLINE_NUMBER, "Digits": "1"})
    assert "Jobs are offered" in said(response)
    assert not Message.select().exists()


def test_a_keypress_after_booking_is_answered_already_filled(office, offer, call, text,
                                                             config):
    assert loop.lapse(offer.id, "timed_out", config)  # Volt did not press anything in time
    text(office.vendors["Watt Electric"], "YES")  # the next vendor took it
    assert Ticket.get_by_id(offer.ticket_id).status == "scheduled"
    response = call(offer, "1")
    assert said(response) == (f"Sorry, job {offer.code} has already been filled. "
                              "Thanks for answering.")
    [appointment] = Appointment.select()
    assert appointment.vendor_id == office.vendors["Watt Electric"].id


class TestPublicBaseUrl:
    @pytest.fixture
    def config(self, database_url, tmp_path):
        return make_config(database_url, tmp_path / "instance",
                           public_base_url="https://fix.example")

    def test_the_gather_posts_to_the_public_url(self, offer, signed_post):
        path = f"{VOICE}?ping={offer.id}"
        response = signed_post(path, {"CallSid": new_sid("CA"), "To": offer.to_number},
                               url="https://fix.example" + path)
        assert gather_of(response).get("action") == "https://fix.example" + path
