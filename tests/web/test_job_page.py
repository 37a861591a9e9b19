"""The vendor's job page /j/<token>: what it shows in each state, and each button's effect."""

from __future__ import annotations

import io
import re
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest

from app import clock
from app.booking import closing, loop, visits
from app.booking.intake import Report, open_ticket
from app.booking.vendors import create_vendor
from app.db import transaction
from app.messaging import templates
from app.models import (
    Appointment,
    Event,
    Landlord,
    Message,
    Ping,
    Property,
    Question,
    Tenant,
    Ticket,
    TicketPhoto,
)
from app.web import uploads
from app.web.job_state import street_and_unit
from tests.web.test_safety import audit, check_csp

WEDNESDAY_9AM = datetime(2026, 3, 4, 15, 0)  # Wed 4 Mar 2026, 09:00 in Chicago (CST, UTC-6)
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x02" * 200
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x01" * 200
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
HIDDEN_BEFORE = ("Apt 1A", "Alice Tenant", "+15550007777")
ABOUT_THE_JOB = ("Plumbing", "123 Main Street", "60601", "Kitchen sink leaks", "Dog is friendly",
                 "today 2-5pm", "/photos/")


@pytest.fixture
def now(app):
    """The clock stopped at Wednesday 09:00 in Chicago."""
    clock.set_fake(WEDNESDAY_9AM)
    yield WEDNESDAY_9AM
    clock.set_fake(None)


def tenant_photo(ticket: Ticket, data: bytes = JPEG, content_type: str = "image/jpeg"):
    written = uploads.write([uploads.Photo(data, content_type, "sink.jpg")])
    with transaction():
        uploads.record(ticket, written)
    return TicketPhoto.get(TicketPhoto.filename == written[0][1].name)


def report_ticket(world, **fields) -> Ticket:
    values = dict(tenant_id=world.tenant.id, property_id=world.property.id, category="plumbing",
                  severity="routine", window="today 2-5pm", description="Kitchen sink leaks",
                  notes="Dog is friendly")
    values.update(fields)
    ticket, _ = open_ticket(world.landlord, Report(**values), world.config)
    loop.start(ticket.id, world.config)
    return Ticket.get_by_id(ticket.id)


@pytest.fixture
def world(app, config, now) -> SimpleNamespace:
    """A routine plumbing job offered to Acme (Best is next), with one tenant photo."""
    landlord = Landlord.create(name="Lana Lord", email="lana@example.com", phone="+15550001000")
    prop = Property.create(landlord=landlord, address="123 Main Street Apt 1A",
                           postal_code="60601", timezone="America/Chicago")
    tenant = Tenant.create(property=prop, name="Alice Tenant", phone="+15550007777",
                           intake_token=uuid.uuid4().hex)
    acme, best = (create_vendor(landlord, {"name": name, "phones": [number],
                                           "specialties": ["plumbing"], "priority": priority})
                  for name, number, priority in (("Acme Plumbing", "+15550003001", 1),
                                                 ("Best Pipes", "+15550003002", 2)))
    world = SimpleNamespace(landlord=landlord, property=prop, tenant=tenant, acme=acme,
                            best=best, config=config)
    world.ticket = report_ticket(world)
    world.photo = tenant_photo(world.ticket)
    world.ping = Ping.get(Ping.ticket == world.ticket, Ping.outcome == "pending")
    assert world.ping.vendor_id == acme.id and world.ping.token
    return world


def link(ping: Ping, *rest: str) -> str:
    return "/".join((f"/j/{ping.token}", *rest))


def show(client, ping: Ping, status: int = 200) -> str:
    """The page as the vendor sees it; it obeys the strict CSP and is never cached."""
    response = client.get(link(ping))
    assert response.status_code == status
    check_csp(response, link(ping))
    assert "no-store" in response.headers["Cache-Control"]
    html = response.get_data(as_text=True)
    assert audit(html) == []
    return html


def post(client, ping: Ping, action: str, data: dict | None = None, *, token: str | None = None,
         **kwargs):
    """POST one of the page's forms with the CSRF token the page hands out (or token, from a
    page opened earlier)."""
    token = token or CSRF.search(client.get(link(ping)).get_data(as_text=True)).group(1)
    return client.post(link(ping, action), data=dict(data or {}, csrf_token=token), **kwargs)


def flashed(client, response) -> str:
    """The page a POST redirected to (POST-redirect-GET), with its notice."""
    assert response.status_code == 303, response.get_data(as_text=True)
    return client.get(response.headers["Location"]).get_data(as_text=True)


def accepted(client, world) -> Appointment:
    """Acme takes the job on its page (the notice is read, as the browser would)."""
    assert "You have job" in flashed(client, post(client, world.ping, "accept"))
    return Appointment.get(Appointment.ticket == world.ticket)


@pytest.mark.parametrize("address, street, unit", [
    ("123 Main Street Apt 1A", "123 Main Street", "Apt 1A"),
    ("456 Oak Avenue Unit 2B", "456 Oak Avenue", "Unit 2B"),
    ("9 Elm St, Apartment 12", "9 Elm St", "Apartment 12"),
    ("1 Market Sq Ste. 300", "1 Market Sq", "Ste. 300"),
    ("77 Pine Rd #4", "77 Pine Rd", "#4"),
    ("77 Pine Rd Suite #4-B, Springfield", "77 Pine Rd, Springfield", "Suite #4-B"),
    ("5 Aptos Way", "5 Aptos Way", None),
    ("12 Unity Road", "12 Unity Road", None),
    ("Unit 5", "Unit 5", None),
])
def test_street_and_unit(address, street, unit):
    assert street_and_unit(address) == (street, unit)


def test_an_unknown_link_is_a_404_that_says_nothing(client, world):
    for path in ("/j/not-a-token", "/j/not-a-token/photos/1"):
        response = client.get(path)
        assert response.status_code == 404
        html = response.get_data(as_text=True)
        assert "This link does not work" in html
        assert not any(word in html for word in ABOUT_THE_JOB)
    token = CSRF.search(show(client, world.ping)).group(1)
    assert client.post("/j/not-a-token/accept", data={"csrf_token": token}).status_code == 404


@pytest.mark.parametrize("close", ["complete", "cancel"])
def test_the_link_stops_working_30_days_after_the_ticket_closed(client, world, close):
    if close == "complete":
        visits.complete(accepted(client, world).id, actor="test")
    else:
        closing.cancel(Ticket.get_by_id(world.ticket.id), actor="test")
    clock.set_fake(WEDNESDAY_9AM + timedelta(days=29))
    show(client, world.ping)  # 29 days on: still works
    clock.set_fake(WEDNESDAY_9AM + timedelta(days=30, minutes=1))
    html = show(client, world.ping, 404)
    assert "This link has expired" in html
    assert not any(word in html for word in ABOUT_THE_JOB)
    assert client.get(link(world.ping, "photos", str(world.photo.id))).status_code == 404


def test_before_accepting_the_job_is_shown_without_the_unit_or_the_tenant(client, world):
    html = show(client, world.ping)
    for shown in ABOUT_THE_JOB + ("Routine", "Accept the job", "Decline"):
        assert shown in html, shown
    for hidden in HIDDEN_BEFORE:
        assert hidden not in html, hidden
    assert link(world.ping, "photos", str(world.photo.id)) in html
    # visit starts inside the tenant's window (2-5pm), on the property's clock
    for hour in ("2", "3", "4"):
        assert f">Wed Mar 4, {hour} PM</option>" in html
    assert "5 PM</option>" not in html
    photo = client.get(link(world.ping, "photos", str(world.photo.id)))
    assert photo.status_code == 200 and photo.data == JPEG
    assert "no-store" in photo.headers["Cache-Control"]


def test_markup_in_the_job_is_shown_escaped(client, world):
    Ticket.update(notes='<script>alert(1)</script>"><img src=x onerror=alert(1)>').where(
        Ticket.id == world.ticket.id).execute()
    html = show(client, world.ping)
    assert "<script>alert(1)" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_accept_with_a_chosen_time_books_that_start_and_shows_the_tenant(client, world):
    three_pm = datetime(2026, 3, 4, 21, 0)
    response = post(client, world.ping, "accept", {"start": "2026-03-04T21:00"})
    html = flashed(client, response)
    visit = Appointment.get(Appointment.ticket == world.ticket)
    assert (visit.vendor_id, visit.starts_at, visit.status) == (world.acme.id, three_pm,
                                                                 "tentative")
    assert visit.ends_at == datetime(2026, 3, 4, 23, 0)  # the end of the tenant's window
    assert Ticket.get_by_id(world.ticket.id).status == "scheduled"
    assert Event.get(Event.type == "vendor.confirmed").data["via"] == "web"
    assert f"You have job {world.ping.code}" in html  # the SMS answer's truthful sentence
    for shown in HIDDEN_BEFORE + ("123 Main Street", "60601", "Visit Wed Mar 4, 3 PM – 5 PM",
                                  "Tentative", 'href="tel:+15550007777"', "Mark done",
                                  "Hand the job back", "Set the visit time"):
        assert shown in html, shown
    assert audit(html) == []


def test_accept_with_a_typed_time_reads_it_on_the_propertys_clock(client, world):
    response = post(client, world.ping, "accept", {"typed": "tomorrow 9:30am"})
    assert response.status_code == 303
    visit = Appointment.get(Appointment.ticket == world.ticket)
    assert visit.starts_at == datetime(2026, 3, 5, 15, 30)


def test_an_unreadable_typed_time_is_422_with_an_example_and_books_nothing(client, world):
    response = post(client, world.ping, "accept", {"typed": "whenever the van is fixed"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "That time could not be read" in html and "tomorrow 9:30am or Tue 10am" in html
    assert 'value="whenever the van is fixed"' in html
    assert Ping.get_by_id(world.ping.id).outcome == "pending"
    assert not Appointment.select().exists()
    assert audit(html) == []


def test_accepting_after_another_vendors_yes_says_filled_and_shows_nothing(client, world):
    assert loop.lapse(world.ping.id, "timed_out", world.config)
    opened = CSRF.search(show(client, world.ping)).group(1)  # Acme's page, open on the phone
    best_ping = Ping.get(Ping.ticket == world.ticket, Ping.vendor == world.best)
    assert loop.accept(best_ping.id, "sms", world.config) == "booked"
    html = flashed(client, post(client, world.ping, "accept", {"typed": "3pm"}, token=opened))
    assert templates.reply_filled(world.ping.code) in html
    assert "This job was taken by another vendor." in html
    for secret in ABOUT_THE_JOB + HIDDEN_BEFORE + ("Accept", "Decline"):
        assert secret not in html, secret
    assert Appointment.get(Appointment.ticket == world.ticket).vendor_id == world.best.id
    assert client.get(link(world.ping, "photos", str(world.photo.id))).status_code == 404


def test_decline_asks_the_next_vendor(client, world):
    html = flashed(client, post(client, world.ping, "decline"))
    assert Ping.get_by_id(world.ping.id).outcome == "declined"
    assert Ping.get(Ping.ticket == world.ticket, Ping.outcome == "pending").vendor_id == \
        world.best.id
    assert templates.reply_declined(world.ping.code) in html
    assert "You passed on this job" in html and "Accept the job" in html


def test_set_the_visit_time(client, world):
    visit = accepted(client, world)
    html = flashed(client, post(client, world.ping, "time", {"typed": "Thu 10am"}))
    visit = Appointment.get_by_id(visit.id)
    assert visit.starts_at == datetime(2026, 3, 5, 16, 0)
    assert Event.get(Event.type == "visit.time_set").actor == f"vendor:{world.acme.id}"
    assert Question.get(Question.appointment == visit, Question.closed_at.is_null()).kind == \
        "confirm"
    assert "Visit set for Thu Mar 5, 10 AM" in html
    chosen = post(client, world.ping, "time", {"start": "2026-03-04T22:00"})
    assert chosen.status_code == 303
    assert Appointment.get_by_id(visit.id).starts_at == datetime(2026, 3, 4, 22, 0)


@pytest.mark.parametrize("data, message", [
    ({}, "Choose a time, or type one"),
    ({"typed": "soonish"}, "That time could not be read"),
    ({"start": "2026-03-04T05:00"}, "That time is no longer offered"),
])
def test_a_visit_time_that_cannot_be_used_changes_nothing(client, world, data, message):
    visit = accepted(client, world)
    response = post(client, world.ping, "time", data)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert Appointment.get_by_id(visit.id).starts_at == visit.starts_at


def test_done_with_a_photo_completes_the_job_and_asks_the_tenant_to_rate_it(app, client, world):
    visit = accepted(client, world)
    opened = CSRF.search(show(client, world.ping)).group(1)
    response = post(client, world.ping, "done", {"photos": [(io.BytesIO(PNG), "fixed.png")]},
                    content_type="multipart/form-data", token=opened)
    html = flashed(client, response)
    assert Ticket.get_by_id(world.ticket.id).status == "completed"
    assert Appointment.get_by_id(visit.id).status == "completed"
    photo = TicketPhoto.get(TicketPhoto.source == "vendor")
    assert (photo.ticket_id, photo.content_type) == (world.ticket.id, "image/png")
    assert Event.get(Event.type == "appointment.completed").data["photos"] == 1
    assert Question.get(Question.appointment == visit,
                        Question.closed_at.is_null()).kind == "rate"
    assert Message.get(Message.to_number == world.tenant.phone,
                       Message.body.contains(templates.RATE_ASK))
    assert "Done — thank you" in html
    assert link(world.ping, "photos", str(photo.id)) in html
    served = client.get(link(world.ping, "photos", str(photo.id)))
    assert served.status_code == 200 and served.data == PNG
    again = post(client, world.ping, "done", {"photos": [(io.BytesIO(PNG), "fixed.png")]},
                 content_type="multipart/form-data", token=opened)  # pressed twice
    assert "already marked done" in flashed(client, again)
    assert TicketPhoto.select().where(TicketPhoto.source == "vendor").count() == 1
    assert len(list((Path(app.instance_path) / "uploads").glob("*.png"))) == 1


def test_a_photo_that_is_not_an_image_marks_nothing_done(client, world):
    accepted(client, world)
    response = post(client, world.ping, "done", {"photos": [(io.BytesIO(b"GIF89a" * 9), "x.gif")]},
                    content_type="multipart/form-data")
    assert response.status_code == 422
    assert "is not a JPEG, PNG, WebP or HEIC image" in response.get_data(as_text=True)
    assert Ticket.get_by_id(world.ticket.id).status == "scheduled"


def test_photos_of_a_done_that_fails_are_removed(app, client, world, monkeypatch):
    accepted(client, world)

    def refuse(appointment_id, **_):
        raise visits.NotActive(Appointment.get_by_id(appointment_id))

    monkeypatch.setattr(visits, "complete", refuse)
    response = post(client, world.ping, "done", {"photos": [(io.BytesIO(PNG), "fixed.png")]},
                    content_type="multipart/form-data")
    assert "no longer hold this job" in flashed(client, response)
    assert not list((Path(app.instance_path) / "uploads").glob("*.png"))
    assert not TicketPhoto.select().where(TicketPhoto.source == "vendor").exists()


def test_hand_back_sends_the_job_to_the_next_vendor(client, world):
    visit = accepted(client, world)
    opened = CSRF.search(show(client, world.ping)).group(1)
    html = flashed(client, post(client, world.ping, "hand-back", {"reason": "Van broke down"}))
    assert Appointment.get_by_id(visit.id).status == "cancelled"
    assert Ticket.get_by_id(world.ticket.id).status == "dispatching"
    assert Ping.get(Ping.ticket == world.ticket, Ping.outcome == "pending").vendor_id == \
        world.best.id
    event = Event.get(Event.type == "appointment.cancelled")
    assert (event.actor, event.data["reason"]) == (f"vendor:{world.acme.id}", "Van broke down")
    assert "You handed this job back." in html
    for secret in ABOUT_THE_JOB + HIDDEN_BEFORE:
        assert secret not in html, secret
    refused = post(client, world.ping, "time", {"typed": "Thu 10am"}, token=opened)
    assert "no longer hold this job" in flashed(client, refused)
    assert Appointment.get_by_id(visit.id).starts_at == visit.starts_at


def test_a_cancelled_job_says_so_and_nothing_else(client, world):
    closing.cancel(Ticket.get_by_id(world.ticket.id), actor="test")
    html = show(client, world.ping)
    assert "This job was cancelled." in html
    for secret in ABOUT_THE_JOB + HIDDEN_BEFORE + ("Accept", "Decline"):
        assert secret not in html, secret


@pytest.mark.parametrize("action, held", [("accept", False), ("decline", False),
                                          ("time", True), ("done", True), ("hand-back", True)])
def test_a_post_without_its_csrf_token_is_400_and_changes_nothing(client, world, action, held):
    if held:
        accepted(client, world)
    before = [tuple(row) for row in Event.select().tuples()]
    response = client.post(link(world.ping, action), data={"typed": "3pm", "reason": "x"})
    assert response.status_code == 400
    assert [tuple(row) for row in Event.select().tuples()] == before
    html = response.get_data(as_text=True)
    assert "nothing was done" in html and CSRF.search(html)  # a fresh token to try again


def test_the_photo_route_serves_only_photos_of_the_links_ticket(client, world):
    other = report_ticket(world, description="Another problem")
    theirs = tenant_photo(other, PNG, "image/png")
    assert client.get(link(world.ping, "photos", str(theirs.id))).status_code == 404
    assert client.get(link(world.ping, "photos", str(world.photo.id))).status_code == 200


def test_photos_over_the_size_limit_mark_nothing_done(client, world, monkeypatch):
    accepted(client, world)
    monkeypatch.setattr(uploads, "MAX_REQUEST_BYTES", 1024)
    response = post(client, world.ping, "done", {"photos": [(io.BytesIO(PNG * 20), "big.png")]},
                    content_type="multipart/form-data")
    assert response.status_code == 413
    assert "nothing was marked done" in response.get_data(as_text=True)
    assert Ticket.get_by_id(world.ticket.id).status == "scheduled"


@pytest.mark.parametrize("error, status, notice", [
    (visits.VisitError("the visit must end after it starts"), 422,
     "That time cannot be used: the visit must end after it starts."),
    ("not active", 303, "You no longer hold this job"),
])
def test_an_engine_refusal_is_a_notice_not_a_500(client, world, monkeypatch, error, status,
                                                 notice):
    visit = accepted(client, world)

    def refuse(appointment_id, *_args, **_kwargs):
        raise visits.NotActive(Appointment.get_by_id(appointment_id)) if error == "not active" \
            else error

    monkeypatch.setattr(visits, "set_time", refuse)
    response = post(client, world.ping, "time", {"typed": "Thu 10am"})
    assert response.status_code == status
    html = flashed(client, response) if status == 303 else response.get_data(as_text=True)
    assert notice in html
    assert Appointment.get_by_id(visit.id).starts_at == visit.starts_at


def test_a_visit_the_landlord_cancelled_says_so_and_nothing_else(client, world):
    visit = accepted(client, world)
    visits.hand_back(visit.id, actor=f"landlord:{world.landlord.id}", config=world.config)
    html = show(client, world.ping)
    assert "Your visit for this job was cancelled." in html
    for secret in ABOUT_THE_JOB + HIDDEN_BEFORE:
        assert secret not in html, secret
