"""The visit after the YES (CONTRACT.md §9): its time, the tenant's answer, reminders, the
no-show question, done and rating, NOT FIXED, handing back; each safe twice, on a fake clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from app import events
from app.booking import answers, closing, loop, questions, sweep, visits
from app.config import Config
from app.messaging import templates
from app.models import MODELS, Appointment, Message, Question, Ticket, Vendor
from tests.engine.conftest import CHICAGO, asked, events_of, fresh, messages_to, pending

HOUR = 3600
DAY = 24 * HOUR


def at(days: int, hour: int, minute: int = 0) -> datetime:
    """A Chicago wall time `days` after Wednesday 4 March 2026, as naive UTC."""
    wall = datetime(2026, 3, 4 + days, hour, minute, tzinfo=ZoneInfo(CHICAGO))
    return wall.astimezone(UTC).replace(tzinfo=None)


@pytest.fixture
def config(database_url, tmp_path) -> Config:
    """§9's settings read from the environment, as the app reads them."""
    return Config.from_env({
        "DATABASE_URL": database_url, "REDIS_URL": "stub://",
        "FIXLINE_INSTANCE_PATH": str(tmp_path / "instance"),
        "VISIT_REMINDER_SECONDS": "86400,3600", "NO_SHOW_GRACE_SECONDS": "3600",
        "REOPEN_WINDOW_SECONDS": "604800"}, testing=True)


@pytest.fixture
def three(make_vendor):
    """Ann, Bob and Cy: equal plumbers, asked in that order."""
    return make_vendor("Ann"), make_vendor("Bob"), make_vendor("Cy")


@pytest.fixture
def dispatched(bus, intake, three):
    """A routine plumbing job, the tenant in today 2-5pm: Ann holds the offer."""
    ticket = intake(window="today 2-5pm")
    bus.run_events()
    return ticket


@pytest.fixture
def booked(dispatched, bus, config) -> Appointment:
    """Ann said YES without a time: her visit is today 2-5pm, the booking notices sent."""
    assert loop.accept(pending(dispatched).id, "sms", config) == "booked"
    bus.run_events()
    return visit_of(dispatched)


def visit_of(ticket: Ticket) -> Appointment:
    """The ticket's newest appointment, as stored now."""
    return Appointment.select().where(Appointment.ticket == ticket).order_by(
        Appointment.id.desc()).get()


def bodies(kind: str, ticket: Ticket) -> list[str]:
    return [m.body for m in messages_to(kind, ticket)]


def reminders(kind: str, ticket: Ticket) -> list[str]:
    """Visit reminders sent to a recipient type ("Fixline reminder: …", "Fixline job K7Q2
    reminder: …")."""
    return [m.body for m in messages_to(kind, ticket)
            if m.body.split(":")[0].endswith(" reminder")]


def open_questions(ticket: Ticket) -> list[tuple[str, int]]:
    """(kind, appointment id) of the ticket's open questions."""
    return [(q.kind, q.appointment_id) for q in Question.select().where(
        Question.ticket == ticket, Question.closed_at.is_null()).order_by(Question.id)]


def snapshot() -> dict[str, list[tuple]]:
    return {model.__name__: list(model.select().order_by(model.id).tuples()) for model in MODELS}


def replay_sends_nothing(config) -> None:
    before = Message.select().count()
    events.replay(config)
    assert Message.select().count() == before


def sweep_at(moment: datetime, fake_clock, config, bus) -> dict[str, int]:
    fake_clock.set(moment)
    counts = sweep.run(config)
    bus.run_events()
    return counts


def vendor_actor(visit: Appointment) -> str:
    return f"vendor:{visit.vendor_id}"


def tenant_actor(ticket: Ticket) -> str:
    return f"tenant:{ticket.tenant_id}"


def landlord_actor(ticket: Ticket) -> str:
    return f"landlord:{ticket.landlord_id}"


# -- a YES and its time ---------------------------------------------------------------------


@pytest.mark.parametrize("when, starts, ends", [
    ((at(0, 15), None), at(0, 15), at(0, 17)),  # inside the window: it ends where it does
    ((at(0, 18), None), at(0, 18), at(0, 20)),  # after the window: two hours
    ((at(0, 15), at(0, 16)), at(0, 15), at(0, 16)),  # an end said is kept
])
def test_a_yes_with_a_time_books_that_time(dispatched, bus, config, fake_clock, when, starts,
                                           ends):
    offer = pending(dispatched)
    assert loop.accept(offer.id, "sms", config, when=when) == "booked"
    visit = visit_of(dispatched)
    assert (visit.status, visit.starts_at, visit.ends_at) == ("tentative", starts, ends)
    assert visit.no_show_at == ends + timedelta(seconds=config.no_show_grace)
    assert visit.remind_at == starts - timedelta(seconds=HOUR)  # the day-before one had passed
    assert open_questions(dispatched) == [("confirm", visit.id)]
    bus.run_events()
    [to_tenant] = bodies("tenant", dispatched)
    assert templates.CONFIRM_ASK in to_tenant and "Ann" in to_tenant
    assert "Visit " in answers.answer("accept", offer.id, config)


def test_a_yes_without_a_time_takes_the_tenants_window(booked, config):
    assert (booked.starts_at, booked.ends_at) == (at(0, 14), at(0, 17))
    assert booked.remind_at == at(0, 13)
    ticket = fresh(booked.ticket)
    offer = booked.ping
    assert "Visit Wed Mar 4, 2 PM-5 PM; we asked the tenant to confirm." in answers.answer(
        "accept", offer.id, config)
    assert open_questions(ticket) == [("confirm", booked.id)]
    [to_tenant] = bodies("tenant", ticket)
    assert "Wed Mar 4, 2 PM-5 PM" in to_tenant and templates.CONFIRM_ASK in to_tenant


def test_a_window_naming_no_time_leaves_the_start_for_the_vendor_to_set(
        bus, intake, three, config):
    ticket = intake(window="any time")
    bus.run_events()
    offer = pending(ticket)
    assert loop.accept(offer.id, "sms", config) == "booked"
    bus.run_events()
    visit = visit_of(ticket)
    assert (visit.starts_at, visit.ends_at, visit.remind_at, visit.no_show_at) == (
        None, None, None, None)
    assert f"Reply TIME {offer.code} <when>" in answers.answer("accept", offer.id, config)
    assert open_questions(ticket) == []  # nothing to confirm yet
    assert not any(templates.CONFIRM_ASK in body for body in bodies("tenant", ticket))
    with pytest.raises(visits.VisitError):
        visits.confirm(visit.id, actor=tenant_actor(ticket))

    visits.set_time(visit.id, at(1, 10), None, actor=vendor_actor(visit), config=config)
    visit = visit_of(ticket)
    assert (visit.starts_at, visit.ends_at) == (at(1, 10), at(1, 12))
    assert open_questions(ticket) == [("confirm", visit.id)]


# -- setting and moving the time --------------------------------------------------------------


def test_a_vendor_moving_the_time_asks_the_tenant_again(booked, bus, config, fake_clock):
    ticket = booked.ticket
    [first] = Question.select().where(Question.appointment == booked)
    vendor_texts = len(bodies("vendor", ticket))
    fake_clock.advance(60)
    moved = visits.set_time(booked.id, at(1, 10), None, actor=vendor_actor(booked),
                            config=config)
    visit = visit_of(ticket)
    assert (visit.status, visit.starts_at, visit.ends_at) == ("tentative", at(1, 10), at(1, 12))
    assert (moved.starts_at, moved.ends_at) == (visit.starts_at, visit.ends_at)
    assert visit.remind_at == at(0, 10)  # a day before
    assert visit.no_show_at == at(1, 13)  # the end and an hour's grace
    first = Question.get_by_id(first.id)
    assert (first.closed_at, first.answer) == (fake_clock.now, "superseded")
    assert open_questions(ticket) == [("confirm", visit.id)]
    assert bodies("tenant", ticket)[-1] == (
        "Fixline: Ann will come for your plumbing repair Thu Mar 5, 10 AM-12 PM. "
        + templates.CONFIRM_ASK)
    [event] = events_of(ticket, "visit.time_set")
    assert (event.actor, event.data["startsAt"], event.data["endsAt"]) == (
        vendor_actor(booked), "2026-03-05T16:00:00.000Z", "2026-03-05T18:00:00.000Z")
    assert len(bodies("vendor", ticket)) == vendor_texts  # they set it: no text to them
    replay_sends_nothing(config)


def test_a_new_time_unconfirms_and_clears_a_refusal(booked, config, fake_clock):
    ticket = booked.ticket
    assert visits.confirm(booked.id, actor=tenant_actor(ticket)) == "confirmed"
    visit = visit_of(ticket)
    assert (visit.status, visit.confirmed_at) == ("confirmed", fake_clock.now)
    visits.set_time(booked.id, at(1, 10), None, actor=vendor_actor(booked), config=config)
    visit = visit_of(ticket)
    assert (visit.status, visit.confirmed_at) == ("tentative", None)

    assert visits.refuse(booked.id, actor=tenant_actor(ticket)) == "refused"
    visit = visit_of(ticket)
    assert visit.time_refused_at == fake_clock.now
    fake_clock.advance(60)
    visits.set_time(booked.id, at(2, 10), None, actor=vendor_actor(booked), config=config)
    visit = visit_of(ticket)
    assert (visit.time_refused_at, visit.status, visit.remind_at) == (None, "tentative",
                                                                      at(1, 10))
    assert open_questions(ticket) == [("confirm", visit.id)]


def test_a_landlord_setting_the_time_also_tells_the_vendor(booked, config):
    ticket = booked.ticket
    sent = len(bodies("vendor", ticket))
    visits.set_time(booked.id, at(6, 10), at(6, 11), actor=landlord_actor(ticket),
                    config=config)
    to_vendor = bodies("vendor", ticket)[sent:]
    assert to_vendor == [f"Fixline job {booked.ping.code}: the visit at "
                         f"{ticket.property.address} is now Tue Mar 10, 10 AM-11 AM. "
                         "We asked the tenant to confirm."]  # daylight time by then
    assert "Tue Mar 10, 10 AM-11 AM" in bodies("tenant", ticket)[-1]
    assert visit_of(ticket).starts_at == datetime(2026, 3, 10, 15, 0)  # CDT, UTC-5


@pytest.mark.parametrize("starts, ends", [
    (at(0, 8), None),  # an hour ago
    (at(1, 10), at(1, 10)),  # ends as it starts
    (at(1, 10), at(1, 9)),  # ends before it starts
])
def test_a_past_or_backwards_time_is_refused_and_changes_nothing(booked, config, starts, ends):
    before = snapshot()
    with pytest.raises(visits.VisitError):
        visits.set_time(booked.id, starts, ends, actor=vendor_actor(booked), config=config)
    assert snapshot() == before


def test_the_same_time_twice_sends_nothing_again(booked, config, fake_clock):
    ticket = booked.ticket
    visits.set_time(booked.id, at(1, 10), None, actor=landlord_actor(ticket), config=config)
    sent, asked_ = Message.select().count(), Question.select().count()
    fake_clock.advance(60)
    visits.set_time(booked.id, at(1, 10), None, actor=landlord_actor(ticket), config=config)
    visits.set_time(booked.id, at(1, 10), at(1, 12), actor=vendor_actor(booked), config=config)
    assert (Message.select().count(), Question.select().count()) == (sent, asked_)
    assert len(events_of(ticket, "visit.time_set")) == 1


def test_a_time_for_a_visit_that_ended_is_refused(booked, config):
    with pytest.raises(LookupError):
        visits.set_time(booked.id + 1000, at(1, 10), None, actor="api", config=config)
    visits.hand_back(booked.id, actor=vendor_actor(booked), config=config)
    before = snapshot()
    with pytest.raises(visits.NotActive):
        visits.set_time(booked.id, at(1, 10), None, actor="api", config=config)
    assert snapshot() == before


# -- the tenant's answer ------------------------------------------------------------------------


def test_the_tenant_confirms_once(booked, config, fake_clock):
    ticket = booked.ticket
    sent = len(bodies("vendor", ticket))
    assert visits.confirm(booked.id, actor=tenant_actor(ticket)) == "confirmed"
    assert visits.confirm(booked.id, actor=tenant_actor(ticket)) == "already"
    visit = visit_of(ticket)
    assert (visit.status, visit.confirmed_at) == ("confirmed", fake_clock.now)
    [event] = events_of(ticket, "visit.confirmed")
    assert (event.actor, event.data["appointmentId"]) == (tenant_actor(ticket), visit.id)
    assert bodies("vendor", ticket)[sent:] == [
        f"Fixline job {booked.ping.code}: {ticket.tenant.name} confirmed the visit "
        f"Wed Mar 4, 2 PM-5 PM at {ticket.property.address}."]
    assert open_questions(ticket) == []
    assert visit.remind_at == at(0, 13)  # still reminded
    replay_sends_nothing(config)


def test_the_tenant_refuses_once_and_the_vendor_is_asked_for_another_time(booked, config,
                                                                          fake_clock):
    ticket = booked.ticket
    sent = len(bodies("vendor", ticket))
    assert visits.refuse(booked.id, actor=tenant_actor(ticket)) == "refused"
    fake_clock.advance(60)
    assert visits.refuse(booked.id, actor=tenant_actor(ticket)) == "already"
    visit = visit_of(ticket)
    assert (visit.status, visit.time_refused_at) == ("tentative", fake_clock.now - timedelta(
        seconds=60))
    assert (visit.remind_at, visit.no_show_at) == (None, None)  # not for a time that won't do
    [event] = events_of(ticket, "visit.time_refused")
    assert event.actor == tenant_actor(ticket)
    [to_vendor] = bodies("vendor", ticket)[sent:]
    assert to_vendor.startswith(f"Fixline job {booked.ping.code}: {ticket.tenant.name} cannot "
                                "make Wed Mar 4, 2 PM-5 PM. Reply TIME ")
    assert open_questions(ticket) == []
    assert fresh(ticket).status == "scheduled"
    replay_sends_nothing(config)


# -- reminders ------------------------------------------------------------------------------


@pytest.fixture
def friday(dispatched, bus, config) -> Appointment:
    """Ann said YES for Friday 10am (two days ahead): a reminder on Thursday 10am and 9am."""
    loop.accept(pending(dispatched).id, "sms", config, when=(at(2, 10), None))
    bus.run_events()
    visit = visit_of(dispatched)
    assert (visit.starts_at, visit.remind_at) == (at(2, 10), at(1, 10))
    return visit


def reminded(ticket: Ticket) -> list[int]:
    return [e.data["secondsBefore"] for e in events_of(ticket, "visit.reminded")]


def test_one_reminder_per_offset_to_tenant_and_vendor(friday, bus, config, fake_clock):
    ticket = friday.ticket
    start = friday.starts_at
    assert sweep_at(start - timedelta(seconds=DAY + 1), fake_clock, config, bus)["reminded"] == 0
    assert sweep_at(start - timedelta(seconds=DAY), fake_clock, config, bus)["reminded"] == 1
    assert sweep_at(start - timedelta(seconds=DAY - 60), fake_clock, config, bus)[
        "reminded"] == 0
    assert (len(reminders("tenant", ticket)), len(reminders("vendor", ticket))) == (1, 1)
    assert sweep_at(start - timedelta(seconds=HOUR + 1), fake_clock, config, bus)[
        "reminded"] == 0
    assert sweep_at(start - timedelta(seconds=HOUR), fake_clock, config, bus)["reminded"] == 1
    for minutes in (1, 30, 59, 61, 600):
        sweep_at(start - timedelta(seconds=HOUR) + timedelta(minutes=minutes), fake_clock,
                 config, bus)
    assert reminders("tenant", ticket) == [
        "Fixline reminder: Ann comes for your plumbing repair Fri Mar 6, 10 AM-12 PM."] * 2
    to_vendor = reminders("vendor", ticket)
    assert len(to_vendor) == 2 and to_vendor[0] == to_vendor[1]
    assert to_vendor[0].startswith(f"Fixline job {friday.ping.code} reminder: plumbing")
    assert reminded(ticket) == [DAY, HOUR]
    assert visit_of(ticket).remind_at is None
    replay_sends_nothing(config)


def test_a_reminder_is_sent_once_even_when_its_deadline_was_not_moved_on(
        friday, bus, config, fake_clock):
    """A crash after the reminder was queued but before remind_at moved: it is not resent."""
    ticket = friday.ticket
    sweep_at(at(1, 10), fake_clock, config, bus)
    Appointment.update(remind_at=at(1, 10)).where(Appointment.id == friday.id).execute()
    sweep_at(at(1, 10, 5), fake_clock, config, bus)
    assert (len(reminders("tenant", ticket)), len(reminders("vendor", ticket))) == (1, 1)


def test_only_reminders_still_ahead_when_the_time_was_set(booked, bus, config, fake_clock):
    ticket = booked.ticket
    visits.set_time(booked.id, at(0, 11), None, actor=vendor_actor(booked), config=config)
    for minutes in range(0, 180, 5):
        sweep_at(at(0, 9) + timedelta(minutes=minutes), fake_clock, config, bus)
    assert reminded(ticket) == [HOUR]
    assert (len(reminders("tenant", ticket)), len(reminders("vendor", ticket))) == (1, 1)


def test_a_late_sweep_sends_only_the_nearer_reminder(friday, bus, config, fake_clock):
    ticket = friday.ticket
    assert sweep_at(at(2, 9, 30), fake_clock, config, bus)["reminded"] == 1
    assert sweep_at(at(2, 9, 40), fake_clock, config, bus)["reminded"] == 0
    assert reminded(ticket) == [HOUR]
    assert (len(reminders("tenant", ticket)), len(reminders("vendor", ticket))) == (1, 1)


def test_a_sweep_after_the_start_sends_no_reminder(friday, bus, config, fake_clock):
    sweep_at(at(2, 10, 1), fake_clock, config, bus)
    assert reminded(friday.ticket) == []
    assert visit_of(friday.ticket).remind_at is None


def test_a_new_time_re_arms_both_reminders(friday, bus, config, fake_clock):
    ticket = friday.ticket
    sweep_at(at(1, 10), fake_clock, config, bus)  # the day-before reminder for Friday
    fake_clock.set(at(1, 10, 5))
    visits.set_time(friday.id, at(3, 10), None, actor=vendor_actor(friday), config=config)
    assert visit_of(ticket).remind_at == at(2, 10)
    for moment in (at(2, 9), at(2, 10), at(2, 11), at(3, 9), at(3, 9, 30), at(3, 11)):
        sweep_at(moment, fake_clock, config, bus)
    assert reminded(ticket) == [DAY, DAY, HOUR]
    tenant = reminders("tenant", ticket)
    assert ["Fri Mar 6" in body for body in tenant] == [True, False, False]
    assert all("Sat Mar 7, 10 AM-12 PM" in body for body in tenant[1:])
    assert len(reminders("vendor", ticket)) == 3


def test_no_reminder_for_a_visit_no_longer_active(friday, bus, config, fake_clock):
    ticket = friday.ticket
    visits.hand_back(friday.id, actor=vendor_actor(friday), config=config)
    assert visit_of(ticket).remind_at is None
    # a deadline left behind on a visit that ended (an older row, a bug) sends nothing either
    Appointment.update(remind_at=at(1, 10)).where(Appointment.id == friday.id).execute()
    for moment in (at(1, 10), at(2, 9), at(2, 9, 30)):
        sweep_at(moment, fake_clock, config, bus)
    assert reminded(ticket) == []
    assert reminders("tenant", ticket) == []
    assert visit_of(ticket).remind_at is None


def test_a_cancelled_ticket_reminds_nobody(friday, bus, config, fake_clock, landlord):
    closing.cancel(fresh(friday.ticket), actor=f"landlord:{landlord.id}")
    for moment in (at(1, 10), at(2, 9)):
        sweep_at(moment, fake_clock, config, bus)
    assert reminded(friday.ticket) == []


# -- the no-show question --------------------------------------------------------------------


def came_questions(ticket: Ticket) -> list[str]:
    return [body for body in bodies("tenant", ticket) if body.startswith("Fixline: Did ")]


@pytest.fixture
def missed(booked, bus, config, fake_clock) -> Question:
    """The visit (2-5pm) ended an hour ago: the tenant was asked whether Ann came."""
    ticket = booked.ticket
    assert sweep_at(at(0, 18) - timedelta(seconds=1), fake_clock, config, bus)["checked"] == 0
    assert came_questions(ticket) == []
    assert sweep_at(at(0, 18), fake_clock, config, bus)["checked"] == 1
    assert sweep_at(at(0, 19), fake_clock, config, bus)["checked"] == 0
    assert came_questions(ticket) == ["Fixline: Did Ann come? Reply YES or NO."]
    [check] = events_of(ticket, "visit.check")
    question = questions.open_for(ticket.tenant.phone)
    assert (question.kind, question.appointment_id, check.data["questionId"]) == (
        "came", booked.id, question.id)
    return question


def test_yes_they_came_completes_the_visit(missed, bus, config, fake_clock):
    ticket = missed.ticket
    tenant = tenant_actor(ticket)
    assert visits.came(missed.id, True, actor=tenant, config=config) == "completed"
    assert visits.came(missed.id, True, actor=tenant, config=config) == "completed"
    visit = visit_of(ticket)
    assert (visit.status, visit.completed_at) == ("completed", fake_clock.now)
    assert fresh(ticket).status == "completed"
    assert len(events_of(ticket, "appointment.completed")) == 1
    assert Question.get_by_id(missed.id).answer == "yes"
    assert open_questions(ticket) == [("rate", visit.id)]
    assert bodies("tenant", ticket)[-1].endswith(templates.RATE_ASK)
    assert "marked" not in bodies("tenant", ticket)[-1]  # nobody marked it: the tenant said so
    replay_sends_nothing(config)


def test_no_they_did_not_come_sends_the_job_to_the_next_vendor(missed, bus, config, landlord):
    ticket = missed.ticket
    ann = visit_of(ticket).vendor
    assert visits.came(missed.id, False, actor=tenant_actor(ticket), config=config) == "no_show"
    with pytest.raises(visits.NotActive):
        visits.came(missed.id, False, actor=tenant_actor(ticket), config=config)
    visit = visit_of(ticket)
    assert visit.status == "no_show" and visit.cancelled_at is not None
    [event] = events_of(ticket, "vendor.no_show")
    assert (event.data["vendorId"], event.actor) == (ann.id, tenant_actor(ticket))
    assert fresh(ticket).status == "dispatching"
    assert asked(ticket) == [("Ann", "accepted"), ("Bob", "pending")]
    to_landlord = bodies("landlord", ticket)[-1]
    assert "says Ann did not come" in to_landlord and "asking the next vendor" in to_landlord
    [to_ann] = [m.body for m in messages_to("vendor", ticket)
                if m.recipient_id == ann.id and m.ping_id is None]
    assert to_ann.startswith(f"Fixline job {missed.appointment.ping.code}: the tenant says "
                             "nobody came")

    loop.decline(pending(ticket).id, config)  # Bob
    loop.decline(pending(ticket).id, config)  # Cy
    ticket = fresh(ticket)
    assert (ticket.status, ticket.escalation_reason) == ("escalated", loop.NOBODY_LEFT)
    assert asked(ticket) == [("Ann", "accepted"), ("Bob", "declined"), ("Cy", "declined")]
    # even a new round the landlord starts does not ask Ann again
    loop.redispatch(ticket.id, config, actor=f"landlord:{landlord.id}")
    loop.decline(pending(ticket).id, config)
    loop.decline(pending(ticket).id, config)
    assert [name for name, _ in asked(ticket)].count("Ann") == 1
    bus.run_events()
    replay_sends_nothing(config)


def test_no_no_show_question_for_a_visit_that_ended(booked, bus, config, fake_clock):
    visits.complete(booked.id, actor=vendor_actor(booked))
    Appointment.update(no_show_at=at(0, 18)).where(Appointment.id == booked.id).execute()
    sweep_at(at(0, 18), fake_clock, config, bus)
    assert came_questions(booked.ticket) == []
    assert visit_of(booked.ticket).no_show_at is None


# -- done, rating, NOT FIXED --------------------------------------------------------------------


def test_done_completes_ticket_and_visit_and_asks_for_a_rating(booked, bus, config, fake_clock):
    ticket = booked.ticket
    fake_clock.advance(HOUR)
    assert visits.complete(booked.id, actor=vendor_actor(booked), photos=2) == "completed"
    assert visits.complete(booked.id, actor=vendor_actor(booked)) == "already"
    visit = visit_of(ticket)
    assert (visit.status, visit.completed_at, visit.remind_at, visit.no_show_at) == (
        "completed", fake_clock.now, None, None)
    ticket = fresh(ticket)
    assert (ticket.status, ticket.completed_at) == ("completed", fake_clock.now)
    [done] = events_of(ticket, "appointment.completed")
    assert (done.actor, done.data["photos"], done.data["appointmentId"]) == (
        vendor_actor(booked), 2, visit.id)
    rate_asks = [b for b in bodies("tenant", ticket) if b.endswith(templates.RATE_ASK)]
    assert rate_asks == [f"Fixline: Ann marked your plumbing repair done. {templates.RATE_ASK}"]
    assert open_questions(ticket) == [("rate", visit.id)]
    bus.run_events()
    replay_sends_nothing(config)


def test_done_for_a_visit_handed_back_is_refused(booked, config):
    visits.hand_back(booked.id, actor=vendor_actor(booked), config=config)
    with pytest.raises(visits.NotActive):
        visits.complete(booked.id, actor=vendor_actor(booked))
    assert fresh(booked.ticket).status == "dispatching"


@pytest.mark.parametrize("rating", [1, 2, 3, 4, 5])
def test_a_rating_is_recorded(booked, config, fake_clock, rating):
    ticket = booked.ticket
    visits.complete(booked.id, actor=vendor_actor(booked))
    assert visits.rate(booked.id, rating, actor=tenant_actor(ticket)) == "rated"
    visit = visit_of(ticket)
    assert (visit.rating, visit.rated_at) == (rating, fake_clock.now)
    [feedback] = events_of(ticket, "feedback.received")
    assert (feedback.data["rating"], feedback.actor) == (rating, tenant_actor(ticket))
    assert open_questions(ticket) == []


def test_a_rating_twice_is_recorded_once(booked, config):
    ticket = booked.ticket
    visits.complete(booked.id, actor=vendor_actor(booked))
    visits.rate(booked.id, 4, actor=tenant_actor(ticket))
    visits.rate(booked.id, 4, actor=tenant_actor(ticket))
    assert [e.data["rating"] for e in events_of(ticket, "feedback.received")] == [4]


@pytest.mark.parametrize("rating", [0, 6, -1])
def test_a_rating_out_of_range_is_refused(booked, rating):
    visits.complete(booked.id, actor=vendor_actor(booked))
    with pytest.raises(visits.VisitError):
        visits.rate(booked.id, rating, actor="tenant:1")
    assert visit_of(booked.ticket).rating is None


def test_a_visit_not_done_cannot_be_rated(booked):
    with pytest.raises(visits.NotActive):
        visits.rate(booked.id, 5, actor="tenant:1")


@pytest.fixture
def done_by_bob(dispatched, bus, config, fake_clock) -> Appointment:
    """Ann passed, Bob took the job and did it (Cy was never asked)."""
    loop.decline(pending(dispatched).id, config)
    loop.accept(pending(dispatched).id, "sms", config)
    bus.run_events()
    visit = visit_of(dispatched)
    assert visit.vendor.name == "Bob"
    fake_clock.set(at(0, 17))
    visits.complete(visit.id, actor=vendor_actor(visit))
    return visit_of(dispatched)


def test_not_fixed_within_the_window_asks_the_same_vendor_first(done_by_bob, bus, config,
                                                                fake_clock):
    ticket = done_by_bob.ticket
    fake_clock.set(done_by_bob.completed_at + timedelta(seconds=config.reopen_window - 1))
    assert visits.reopenable(fresh(ticket), config).id == done_by_bob.id
    assert visits.reopen(ticket.id, actor=tenant_actor(ticket), config=config) == "reopened"
    with pytest.raises(visits.VisitError):
        visits.reopen(ticket.id, actor=tenant_actor(ticket), config=config)
    assert fresh(ticket).status == "dispatching"
    [event] = events_of(ticket, "ticket.reopened")
    assert (event.actor, event.data["vendorId"]) == (tenant_actor(ticket), done_by_bob.vendor_id)
    assert asked(ticket) == [("Ann", "declined"), ("Bob", "accepted"), ("Bob", "pending")]
    assert "not fixed" in bodies("landlord", ticket)[-1] and "Bob" in bodies("landlord",
                                                                              ticket)[-1]
    assert open_questions(ticket) == []
    visit = visit_of(ticket)
    assert visit.status == "completed"  # the finished visit stays as it was

    loop.decline(pending(ticket).id, config)  # Bob cannot come back: everyone else may be asked
    loop.decline(pending(ticket).id, config)
    loop.decline(pending(ticket).id, config)
    assert sorted(asked(ticket)[2:]) == [("Ann", "declined"), ("Bob", "declined"),
                                         ("Cy", "declined")]  # Ann, who had passed, too
    assert fresh(ticket).status == "escalated"
    bus.run_events()
    replay_sends_nothing(config)


def test_not_fixed_asks_someone_else_when_the_vendor_opted_out(done_by_bob, config,
                                                               fake_clock):
    ticket = done_by_bob.ticket
    Vendor.update(opted_out=True).where(Vendor.id == done_by_bob.vendor_id).execute()
    fake_clock.advance(DAY)
    assert visits.reopen(ticket.id, actor=tenant_actor(ticket), config=config) == "reopened"
    assert pending(ticket).vendor.name in ("Ann", "Cy")


def test_not_fixed_after_the_window_is_refused(done_by_bob, config, fake_clock):
    ticket = done_by_bob.ticket
    fake_clock.set(done_by_bob.completed_at + timedelta(seconds=config.reopen_window + 1))
    assert visits.reopenable(fresh(ticket), config) is None
    before = snapshot()
    with pytest.raises(visits.VisitError):
        visits.reopen(ticket.id, actor=tenant_actor(ticket), config=config)
    assert snapshot() == before
    assert fresh(ticket).status == "completed"


def test_only_a_completed_ticket_reopens(booked, config):
    with pytest.raises(visits.VisitError):
        visits.reopen(booked.ticket_id, actor="tenant:1", config=config)
    assert fresh(booked.ticket).status == "scheduled"


# -- handing back ---------------------------------------------------------------------------


def test_a_vendor_hands_the_job_back(booked, bus, config, fake_clock):
    ticket = booked.ticket
    sent = {kind: len(bodies(kind, ticket)) for kind in ("tenant", "landlord", "vendor")}
    assert visits.hand_back(booked.id, actor=vendor_actor(booked), config=config,
                            reason="van broke down") == "cancelled"
    with pytest.raises(visits.NotActive):
        visits.hand_back(booked.id, actor=vendor_actor(booked), config=config)
    visit = visit_of(ticket)
    assert (visit.status, visit.cancelled_at, visit.remind_at, visit.no_show_at) == (
        "cancelled", fake_clock.now, None, None)
    [event] = events_of(ticket, "appointment.cancelled")
    assert (event.data["by"], event.data["reason"], event.data["vendorId"]) == (
        "vendor", "van broke down", booked.vendor_id)
    [to_landlord] = bodies("landlord", ticket)[sent["landlord"]:]
    assert "Ann handed back" in to_landlord and "Reason: van broke down." in to_landlord
    [to_tenant] = bodies("tenant", ticket)[sent["tenant"]:]
    assert to_tenant.startswith("Fixline: Ann can no longer come")
    assert fresh(ticket).status == "dispatching"
    assert asked(ticket) == [("Ann", "accepted"), ("Bob", "pending")]
    new_to_vendors = messages_to("vendor", ticket)[sent["vendor"]:]
    assert [m.recipient_id for m in new_to_vendors] == [pending(ticket).vendor_id]  # the offer
    assert open_questions(ticket) == []

    loop.decline(pending(ticket).id, config)
    loop.decline(pending(ticket).id, config)
    assert asked(ticket) == [("Ann", "accepted"), ("Bob", "declined"), ("Cy", "declined")]
    assert fresh(ticket).status == "escalated"
    bus.run_events()
    replay_sends_nothing(config)


def test_the_landlord_cancelling_the_visit_tells_the_vendor(booked, bus, config, landlord):
    ticket = booked.ticket
    sent = {kind: len(bodies(kind, ticket)) for kind in ("tenant", "landlord", "vendor")}
    assert visits.hand_back(booked.id, actor=f"landlord:{landlord.id}", config=config,
                            reason="tenant away") == "cancelled"
    [event] = events_of(ticket, "appointment.cancelled")
    assert (event.data["by"], event.data["reason"]) == ("landlord", "tenant away")
    to_ann = [m.body for m in messages_to("vendor", ticket)[sent["vendor"]:]
              if m.recipient_id == booked.vendor_id]
    assert to_ann == [f"Fixline job {booked.ping.code}: the landlord cancelled your visit for "
                      f"plumbing (routine) at {ticket.property.address}, so please do not go. "
                      "Reason: tenant away."]
    assert len(bodies("tenant", ticket)) == sent["tenant"] + 1
    assert len(bodies("landlord", ticket)) == sent["landlord"]  # they did it themselves
    assert pending(ticket).vendor.name == "Bob"
    replay_sends_nothing(config)


# -- a whole story, replayed -----------------------------------------------------------------


def test_a_whole_visit_replayed_sends_nothing_twice(booked, bus, config, fake_clock):
    ticket = booked.ticket
    visits.set_time(booked.id, at(1, 10), None, actor=landlord_actor(ticket), config=config)
    visits.confirm(booked.id, actor=tenant_actor(ticket))
    for moment in (at(0, 10), at(1, 9)):
        sweep_at(moment, fake_clock, config, bus)
    fake_clock.set(at(1, 11))
    visits.complete(booked.id, actor=vendor_actor(booked))
    visits.rate(booked.id, 5, actor=tenant_actor(ticket))
    bus.settle()
    before = snapshot()
    events.replay(config)
    events.replay(config)
    bus.settle()
    after = snapshot()
    assert after["Message"] == before["Message"]
    assert after["Appointment"] == before["Appointment"]
    assert after["Question"] == before["Question"]
