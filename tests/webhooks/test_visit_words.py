"""§9's SMS words through the signed webhook: a vendor's YES with a time, TIME, DONE (with MMS
photos) and CANCEL; a tenant's answers; help texts; repeats; a tenant who is also a vendor."""

from __future__ import annotations

import itertools
from datetime import datetime

import pytest

from app import clock, events
from app.booking import dispatch, sweep, visit_times, visits
from app.booking.vendors import create_vendor
from app.messaging import outbound, replies, templates
from app.models import Appointment, Event, Message, Ping, Question, Ticket, TicketPhoto, Vendor
from tests import twilio_fake
from tests.conftest import make_config
from tests.engine.conftest import WEDNESDAY_9AM, Bus, FakeClock
from tests.webhooks.conftest import FIXLINE_NUMBER, SMS, new_sid, pending, phone, said

fake_twilio = twilio_fake.fake_twilio  # the fixture, requested by name below

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x01" * 200


@pytest.fixture
def config(database_url, tmp_path, fake_twilio):
    """Twilio's API (and so its MMS media URLs) at the fake; webhooks signed with its token."""
    return make_config(database_url, tmp_path / "instance", **fake_twilio.settings())


@pytest.fixture(autouse=True)
def fake_clock(app):
    """Wednesday 4 March 2026, 09:00 in Chicago (the property's zone), before any row."""
    frozen = FakeClock(WEDNESDAY_9AM)
    yield frozen
    clock.set_fake(None)


@pytest.fixture(autouse=True)
def bus(app, config, fake_clock, monkeypatch) -> Bus:
    """Events and messages wait for the test to run them (no broker)."""
    inline = Bus(config)
    monkeypatch.setattr(events, "_publisher", inline.publish)
    monkeypatch.setattr(outbound, "_sender", inline.send)
    return inline


@pytest.fixture
def acme(office) -> Vendor:
    return office.vendors["Acme Plumbing"]


@pytest.fixture
def code(ticket) -> str:
    """The job code of Acme's offer (the ticket: a plumbing job, tenant in today 2-5pm)."""
    return pending(ticket).code


@pytest.fixture
def booked(ticket, acme, code, text) -> Appointment:
    """Acme said YES without a time: the visit is the tenant's window, today 2-5pm."""
    assert said(text(acme, f"YES {code}")).startswith(f"You have job {code}")
    return visit_of(ticket)


def english(problem: str) -> str:
    """A visit-time problem as an English vendor reads it."""
    return problem % {"example": visit_times.EXAMPLE}


def visit_of(ticket: Ticket) -> Appointment:
    return Appointment.select().where(Appointment.ticket == ticket).order_by(
        Appointment.id.desc()).get()


def status_of(ticket: Ticket) -> str:
    return Ticket.get_by_id(ticket.id).status


def last_to(kind: str, ticket: Ticket) -> str:
    return (Message.select().where(Message.ticket == ticket, Message.recipient_type == kind,
                                   Message.direction == "outbound", Message.status != "replied")
            .order_by(Message.id.desc()).get().body)


def count(kind: str, ticket: Ticket | None = None) -> int:
    query = Event.select().where(Event.type == kind)
    return query.where(Event.ticket == ticket).count() if ticket is not None else query.count()


def appointments() -> list[tuple]:
    return list(Appointment.select().order_by(Appointment.id).tuples())


# -- the vendor ---------------------------------------------------------------------------


@pytest.mark.parametrize("when, starts, ends, local", [
    ("3pm", datetime(2026, 3, 4, 21, 0), datetime(2026, 3, 4, 23, 0), "Wed Mar 4, 3 PM-5 PM"),
    ("tomorrow 9:30am", datetime(2026, 3, 5, 15, 30), datetime(2026, 3, 5, 17, 30),
     "Thu Mar 5, 9:30 AM-11:30 AM"),
    # next Tuesday is after the change to daylight time (8 March): 10am CDT is 15:00 UTC
    ("Tue 10am", datetime(2026, 3, 10, 15, 0), datetime(2026, 3, 10, 17, 0),
     "Tue Mar 10, 10 AM-12 PM"),
])
def test_a_yes_naming_a_time_books_that_time(ticket, acme, code, text, when, starts, ends,
                                             local):
    answer = said(text(acme, f"YES {code} {when}"))
    assert f"Visit {local}; we asked the tenant to confirm." in answer
    assert f"DONE {code}" in answer and f"CANCEL {code}" in answer
    visit = visit_of(ticket)
    assert (visit.status, visit.starts_at, visit.ends_at) == ("tentative", starts, ends)
    assert status_of(ticket) == "scheduled"
    [question] = Question.select().where(Question.appointment == visit)
    assert (question.kind, question.phone, question.closed_at) == (
        "confirm", ticket.tenant.phone, None)


def test_a_yes_with_words_that_are_no_time_books_nothing(ticket, acme, code, text):
    answer = said(text(acme, f"YES {code} blah"))
    assert answer.startswith(english(visit_times.UNREADABLE))
    assert visit_times.EXAMPLE in answer and f"YES {code} tomorrow 9:30am" in answer
    assert not Appointment.select().exists()
    assert status_of(ticket) == "dispatching"
    assert Ping.get(Ping.code == code).outcome == "pending"


def test_time_moves_the_visit_and_asks_the_tenant(booked, acme, code, text, ticket):
    answer = said(text(acme, f"TIME {code} tomorrow 10am"))
    assert answer == (f"Job {code}: visit set for Thu Mar 5, 10 AM-12 PM. We asked the tenant "
                      "to confirm.")
    visit = visit_of(ticket)
    assert (visit.starts_at, visit.ends_at) == (datetime(2026, 3, 5, 16), datetime(2026, 3, 5, 18))
    assert last_to("tenant", ticket) == (
        "Fixline: Acme Plumbing will come for your plumbing repair Thu Mar 5, 10 AM-12 PM. "
        + templates.CONFIRM_ASK)
    assert count("visit.time_set", ticket) == 1


@pytest.mark.parametrize("words, problem", [
    ("gibberish", english(visit_times.UNREADABLE)),
    ("yesterday 3pm", english(visit_times.PASSED)),
    ("", english(visit_times.UNREADABLE)),
])
def test_time_that_cannot_be_read_gets_an_example_and_changes_nothing(
        booked, acme, code, text, words, problem):
    before = appointments()
    answer = said(text(acme, f"TIME {code} {words}"))
    assert answer == (f"{problem} Reply TIME {code} <when>, for example TIME {code} "
                      "tomorrow 9:30am.")
    assert appointments() == before
    assert count("visit.time_set") == 0


def test_done_with_a_photo_completes_the_job_and_keeps_the_photo(
        booked, acme, code, ticket, signed_post, fake_twilio, bus):
    url = fake_twilio.add_media(JPEG)
    form = {"MessageSid": new_sid("MM"), "AccountSid": fake_twilio.account_sid,
            "From": phone(acme), "To": FIXLINE_NUMBER, "Body": f"DONE {code}",
            "NumMedia": "1", "MediaUrl0": url, "MediaContentType0": "image/jpeg"}
    assert said(signed_post(SMS, form)) == templates.reply_done(code)
    assert status_of(ticket) == "completed"
    visit = visit_of(ticket)
    assert visit.status == "completed" and visit.completed_at == clock.now()
    done = Event.get(Event.type == "appointment.completed")
    assert (done.data["photos"], done.actor) == (1, f"vendor:{acme.id}")
    assert last_to("tenant", ticket) == (
        f"Fixline: Acme Plumbing marked your plumbing repair done. {templates.RATE_ASK}")

    assert not TicketPhoto.select().exists()  # fetched after the answer, by the handler
    bus.run_events()
    [photo] = TicketPhoto.select()
    assert (photo.ticket_id, photo.source, photo.source_url, photo.size) == (
        ticket.id, "vendor", url, len(JPEG))


@pytest.mark.parametrize("word", ["DONE {code}", "DONE"])
def test_done_twice_says_it_is_already_done(booked, acme, code, text, ticket, word):
    assert said(text(acme, word.format(code=code))) == templates.reply_done(code)
    assert said(text(acme, word.format(code=code))) == templates.reply_job_done(code)
    assert count("appointment.completed", ticket) == 1


def test_cancel_with_the_code_hands_the_job_back(booked, acme, code, text, ticket, office):
    assert said(text(acme, f"CANCEL {code}")) == templates.reply_handed_back(code)
    visit = visit_of(ticket)
    assert visit.status == "cancelled"
    assert Event.get(Event.type == "appointment.cancelled").data["by"] == "vendor"
    assert status_of(ticket) == "dispatching"
    assert pending(ticket).vendor_id == office.vendors["Best Pipes"].id
    assert Vendor.get_by_id(acme.id).opted_out is False
    assert "Acme Plumbing handed back" in last_to("landlord", ticket)
    assert "Acme Plumbing can no longer come" in last_to("tenant", ticket)


def test_a_bare_cancel_is_still_the_carriers_opt_out(booked, acme, text, ticket):
    assert said(text(acme, "CANCEL")) == templates.reply_stopped("vendor")
    assert Vendor.get_by_id(acme.id).opted_out is True
    assert visit_of(ticket).status == "tentative"  # STOP stops messages, not the job
    assert count("appointment.cancelled") == 0


def test_a_visit_word_for_a_job_not_held_is_answered_so(booked, office, code, text, ticket):
    best = office.vendors["Best Pipes"]
    assert said(text(best, f"DONE {code}")) == templates.reply_no_visit(code)
    assert said(text(best, "TIME tomorrow 9am")) == templates.reply_no_visit(None)
    assert status_of(ticket) == "scheduled"


# -- the tenant -----------------------------------------------------------------------------


def tenant(office, text, body: str, **kwargs):
    return text(office.tenant.phone, body, **kwargs)


def test_the_tenant_confirms_the_time(booked, office, text, ticket):
    answer = said(tenant(office, text, "YES"))
    assert answer == "Thanks: your visit with Acme Plumbing Wed Mar 4, 2 PM-5 PM is confirmed."
    visit = visit_of(ticket)
    assert (visit.status, visit.confirmed_at) == ("confirmed", clock.now())
    assert "confirmed the visit" in last_to("vendor", ticket)
    # the question is answered: another YES is not a second confirmation
    assert said(tenant(office, text, "YES")) == templates.reply_help("tenant")
    assert count("visit.confirmed") == 1


def test_the_tenant_cannot_make_the_time(booked, office, text, ticket, code):
    answer = said(tenant(office, text, "no"))
    assert answer == templates.reply_visit_refused(visit_of(ticket))
    visit = visit_of(ticket)
    assert (visit.status, visit.time_refused_at) == ("tentative", clock.now())
    assert f"Reply TIME {code} <when>" in last_to("vendor", ticket)
    assert count("visit.time_refused") == 1


@pytest.fixture
def asked_came(booked, ticket, config, fake_clock) -> Question:
    """An hour after the visit's end (5pm) the sweep asked the tenant whether Acme came."""
    fake_clock.set(datetime(2026, 3, 5, 0, 0))  # 6pm in Chicago
    assert sweep.run(config)["checked"] == 1
    assert last_to("tenant", ticket) == "Fixline: Did Acme Plumbing come? Reply YES or NO."
    return Question.get(Question.kind == "came")


def test_yes_they_came_completes_the_job(asked_came, office, text, ticket):
    assert said(tenant(office, text, "Yes")) == "Thanks for telling us."
    assert status_of(ticket) == "completed"
    assert visit_of(ticket).status == "completed"
    assert Question.get_by_id(asked_came.id).answer == "yes"
    assert Question.get(Question.kind == "rate").closed_at is None
    assert last_to("tenant", ticket).endswith(templates.RATE_ASK)


def test_no_they_did_not_come_asks_the_next_vendor(asked_came, office, text, ticket):
    assert said(tenant(office, text, "NO")) == templates.reply_came_no()
    assert visit_of(ticket).status == "no_show"
    assert count("vendor.no_show", ticket) == 1
    assert status_of(ticket) == "dispatching"
    assert pending(ticket).vendor_id == office.vendors["Best Pipes"].id
    assert "did not come" in last_to("landlord", ticket)


@pytest.fixture
def done(booked, acme, code, text, ticket, fake_clock) -> Appointment:
    """Acme texted DONE at 5pm; the tenant was asked to rate the visit."""
    fake_clock.set(datetime(2026, 3, 4, 23, 0))
    text(acme, f"DONE {code}")
    assert status_of(ticket) == "completed"
    return visit_of(ticket)


@pytest.mark.parametrize("body, stars", [("4", 4), ("5 stars", 5), ("1", 1), ("2/5", 2)])
def test_the_tenant_rates_the_visit(done, office, text, body, stars):
    assert said(tenant(office, text, body)) == templates.reply_rated(stars)
    assert visit_of(done.ticket).rating == stars
    [feedback] = Event.select().where(Event.type == "feedback.received")
    assert feedback.data["rating"] == stars


def test_not_fixed_reopens_and_asks_the_same_vendor_first(done, office, text, ticket, acme,
                                                          fake_clock):
    fake_clock.advance(6 * 24 * 3600)
    assert said(tenant(office, text, "not fixed")) == templates.reply_reopened(acme)
    assert status_of(ticket) == "dispatching"
    assert count("ticket.reopened", ticket) == 1
    assert pending(ticket).vendor_id == acme.id


def test_not_fixed_after_a_rating_still_reopens(done, office, text, ticket, acme):
    tenant(office, text, "3")
    assert said(tenant(office, text, "NOT FIXED")) == templates.reply_reopened(acme)
    assert pending(ticket).vendor_id == acme.id


def test_not_fixed_after_the_window_is_refused(done, office, text, ticket, fake_clock, config):
    fake_clock.advance(config.reopen_window + 1)
    assert said(tenant(office, text, "NOT FIXED")) == templates.reply_not_reopened()
    assert status_of(ticket) == "completed"
    assert count("ticket.reopened") == 0


@pytest.mark.parametrize("body", ["hello", "YES", "NO", "4", "NOT FIXED"])
def test_a_tenant_with_nothing_open_gets_the_tenant_help(office, ticket, text, body):
    response = tenant(office, text, body)
    assert said(response) == templates.reply_help("tenant")
    assert status_of(ticket) == "dispatching"


@pytest.mark.parametrize("body", ["hello", "YES", "4", "NOT FIXED"])
def test_a_landlord_with_no_question_gets_the_landlord_help(office, ticket, text, body):
    assert said(text(office.landlord.phone, body)) == templates.reply_help("landlord")
    assert status_of(ticket) == "dispatching"


# -- repeats and shared phones -----------------------------------------------------------------


@pytest.mark.parametrize("who, body", [
    ("vendor", "DONE {code}"), ("vendor", "TIME {code} tomorrow 10am"),
    ("vendor", "CANCEL {code}"), ("tenant", "YES"), ("tenant", "NO")])
def test_the_same_message_twice_has_one_effect_and_one_answer(booked, office, acme, code,
                                                              text, who, body):
    sender = phone(acme) if who == "vendor" else office.tenant.phone
    sid = new_sid()
    first = said(text(sender, body.format(code=code), sid=sid))
    rows = (appointments(), Event.select().count(), Ping.select().count(),
            Message.select().where(Message.direction == "outbound").count())
    again = said(text(sender, body.format(code=code), sid=sid))
    assert again == first
    assert (appointments(), Event.select().count(), Ping.select().count(),
            Message.select().where(Message.direction == "outbound").count()) == rows


@pytest.fixture
def tenant_vendor(office) -> Vendor:
    """The tenant also fixes heating, from the same phone (asked first for hvac jobs)."""
    return create_vendor(office.landlord, {
        "name": "Tina Fixes", "phones": [office.tenant.phone], "preferred_channel": "sms",
        "specialties": ["hvac"], "priority": 1, "hours": "24/7"})


def test_for_a_tenant_who_is_a_vendor_a_newer_offer_wins(booked, tenant_vendor, open_job,
                                                         office, text, ticket, fake_clock):
    fake_clock.advance(60)  # the confirm question was asked at 9:00, the offer comes at 9:01
    heating = open_job(category="hvac")
    offer = pending(heating)
    assert offer.vendor_id == tenant_vendor.id
    assert said(tenant(office, text, "YES")).startswith(f"You have job {offer.code}")
    assert status_of(heating) == "scheduled"
    assert visit_of(ticket).status == "tentative"  # the question stays open
    assert Question.get(Question.appointment == visit_of(ticket)).closed_at is None


def test_for_a_tenant_who_is_a_vendor_a_newer_question_wins(office, tenant_vendor, open_job,
                                                            text, acme, fake_clock):
    heating = open_job(category="hvac")
    offer = pending(heating)
    fake_clock.advance(60)
    plumbing = open_job()
    text(acme, f"YES {pending(plumbing).code}")  # the tenant is asked to confirm at 9:01
    assert said(tenant(office, text, "YES")).startswith("Thanks: your visit with Acme Plumbing")
    assert visit_of(plumbing).status == "confirmed"
    assert Ping.get_by_id(offer.id).outcome == "pending"
    assert status_of(heating) == "dispatching"
    # the job code still reaches the offer
    assert said(tenant(office, text, f"YES {offer.code}")).startswith(f"You have job {offer.code}")
    assert status_of(heating) == "scheduled"


def test_words_about_a_job_handed_back_say_so(booked, acme, code, text, ticket):
    assert said(text(acme, f"CANCEL {code}")) == templates.reply_handed_back(code)
    handed_back = f"Job {code} is cancelled: you handed it back. No action needed, thanks."
    for word in (f"CANCEL {code}", f"DONE {code}", f"TIME {code} tomorrow 9am"):
        assert said(text(acme, word)) == handed_back  # not "cancelled by the landlord"
    assert count("appointment.cancelled", ticket) == 1
    assert visit_of(ticket).status == "cancelled"


def test_words_about_a_visit_the_landlord_cancelled_say_so(booked, acme, code, text, ticket,
                                                           config):
    visits.hand_back(booked.id, actor=f"landlord:{ticket.landlord_id}", config=config)
    assert said(text(acme, f"DONE {code}")) == templates.reply_job_cancelled(code)


@pytest.mark.parametrize("digits", ["7739", "34AM"])
def test_a_job_code_that_looks_like_digits_is_still_a_code(booked, acme, text, ticket, digits):
    """A code of the alphabet's digits (3, 4, 7, 9) is never a clock time: hour 77 or 34."""
    Ping.update(code=digits).where(Ping.id == booked.ping_id).execute()
    assert said(text(acme, f"CANCEL {digits}")) == templates.reply_handed_back(digits)
    assert visit_of(ticket).status == "cancelled"


# Codes that are also time words: "YES TMRW 9am" means tomorrow. dispatch.new_code should
# never issue them (reported); every other code reads as a code.
TIME_WORD_CODES = {"NEXT", "TMRW", "WEEK"}


def test_every_other_job_code_reads_as_a_code(app):
    codes = map("".join, itertools.product(dispatch.CODE_ALPHABET, repeat=dispatch.CODE_LENGTH))
    unread = {code for code in codes if replies.parse(f"CANCEL {code}").code != code}
    assert unread == TIME_WORD_CODES


def test_no_code_that_reads_as_a_time_is_ever_issued(app, monkeypatch):
    """new_code skips the few codes a reply would read as a time word."""
    words = iter(["NEXT", "TMRW", "WEEK", "K7Q2"])
    monkeypatch.setattr(dispatch, "CODE_LENGTH", 1)
    monkeypatch.setattr(dispatch.secrets, "choice", lambda alphabet: next(words))
    assert dispatch.new_code(Vendor(id=1)) == "K7Q2"
