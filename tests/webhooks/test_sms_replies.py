"""Inbound SMS: YES/NO with or without a job code, STOP/START/HELP, repeats, TwiML answers."""

from __future__ import annotations

import dramatiq
import pytest

from app.booking import dispatch, loop
from app.models import Appointment, Event, Message, Ping, Ticket, Vendor
from tests import twilio_fake
from tests.conftest import make_config
from tests.webhooks.conftest import FIXLINE_NUMBER, new_sid, pending, pings, said, twiml

fake_twilio = twilio_fake.fake_twilio  # the fixture, requested by name below

ACCEPTS = ["YES", "Y", "1", "ACCEPT", "yes", "y", "Accept", "YES!", "yes.", "Y?",
           "YES {code}", "yes {code}", "Y {code}.", "1 {code}", "accept {lower}!",
           "  Yes,  {code} ", "ACCEPT {code}"]
DECLINES = ["NO", "N", "2", "DECLINE", "no", "n.", "Decline!", "NO {code}", "n {lower}",
            "2 {code}", "decline {code}."]
STOPS = ["STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "stop", "Stop."]


def body_for(template: str, ping: Ping) -> str:
    return template.format(code=ping.code, lower=ping.code.lower())


def vendor_of(ping: Ping) -> Vendor:
    return Vendor.get_by_id(ping.vendor_id)


def test_each_yes_form_books_the_job(office, open_job, text, subtests):
    for template in ACCEPTS:
        with subtests.test(body=template):
            ticket = open_job()
            [ping] = pings(ticket)
            assert vendor_of(ping).name == "Acme Plumbing"
            response = text(vendor_of(ping), body_for(template, ping))
            assert said(response).startswith(f"You have job {ping.code}")
            assert Ticket.get_by_id(ticket.id).status == "scheduled"
            [appointment] = Appointment.select().where(Appointment.ticket == ticket)
            assert appointment.vendor_id == ping.vendor_id
            assert (appointment.status, appointment.confirmation_method) == ("tentative", "sms")
            assert Ping.get_by_id(ping.id).outcome == "accepted"


def test_each_no_form_declines_and_asks_the_next_vendor(office, open_job, text, subtests):
    for template in DECLINES:
        with subtests.test(body=template):
            ticket = open_job()
            [ping] = pings(ticket)
            response = text(vendor_of(ping), body_for(template, ping))
            assert said(response) == f"OK, you passed on job {ping.code}. Thanks."
            assert Ping.get_by_id(ping.id).outcome == "declined"
            following = pending(ticket)
            assert vendor_of(following).name == "Best Pipes"
            assert Ticket.get_by_id(ticket.id).status == "dispatching"
            assert not Appointment.select().where(Appointment.ticket == ticket).exists()
            offer = Message.get(Message.ping == following, Message.direction == "outbound")
            assert offer.to_number == "+15550003002" and following.code in offer.body


def test_without_a_code_the_reply_is_about_the_vendors_newest_open_ping(office, open_job, text):
    first, second = open_job(), open_job()
    older, newer = pending(first), pending(second)
    assert older.vendor_id == newer.vendor_id == office.vendors["Acme Plumbing"].id
    text(office.vendors["Acme Plumbing"], "yes")
    assert Ticket.get_by_id(second.id).status == "scheduled"
    assert Ticket.get_by_id(first.id).status == "dispatching"
    assert Ping.get_by_id(older.id).outcome == "pending"
    text(office.vendors["Acme Plumbing"], "no")  # now the older one is the newest open ping
    assert Ping.get_by_id(older.id).outcome == "declined"


def test_with_a_code_the_reply_is_about_that_job(office, open_job, text):
    first, second = open_job(), open_job()
    older = pending(first)
    text(office.vendors["Acme Plumbing"], f"YES {older.code}")
    assert Ticket.get_by_id(first.id).status == "scheduled"
    assert Ticket.get_by_id(second.id).status == "dispatching"


def test_a_code_for_another_vendors_job_is_not_accepted(office, ticket, text):
    ping = pending(ticket)
    before = Message.select().count()
    response = text(office.vendors["Best Pipes"], f"YES {ping.code}")
    assert said(response) == (f"Fixline has no job {ping.code} for you. "
                              "Reply with the code from our message.")
    assert Ticket.get_by_id(ticket.id).status == "dispatching"
    assert Ping.get_by_id(ping.id).outcome == "pending"
    assert not Appointment.select().exists()
    assert Message.select().count() == before + 2  # the inbound text and the answer, logged
    response = text(office.vendors["Best Pipes"], "YES")
    assert said(response) == "Fixline has no open job for you right now."
    assert Ticket.get_by_id(ticket.id).status == "dispatching"


def test_stop_opts_out_until_start(office, open_job, text, config, subtests):
    acme = office.vendors["Acme Plumbing"]
    for word in STOPS:
        with subtests.test(word=word):
            ticket = open_job()
            held = pending(ticket)
            assert held.vendor_id == acme.id
            response = text(acme, word)
            assert said(response) == ("You will get no more Fixline jobs. "
                                      "Reply START to receive them again.")
            assert Vendor.get_by_id(acme.id).opted_out is True
            assert Ping.get_by_id(held.id).outcome == "declined"  # their offer moves on
            assert pending(ticket).vendor_id == office.vendors["Best Pipes"].id
            for _ in range(2):  # Acme is asked first by priority, but not while opted out
                later = open_job()
                assert acme.id not in {p.vendor_id for p in pings(later)}
            with pytest.raises(dispatch.PingRefused):
                dispatch.send_ping(later, Vendor.get_by_id(acme.id), "sms", config,
                                   actor="test")
            response = text(acme, "start")
            assert "you will get Fixline jobs again" in said(response)
            assert Vendor.get_by_id(acme.id).opted_out is False
            assert pending(open_job()).vendor_id == acme.id


def test_help_gets_the_help_text(office, ticket, text, subtests):
    for word in ["HELP", "help", "Help?", "INFO"]:
        with subtests.test(word=word):
            answer = said(text(office.vendors["Acme Plumbing"], word))
            assert "YES <code>" in answer and "NO <code>" in answer and "STOP" in answer
            assert Ping.get_by_id(pending(ticket).id).outcome == "pending"


def test_unknown_words_get_a_hint(office, ticket, text, subtests):
    held = pending(ticket)
    for body in ["maybe", "yes please", "", "K7Q2", "call me", "no way"]:
        with subtests.test(body=body):
            response = text(office.vendors["Acme Plumbing"], body)
            assert said(response) == ("Sorry, we did not understand. "
                                      "Reply YES <code> to take the job or NO <code> to pass.")
            assert Ping.get_by_id(held.id).outcome == "pending"
            assert Ticket.get_by_id(ticket.id).status == "dispatching"


def test_an_unknown_number_gets_the_help_text(office, ticket, text):
    response = text("+15559999999", "YES")
    assert "We do not know this number" in said(response) and "STOP" in said(response)
    assert Ticket.get_by_id(ticket.id).status == "dispatching"


def test_answers_are_twiml_and_kept_in_the_message_log(office, ticket, text):
    acme = office.vendors["Acme Plumbing"]
    sid = new_sid()
    response = text(acme, "yes", sid=sid)
    assert response.headers["Content-Type"].startswith("text/xml")
    root = twiml(response)
    [message] = list(root)
    assert message.tag == "Message"
    inbound = Message.get(Message.provider_id == sid)
    assert (inbound.direction, inbound.channel, inbound.status) == ("inbound", "sms", "received")
    assert inbound.from_number == "+15550003001" and inbound.to_number == FIXLINE_NUMBER
    assert inbound.body == "yes" and inbound.ticket_id == ticket.id
    assert (inbound.recipient_type, inbound.recipient_id) == ("vendor", acme.id)
    answer = (Message.select()
              .where(Message.direction == "outbound", Message.status == "replied")
              .get())
    assert answer.body == message.text and answer.to_number == "+15550003001"
    assert answer.ticket_id == ticket.id and answer.landlord_id == office.landlord.id


def test_a_yes_after_booking_is_answered_already_filled(office, ticket, text, config):
    first = pending(ticket)
    assert loop.lapse(first.id, "timed_out", config)  # Acme did not answer in time
    second = pending(ticket)
    assert vendor_of(second).name == "Best Pipes"
    response = text(office.vendors["Acme Plumbing"], "YES")  # a late YES still wins
    assert said(response).startswith(f"You have job {first.code}")
    assert Ping.get_by_id(second.id).outcome == "filled"
    for body in ("YES", f"YES {second.code}", "y"):
        response = text(office.vendors["Best Pipes"], body)
        assert said(response) == (f"Sorry, job {second.code} has already been filled. "
                                  "Thanks for answering.")
    assert Appointment.select().count() == 1
    assert Ticket.get_by_id(ticket.id).status == "scheduled"
    response = text(office.vendors["Acme Plumbing"], "YES")  # the winner asking again
    assert said(response).startswith(f"You have job {first.code}")
    assert Appointment.select().count() == 1


@pytest.mark.parametrize("body", ["YES", "NO", "STOP"])
def test_a_repeated_delivery_has_its_effect_once(office, ticket, text, body):
    sid = new_sid()
    first = text(office.vendors["Acme Plumbing"], body, sid=sid)
    effects = [(e.type, e.data) for e in Event.select().order_by(Event.id)]
    logged = Message.select().count()
    again = text(office.vendors["Acme Plumbing"], body, sid=sid)
    assert first.status_code == again.status_code == 200
    assert said(again) == said(first)  # a retry gets the same answer
    assert [(e.type, e.data) for e in Event.select().order_by(Event.id)] == effects
    assert Message.select().count() == logged
    assert Message.select().where(Message.provider_id == sid).count() == 1
    assert Appointment.select().count() == (1 if body == "YES" else 0)
    assert Ping.select().count() == (1 if body == "YES" else 2)  # NO/STOP ask Best Pipes once


class TestNoProviderCallInTheRequest:
    """With Twilio configured, the webhook only queues: the fake sees nothing until a worker."""

    @pytest.fixture
    def config(self, database_url, tmp_path, fake_twilio):
        return make_config(database_url, tmp_path / "instance",
                           **fake_twilio.settings(FIXLINE_NUMBER))

    def test_decline_queues_the_next_offer_without_calling_twilio(
            self, office, ticket, text, fake_twilio, broker):
        response = text(office.vendors["Acme Plumbing"], "NO")
        assert said(response).startswith("OK, you passed")
        assert fake_twilio.requests == []  # nothing left the process during the request
        following = pending(ticket)
        offer = Message.get(Message.ping == following, Message.direction == "outbound")
        assert offer.status == "queued" and offer.provider_id is None
        worker = dramatiq.Worker(broker, worker_timeout=50, worker_threads=1)
        worker.start()  # only now: the queued sends reach the (fake) provider
        try:
            broker.join("default")
            worker.join()
        finally:
            worker.stop()
        sent = {r.form["To"]: r.form["Body"] for r in fake_twilio.requests}
        assert sent["+15550003002"] == offer.body  # Best Pipes' offer, sent by the worker
        # Acme's own offer, still queued when Acme said NO, is never sent: it was answered.
        assert set(sent) == {"+15550003002"}
        assert Message.get_by_id(offer.id).provider_id.startswith("SM")

    def test_accept_answers_in_twiml_without_calling_twilio(self, office, ticket, text,
                                                            fake_twilio, broker):
        response = text(office.vendors["Acme Plumbing"], "YES")
        assert said(response).startswith("You have job")
        assert fake_twilio.requests == []
        assert Ticket.get_by_id(ticket.id).status == "scheduled"
        assert broker.queues["default"].qsize() > 0  # notices wait in the (stub) broker
