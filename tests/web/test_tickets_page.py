"""The ticket page: details in the property's time zone, photos, live timeline, and the actions,
each through the state machine with a readable refusal."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

import pytest
from flask import current_app

from app import clock
from app.booking import loop
from app.messaging import outbound
from app.models import Appointment, Event, Ping, Ticket, TicketPhoto, Vendor

# A Tuesday, 10:00 in Chicago (CDT): every seeded plumbing vendor is working.
TUESDAY_MORNING = datetime(2024, 7, 2, 15, 0)
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def morning(app):
    clock.set_fake(TUESDAY_MORNING)
    yield TUESDAY_MORNING
    clock.set_fake(None)


def page(client, ticket: Ticket, **headers) -> str:
    response = client.get(f"/tickets/{ticket.id}", headers=headers)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def post(client, csrf_token, ticket: Ticket, action: str, data=None, **headers):
    token = csrf_token(client, f"/tickets/{ticket.id}")
    return client.post(f"/tickets/{ticket.id}/{action}",
                       data={"csrf_token": token, **(data or {})}, headers=headers)


def follow(client, response) -> str:
    """The page a 303 leads back to (where the flash message is shown)."""
    assert response.status_code == 303, response.get_data(as_text=True)
    return client.get(response.headers["Location"]).get_data(as_text=True)


def vendor_named(landlord, name: str) -> Vendor:
    return Vendor.get(Vendor.landlord == landlord, Vendor.name == name)


def test_details_are_shown_in_the_property_time_zone_and_escaped(
        landlord_client, seeded, make_ticket):
    ticket = make_ticket(seeded, "new", created_at=datetime(2024, 1, 15, 18, 30),
                         window="after <b>5pm</b>", description="Leak <script>alert(1)</script>",
                         notes="Side door")
    html = page(landlord_client, ticket)
    assert "Jan 15, 2024 12:30 CST" in html  # 18:30 UTC in America/Chicago, winter
    assert "Leak &lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>alert" not in html
    assert "after &lt;b&gt;5pm&lt;/b&gt;" in html
    assert "Alice Johnson" in html and "123 Main Street Apt 1A" in html and "Side door" in html
    assert 'style="' not in html and "<script>" not in html.split("</head>")[1]


def test_every_ticket_route_needs_login(client, seeded, make_ticket):
    ticket = make_ticket(seeded)
    for path in (f"/tickets/{ticket.id}", f"/tickets/{ticket.id}/photos/1"):
        response = client.get(path)
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/login?next=")


@pytest.mark.parametrize("action", ["assign", "dispatch", "cancel", "complete"])
def test_actions_need_login(client, csrf_token, seeded, make_ticket, action):
    ticket = make_ticket(seeded, "scheduled")
    token = csrf_token(client, "/login")
    response = client.post(f"/tickets/{ticket.id}/{action}", data={"csrf_token": token})
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert Ticket.get_by_id(ticket.id).status == "scheduled"


@pytest.mark.parametrize("action", ["assign", "dispatch", "cancel", "complete"])
def test_another_landlords_ticket_is_not_found(other_client, csrf_token, seeded, make_ticket,
                                               action):
    ticket = make_ticket(seeded, "scheduled")
    assert other_client.get(f"/tickets/{ticket.id}").status_code == 404
    token = csrf_token(other_client, "/messages/")
    response = other_client.post(f"/tickets/{ticket.id}/{action}", data={"csrf_token": token})
    assert response.status_code == 404
    assert Ticket.get_by_id(ticket.id).status == "scheduled"


def test_post_without_csrf_token_is_refused(landlord_client, seeded, make_ticket):
    ticket = make_ticket(seeded, "dispatching")
    assert landlord_client.post(f"/tickets/{ticket.id}/cancel").status_code == 400
    assert Ticket.get_by_id(ticket.id).status == "dispatching"


def test_cancel_twice_shows_a_readable_refusal(landlord_client, csrf_token, seeded, make_ticket):
    ticket = make_ticket(seeded, "dispatching")
    first = post(landlord_client, csrf_token, ticket, "cancel")
    assert "Ticket cancelled." in follow(landlord_client, first)
    second = post(landlord_client, csrf_token, ticket, "cancel")
    html = follow(landlord_client, second)
    assert "This ticket is already cancelled." in html
    assert Ticket.get_by_id(ticket.id).status == "cancelled"
    changes = Event.select().where(Event.ticket == ticket, Event.type == "ticket.status_changed",
                                   Event.actor == f"landlord:{seeded.id}")
    assert [e.data["to"] for e in changes] == ["cancelled"]


def test_complete_needs_a_scheduled_ticket(landlord_client, csrf_token, seeded, make_ticket):
    ticket = make_ticket(seeded, "dispatching")
    html = follow(landlord_client, post(landlord_client, csrf_token, ticket, "complete"))
    assert ("Only a scheduled job can be marked completed; this ticket is dispatching."
            in html)
    assert Ticket.get_by_id(ticket.id).status == "dispatching"

    booked = make_ticket(seeded, "scheduled")
    html = follow(landlord_client, post(landlord_client, csrf_token, booked, "complete"))
    assert "Job marked completed." in html
    assert Ticket.get_by_id(booked.id).status == "completed"
    html = follow(landlord_client, post(landlord_client, csrf_token, booked, "cancel"))
    assert "This ticket is completed; it cannot be cancelled." in html


def test_manual_assign_books_once(landlord_client, csrf_token, seeded, make_ticket):
    ticket = make_ticket(seeded, "escalated")
    plumber = vendor_named(seeded, "Acme Plumbing")
    response = post(landlord_client, csrf_token, ticket, "assign",
                    {"vendor": plumber.id, "starts_at": "2024-07-03T09:30"})
    assert "Booked Acme Plumbing." in follow(landlord_client, response)
    ticket = Ticket.get_by_id(ticket.id)
    assert ticket.status == "scheduled" and ticket.booked_at is not None
    appointment = Appointment.get(Appointment.ticket == ticket)
    assert appointment.vendor_id == plumber.id and appointment.confirmation_method == "manual"
    assert appointment.starts_at == datetime(2024, 7, 3, 14, 30)  # 09:30 CDT, stored as UTC

    other = vendor_named(seeded, "Emergency Handyman")
    again = post(landlord_client, csrf_token, ticket, "assign", {"vendor": other.id})
    html = follow(landlord_client, again)
    assert "This ticket already has an appointment; it was not booked again." in html
    assert Appointment.select().where(Appointment.ticket == ticket).count() == 1


def test_manual_assign_of_a_vendor_the_engine_would_not_ask_books_and_says_why(
        landlord_client, csrf_token, seeded, make_ticket):
    ticket = make_ticket(seeded, "escalated", category="pest")
    plumber = vendor_named(seeded, "Acme Plumbing")
    Vendor.update(opted_out=True).where(Vendor.id == plumber.id).execute()
    html = follow(landlord_client, post(landlord_client, csrf_token, ticket, "assign",
                                        {"vendor": plumber.id}))
    assert ('<p class="flash warning" role="status">Booked Acme Plumbing. Note: opted out '
            "(texted STOP); does not do pest.</p>") in html
    assert Appointment.get(Appointment.ticket == ticket).vendor_id == plumber.id


def test_manual_assign_books_a_new_ticket_through_dispatching(
        landlord_client, csrf_token, seeded, make_ticket):
    ticket = make_ticket(seeded, "new")
    plumber = vendor_named(seeded, "Acme Plumbing")
    follow(landlord_client, post(landlord_client, csrf_token, ticket, "assign",
                                 {"vendor": plumber.id}))
    steps = [e.data["to"] for e in Event.select().where(
        Event.ticket == ticket, Event.type == "ticket.status_changed").order_by(Event.id)]
    assert steps == ["dispatching", "scheduled"]
    assert Appointment.get(Appointment.ticket == ticket).starts_at is None


def test_assign_with_a_vendor_that_is_not_a_choice_rerenders_with_the_field_error(
        landlord_client, csrf_token, seeded, make_ticket, other_landlord):
    from app.booking.vendors import create_vendor

    theirs = create_vendor(other_landlord, dict(name="Their Plumber", phones=["+15550009000"],
                                                specialties=["plumbing"], hours="24/7",
                                                priority=1))
    retired = vendor_named(seeded, "Lock & Key Pro")
    retired.active = False
    retired.save()
    ticket = make_ticket(seeded, "escalated")
    for vendor_id in (theirs.id, retired.id, "abc"):
        response = post(landlord_client, csrf_token, ticket, "assign",
                        {"vendor": vendor_id, "starts_at": "tomorrow"})
        html = response.get_data(as_text=True)
        assert response.status_code == 422
        assert 'id="vendor-error"' in html and 'aria-invalid="true"' in html
        assert "Vendor" in html and "Starts at" in html  # the summary names the fields
        assert "Not a valid datetime value." in html
    assert Ticket.get_by_id(ticket.id).status == "escalated"
    assert not Appointment.select().where(Appointment.ticket == ticket).exists()


def test_htmx_form_posts_are_answered_303_too(landlord_client, csrf_token, seeded, make_ticket):
    ticket = make_ticket(seeded, "dispatching")
    response = post(landlord_client, csrf_token, ticket, "cancel",
                    **{"HX-Request": "true", "HX-Boosted": "true"})
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/tickets/{ticket.id}")


def test_dispatch_again_asks_the_next_vendor_then_starts_a_new_round(
        landlord_client, csrf_token, seeded, make_ticket, morning):
    config = current_app.extensions["fixline"]
    ticket = make_ticket(seeded, "escalated")
    html = follow(landlord_client, post(landlord_client, csrf_token, ticket, "dispatch"))
    assert "Asked Acme Plumbing by sms." in html
    first = Ping.get(Ping.ticket == ticket)
    assert first.outcome == "pending" and first.vendor.name == "Acme Plumbing"
    assert Ticket.get_by_id(ticket.id).status == "escalated"  # until a YES books it

    html = follow(landlord_client, post(landlord_client, csrf_token, ticket, "dispatch"))
    assert "Nobody was asked: Acme Plumbing still holds the offer" in html
    assert Ping.select().where(Ping.ticket == ticket).count() == 1

    loop.decline(first.id, config)  # the loop moves on by itself: the handyman is asked
    second = Ping.select().where(Ping.ticket == ticket).order_by(Ping.id.desc()).first()
    assert second.vendor.name == "Emergency Handyman"
    loop.decline(second.id, config)  # nobody left; the ticket stays escalated
    assert not Ping.select().where(Ping.ticket == ticket, Ping.outcome == "pending").exists()

    html = follow(landlord_client, post(landlord_client, csrf_token, ticket, "dispatch"))
    assert "Asked Acme Plumbing by sms." in html  # a new round, from the top of the list
    assert Event.select().where(Event.ticket == ticket,
                                Event.type == "dispatch.restarted").count() == 1
    pending = Ping.get(Ping.ticket == ticket, Ping.outcome == "pending")
    assert pending.vendor.name == "Acme Plumbing"
    assert "Dispatch restarted" in page(landlord_client, ticket)


def test_dispatch_of_a_new_ticket_starts_the_loop(
        landlord_client, csrf_token, seeded, make_ticket, morning):
    ticket = make_ticket(seeded, "new")
    html = follow(landlord_client, post(landlord_client, csrf_token, ticket, "dispatch"))
    assert "Asked Acme Plumbing by sms." in html
    assert Ticket.get_by_id(ticket.id).status == "dispatching"

    nobody = make_ticket(seeded, "new", category="pest")
    html = follow(landlord_client, post(landlord_client, csrf_token, nobody, "dispatch"))
    assert ("Nobody was asked: no vendor can take this job (" in html
            and "do not do pest). It is escalated to you." in html)
    assert Ticket.get_by_id(nobody.id).status == "escalated"


def test_dispatch_again_is_refused_for_a_booked_ticket(
        landlord_client, csrf_token, seeded, make_ticket):
    ticket = make_ticket(seeded, "scheduled")
    html = follow(landlord_client, post(landlord_client, csrf_token, ticket, "dispatch"))
    assert "Only a new or escalated ticket can be dispatched again; this one is scheduled." in html
    assert not Ping.select().where(Ping.ticket == ticket).exists()


def test_dispatch_again_with_nobody_to_ask_says_so(
        landlord_client, csrf_token, seeded, make_ticket):
    ticket = make_ticket(seeded, "escalated", category="pest")
    html = follow(landlord_client, post(landlord_client, csrf_token, ticket, "dispatch"))
    assert "Nobody was asked: no vendor can take this job (" in html
    assert "do not do pest)." in html
    assert not Event.select().where(Event.ticket == ticket,
                                    Event.type == "dispatch.restarted").exists()


def test_pings_and_messages_are_listed(landlord_client, seeded, make_ticket, morning):
    ticket = make_ticket(seeded, "new")
    loop.start(ticket.id, current_app.extensions["fixline"])
    outbound.queue(landlord=seeded, to="+1234567891", body="We are on it <b>now</b>",
                   ticket=Ticket.get_by_id(ticket.id))
    html = page(landlord_client, ticket)
    assert "Acme Plumbing" in html and "pending" in html
    assert Ping.get(Ping.ticket == ticket).code in html
    assert "We are on it &lt;b&gt;now&lt;/b&gt;" in html
    assert "Asked Acme Plumbing by sms" in html  # the timeline's summary
    assert "Jul 2, 2024 10:00 CDT" in html


def test_live_part_is_returned_alone_and_stops_polling_once_closed(
        landlord_client, csrf_token, seeded, make_ticket):
    ticket = make_ticket(seeded, "dispatching")
    whole = landlord_client.get(f"/tickets/{ticket.id}")
    assert "HX-Request" in whole.headers["Vary"]
    assert whole.get_data(as_text=True).count('id="ticket-live"') == 1
    boosted = page(landlord_client, ticket, **{"HX-Request": "true", "HX-Boosted": "true"})
    assert "<html" in boosted  # a boosted page load gets the whole page
    live = page(landlord_client, ticket, **{"HX-Request": "true", "HX-Target": "ticket-live"})
    assert live.lstrip().startswith('<section id="ticket-live"')
    assert "<html" not in live and 'hx-trigger="every' in live and "hx-get=" in live

    follow(landlord_client, post(landlord_client, csrf_token, ticket, "cancel"))
    closed = page(landlord_client, ticket, **{"HX-Request": "true", "HX-Target": "ticket-live"})
    assert closed.lstrip().startswith('<section id="ticket-live"')
    assert "hx-trigger" not in closed and "hx-get" not in closed
    assert "cancelled" in closed and "Status dispatching → cancelled" in closed


def test_live_part_tells_when_the_status_moved_on(landlord_client, seeded, make_ticket):
    ticket = make_ticket(seeded, "scheduled")
    live = page(landlord_client, ticket, **{"HX-Request": "true", "HX-Target": "ticket-live"})
    assert "The status changed" not in live
    stale = landlord_client.get(f"/tickets/{ticket.id}?seen=dispatching",
                                headers={"HX-Request": "true", "HX-Target": "ticket-live"})
    assert "The status changed since this page loaded." in stale.get_data(as_text=True)


def _photo(ticket: Ticket, data: bytes, content_type: str, name: str) -> TicketPhoto:
    folder = Path(current_app.instance_path) / "uploads"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(data)
    return TicketPhoto.create(ticket=ticket, filename=name, content_type=content_type,
                              size=len(data))


def test_photos_are_served_to_their_landlord_only(
        landlord_client, other_client, seeded, make_ticket):
    ticket = make_ticket(seeded, "new")
    photo = _photo(ticket, PNG, "image/png", "abc123.png")
    html = page(landlord_client, ticket)
    url = f"/tickets/{ticket.id}/photos/{photo.id}"
    assert f'src="{url}"' in html and 'alt="Photo 1 of ticket' in html

    response = landlord_client.get(url)
    assert response.status_code == 200
    assert response.data == PNG and response.mimetype == "image/png"
    assert "private" in response.headers["Cache-Control"]
    assert "sandbox" in response.headers["Content-Security-Policy"]

    assert other_client.get(url).status_code == 404
    elsewhere = make_ticket(seeded, "new")
    assert landlord_client.get(f"/tickets/{elsewhere.id}/photos/{photo.id}").status_code == 404
    assert landlord_client.get(f"/tickets/{ticket.id}/photos/{photo.id + 99}").status_code == 404


def test_a_photo_whose_file_is_gone_is_not_found(landlord_client, seeded, make_ticket):
    ticket = make_ticket(seeded, "new")
    photo = TicketPhoto.create(ticket=ticket, filename="missing.jpg", content_type="image/jpeg",
                               size=10)
    assert landlord_client.get(f"/tickets/{ticket.id}/photos/{photo.id}").status_code == 404


def options(html: str) -> list[tuple[str, str, bool]]:
    """The vendor select's options: (value, text, selected), in order."""
    select = re.search(r'<select[^>]*id="vendor".*?</select>', html, re.S).group(0)
    return [(value, text, "selected" in attrs) for attrs, value, text in re.findall(
        r'<option([^>]*?)value="([^"]*)"[^>]*>([^<]*)</option>', select)]


def test_assign_lists_the_vendors_for_the_job_first_with_phone_and_hours_none_chosen(
        landlord_client, csrf_token, seeded, make_ticket):
    ticket = make_ticket(seeded, "escalated", category="lock")
    html = page(landlord_client, ticket)
    found = options(html)
    assert found[0][:2] == ("", "Choose a vendor")  # a placeholder first, never a vendor
    assert not any(selected for value, _, selected in found if value)
    texts = [text for value, text, _ in found if value]
    assert texts[:2] == ["Emergency Handyman · +1234567897 · 24/7",
                         "Lock &amp; Key Pro · +1234567896 · 9AM-5PM"]
    assert "Acme Plumbing · +1234567893 · 9AM-6PM" in texts[2:]
    assert '<optgroup label="For lock jobs">' in html and '<optgroup label="Other vendors">' in html

    response = post(landlord_client, csrf_token, ticket, "assign", {"vendor": ""})
    assert response.status_code == 422 and "Pick a vendor." in response.get_data(as_text=True)
    assert not Appointment.select().where(Appointment.ticket == ticket).exists()


def test_the_visit_is_shown_as_a_range_and_numbers_by_name(
        landlord_client, csrf_token, seeded, make_ticket, morning):
    ticket = make_ticket(seeded, "escalated", window="tomorrow 9-11am")
    plumber = vendor_named(seeded, "Acme Plumbing")
    follow(landlord_client, post(landlord_client, csrf_token, ticket, "assign",
                                 {"vendor": plumber.id, "starts_at": "2024-07-03T09:30"}))
    Appointment.update(ends_at=datetime(2024, 7, 3, 16, 30)).where(
        Appointment.ticket == ticket).execute()  # as a vendor's "YES K7Q2 9:30am" would set it
    outbound.queue(landlord=seeded, to="+1234567891", body="Booked", ticket=ticket)
    html = page(landlord_client, ticket)
    assert "Wed Jul 3, 9:30 AM – 11:30 AM CDT</time>" in html  # what the tenant's page says
    assert 'Alice Johnson <span class="number">tenant · +1234567891</span>' in html


def test_actions_come_before_details_and_tables_scroll_in_named_focusable_regions(
        landlord_client, seeded, make_ticket):
    html = page(landlord_client, make_ticket(seeded, "escalated"))
    assert html.index('id="actions-heading"') < html.index('id="details-heading"')
    scrollers = re.findall(r'<div class="scroll"[^>]*>', html)
    assert len(scrollers) >= 2
    assert all('tabindex="0"' in tag and 'role="region"' in tag and "aria-label=" in tag
               for tag in scrollers)


def test_a_ticket_waiting_to_ask_says_until_when(landlord_client, seeded, make_ticket, morning):
    ticket = make_ticket(seeded, "dispatching")
    Ticket.update(dispatch_at=datetime(2024, 7, 2, 20, 5), round=2).where(
        Ticket.id == ticket.id).execute()
    html = page(landlord_client, ticket)
    assert "Round 2 of asking: the next vendor is asked" in html
    assert "Jul 2, 2024 15:05 CDT" in html
    Ticket.update(dispatch_at=None).where(Ticket.id == ticket.id).execute()
    assert "of asking: the next vendor" not in page(landlord_client, ticket)
