"""The visit on the pages (CONTRACT.md §9): the tenant answers on the status page, the landlord
sees, moves, cancels and completes it on the ticket page, the dashboard lists visits, and the
timeline reads each visit event as a sentence."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from html import unescape

import pytest
from flask import current_app

from app import clock, events
from app.booking import visits
from app.booking.appointments import book
from app.db import transaction
from app.models import Appointment, Event, Landlord, Question, Tenant, Ticket, TicketPhoto, Vendor
from tests.web.test_dashboard import row

# A Tuesday, 10:00 in Chicago (CDT, UTC-5): the tickets' window "today 2-5pm" is ahead.
TUESDAY_MORNING = datetime(2024, 7, 2, 15, 0)
TWO_PM = datetime(2024, 7, 2, 19, 0)
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


@pytest.fixture
def morning(app):
    clock.set_fake(TUESDAY_MORNING)
    yield TUESDAY_MORNING
    clock.set_fake(None)


@pytest.fixture
def alice(seeded) -> Tenant:
    """Alice Johnson at 123 Main Street Apt 1A (demo data, America/Chicago)."""
    return Tenant.get(Tenant.name == "Alice Johnson")


def vendor(landlord: Landlord, name: str = "Acme Plumbing") -> Vendor:
    return Vendor.get(Vendor.landlord == landlord, Vendor.name == name)


def booked(landlord: Landlord, tenant: Tenant, make_ticket, starts_at=TWO_PM,
           name: str = "Acme Plumbing") -> Appointment:
    """A ticket of this tenant booked by hand with a vendor (a tentative visit)."""
    ticket = make_ticket(landlord, "dispatching", tenant=tenant, property=tenant.property)
    return book(ticket, vendor(landlord, name), starts_at, None, "manual", actor="test",
                config=current_app.extensions["fixline"])


def fresh(visit: Appointment) -> Appointment:
    return Appointment.get_by_id(visit.id)


def config():
    return current_app.extensions["fixline"]


# ---- the tenant's status page ------------------------------------------------------------------

def status_url(tenant: Tenant, ticket_id: int) -> str:
    return f"/intake/{tenant.intake_token}/tickets/{ticket_id}"


def status(client, tenant: Tenant, ticket_id: int) -> str:
    page = client.get(status_url(tenant, ticket_id))
    assert page.status_code == 200
    return page.get_data(as_text=True)


def tenant_csrf(client, tenant: Tenant) -> str:
    """The tenant's CSRF token (from the report form, which always has one)."""
    return CSRF.search(client.get(f"/intake/{tenant.intake_token}").get_data(as_text=True)
                       ).group(1)


def tenant_post(client, tenant: Tenant, visit: Appointment, csrf: bool = True, **data):
    """Press a button on the status page as a browser without JavaScript does."""
    body = {"visit": str(visit.id), **data}
    if csrf:
        body["csrf_token"] = tenant_csrf(client, tenant)
    return client.post(f"{status_url(tenant, visit.ticket_id)}/visit", data=body)


def followed(client, response) -> str:
    """The status page the answer's 303 leads back to, with its notice."""
    assert response.status_code == 303, response.get_data(as_text=True)
    return unescape(client.get(response.headers["Location"]).get_data(as_text=True))


def starts(visit: Appointment) -> str:
    return fresh(visit).starts_at.isoformat()


def test_the_tenant_sees_the_visit_and_confirms_it(client, seeded, alice, make_ticket, morning):
    visit = booked(seeded, alice, make_ticket)
    html = unescape(status(client, alice, visit.ticket_id))
    assert "Acme Plumbing" in html and "Waiting for your confirmation" in html
    assert "Does Tue Jul 2, 2 PM – 5 PM CDT work for you?" in html
    assert 'value="confirm"' in html and 'value="refuse"' in html

    page = followed(client, tenant_post(client, alice, visit, answer="confirm",
                                        starts=starts(visit)))
    assert "Thanks: your visit with Acme Plumbing is confirmed." in page
    assert "Visit: <strong>Confirmed</strong>" in page
    assert 'value="confirm"' not in page and "Can you still make" in page
    assert fresh(visit).status == "confirmed"
    event = Event.get(Event.type == "visit.confirmed")
    assert event.actor == f"tenant:{alice.id}"


def test_the_tenant_cannot_make_the_time(client, seeded, alice, make_ticket, morning):
    visit = booked(seeded, alice, make_ticket)
    page = followed(client, tenant_post(client, alice, visit, answer="refuse",
                                        starts=starts(visit)))
    assert "we told Acme Plumbing that time does not work" in page
    assert "You said that time does not work" in page
    assert 'value="confirm"' not in page and 'value="refuse"' not in page
    assert fresh(visit).time_refused_at == TUESDAY_MORNING
    again = followed(client, tenant_post(client, alice, visit, answer="refuse",
                                         starts=starts(visit)))
    assert "You already told us that time does not work." in again


def test_an_answer_to_a_time_that_changed_since_the_page_loaded_is_not_taken(
        client, seeded, alice, make_ticket, morning):
    visit = booked(seeded, alice, make_ticket)
    shown = starts(visit)
    visits.set_time(visit.id, TWO_PM + timedelta(days=1), None, actor="vendor:1",
                    config=config())
    page = followed(client, tenant_post(client, alice, visit, answer="confirm", starts=shown))
    assert "The visit time has changed (now Wed Jul 3, 2 PM – 4 PM CDT)" in page
    assert fresh(visit).status == "tentative"


def test_answers_need_the_csrf_token_and_the_tenants_own_ticket(
        client, seeded, alice, make_ticket, morning):
    visit = booked(seeded, alice, make_ticket)
    refused = tenant_post(client, alice, visit, csrf=False, answer="confirm",
                          starts=starts(visit))
    assert refused.status_code == 400 and fresh(visit).status == "tentative"

    bob = Tenant.get(Tenant.name == "Bob Williams")
    token = tenant_csrf(client, alice)
    other = client.post(f"{status_url(bob, visit.ticket_id)}/visit", data={
        "csrf_token": token, "visit": visit.id, "answer": "confirm", "starts": starts(visit)})
    assert other.status_code == 404
    assert client.get(status_url(bob, visit.ticket_id)).status_code == 404
    assert fresh(visit).status == "tentative"

    # Bob's own ticket with Alice's visit id: not his visit, nothing changes
    bobs = make_ticket(seeded, "dispatching", tenant=bob, property=bob.property)
    stale = client.post(f"{status_url(bob, bobs.id)}/visit", data={
        "csrf_token": token, "visit": visit.id, "answer": "confirm", "starts": starts(visit)})
    assert "This visit is no longer on your report." in followed(client, stale)
    assert fresh(visit).status == "tentative"


def test_engine_refusals_are_notices_not_errors(client, seeded, alice, make_ticket, morning):
    visit = booked(seeded, alice, make_ticket)
    shown = starts(visit)
    visits.hand_back(visit.id, actor="vendor:1", config=config())
    page = followed(client, tenant_post(client, alice, visit, answer="confirm", starts=shown))
    assert "This visit was cancelled." in page
    page = followed(client, tenant_post(client, alice, visit, answer="shout"))
    assert "That answer was not understood." in page


def ask_came(visit: Appointment) -> Question:
    """The sweep's question after the visit's end and the grace."""
    clock.set_fake(fresh(visit).no_show_at + timedelta(minutes=1))
    assert visits.ask_came(visit.id)
    return questions_open(visit, "came")


def questions_open(visit: Appointment, kind: str) -> Question:
    return Question.get(Question.appointment == visit.id, Question.kind == kind,
                        Question.closed_at.is_null())


def test_yes_they_came_completes_the_visit_and_asks_for_a_rating(
        client, seeded, alice, make_ticket, morning):
    visit = booked(seeded, alice, make_ticket)
    ask_came(visit)
    html = unescape(status(client, alice, visit.ticket_id))
    assert "Did Acme Plumbing come?" in html and 'value="confirm"' not in html

    page = followed(client, tenant_post(client, alice, visit, answer="came"))
    assert "Thanks: the visit is marked done." in page
    assert "Is it fixed?" in page and 'name="rating"' in page and 'value="not_fixed"' in page
    assert fresh(visit).status == "completed"
    assert Ticket.get_by_id(visit.ticket_id).status == "completed"


def test_no_nobody_came_is_a_no_show(client, seeded, alice, make_ticket, morning):
    visit = booked(seeded, alice, make_ticket)
    ask_came(visit)
    page = followed(client, tenant_post(client, alice, visit, answer="not_came"))
    assert "we are finding another repair person" in page
    assert fresh(visit).status == "no_show"
    assert Event.get(Event.type == "vendor.no_show").actor == f"tenant:{alice.id}"
    again = followed(client, tenant_post(client, alice, visit, answer="not_came"))
    assert "That question is no longer open." in again


def completed(landlord, tenant, make_ticket) -> Appointment:
    visit = booked(landlord, tenant, make_ticket)
    assert visits.complete(visit.id, actor="vendor:1") == "completed"
    return visit


def test_the_tenant_rates_the_visit(client, seeded, alice, make_ticket, morning):
    visit = completed(seeded, alice, make_ticket)
    bad = followed(client, tenant_post(client, alice, visit, answer="rate", rating="9"))
    assert "Choose a rating from 1 to 5" in bad and fresh(visit).rating is None

    page = followed(client, tenant_post(client, alice, visit, answer="rate", rating="4"))
    assert page.count("Thanks for rating 4/5.") == 2  # the notice, and the page itself
    assert 'name="rating"' not in page
    assert fresh(visit).rating == 4
    assert Event.get(Event.type == "feedback.received").data["rating"] == 4


def test_not_fixed_reopens_inside_the_window_only(client, seeded, alice, make_ticket, morning):
    visit = completed(seeded, alice, make_ticket)
    page = followed(client, tenant_post(client, alice, visit, answer="not_fixed"))
    assert "Your report is open again" in page
    assert Ticket.get_by_id(visit.ticket_id).status == "dispatching"
    assert Event.get(Event.type == "ticket.reopened").actor == f"tenant:{alice.id}"

    late = completed(seeded, alice, make_ticket)
    clock.set_fake(TUESDAY_MORNING + timedelta(seconds=config().reopen_window + 60))
    html = status(client, alice, late.ticket_id)
    assert 'value="not_fixed"' not in html and 'name="rating"' in html
    page = followed(client, tenant_post(client, alice, late, answer="not_fixed"))
    assert "can no longer be reopened here: ask your landlord." in page
    assert Ticket.get_by_id(late.ticket_id).status == "completed"


def test_a_poll_sees_the_visit_change(client, seeded, alice, make_ticket, morning):
    visit = booked(seeded, alice, make_ticket)
    url = status_url(alice, visit.ticket_id)
    headers = {"HX-Request": "true", "HX-Target": "ticket-status"}
    fragment = client.get(url, headers=headers).get_data(as_text=True)
    key = re.search(r'"seen": "([^"]+)"', fragment).group(1)
    assert 'hx-disinherit="*"' in fragment  # its buttons are whole-page forms
    assert client.get(url, query_string={"seen": key}, headers=headers).status_code == 204
    visits.confirm(visit.id, actor="tenant:1")
    changed = client.get(url, query_string={"seen": key}, headers=headers)
    assert changed.status_code == 200 and "Confirmed" in changed.get_data(as_text=True)


# ---- the landlord's ticket page ----------------------------------------------------------------

def ticket_page(client, visit: Appointment) -> str:
    response = client.get(f"/tickets/{visit.ticket_id}")
    assert response.status_code == 200
    return unescape(response.get_data(as_text=True))


def landlord_post(client, visit: Appointment, action: str, **data):
    html = ticket_page(client, visit)
    body = {"csrf_token": CSRF.search(html).group(1), "visit": str(visit.id), **data}
    return client.post(f"/tickets/{visit.ticket_id}/{action}", data=body)


def landlord_followed(client, response) -> str:
    assert response.status_code == 303, response.get_data(as_text=True)
    return unescape(client.get(response.headers["Location"]).get_data(as_text=True))


def panel(html: str) -> str:
    return html.split('id="visit-panel"', 1)[1].split("</div>", 1)[0]


def test_the_visit_panel_shows_time_status_flag_and_rating(
        landlord_client, seeded, alice, make_ticket, morning):
    visit = booked(seeded, alice, make_ticket)
    shown = panel(ticket_page(landlord_client, visit))
    assert "Acme Plumbing" in shown and "Tue Jul 2, 2 PM – 5 PM CDT" in shown
    assert "Waiting for the tenant to confirm" in shown

    visits.refuse(visit.id, actor=f"tenant:{alice.id}")
    shown = panel(ticket_page(landlord_client, visit))
    assert "The tenant cannot make this time" in shown

    visits.set_time(visit.id, TWO_PM + timedelta(hours=1), None, actor="vendor:1",
                    config=config())
    visits.confirm(visit.id, actor=f"tenant:{alice.id}")
    shown = panel(ticket_page(landlord_client, visit))
    assert "Confirmed by the tenant" in shown and "cannot make" not in shown
    assert "Jul 2, 2024 10:00 CDT" in shown  # confirmedAt on the property's clock

    visits.complete(visit.id, actor="vendor:1")
    assert "not rated yet" in panel(ticket_page(landlord_client, visit))
    visits.rate(visit.id, 5, actor=f"tenant:{alice.id}")
    assert "5/5" in panel(ticket_page(landlord_client, visit))


def test_the_landlord_reschedules_in_the_property_time_zone(
        landlord_client, seeded, alice, make_ticket, morning):
    visit = booked(seeded, alice, make_ticket)
    html = ticket_page(landlord_client, visit)
    assert re.search(r'<input [^>]*name="starts_at"[^>]*type="datetime-local" '
                     r'value="2024-07-02T14:00"', html)  # 19:00 UTC on the property's clock
    page = landlord_followed(landlord_client, landlord_post(
        landlord_client, visit, "visit/time", starts_at="2024-07-03T09:30", ends_at=""))
    assert "Visit set for Wed Jul 3, 9:30 AM" in page
    moved = fresh(visit)
    assert moved.starts_at == datetime(2024, 7, 3, 14, 30)  # 9:30 CDT in UTC
    assert moved.status == "tentative"
    event = Event.get(Event.type == "visit.time_set")
    assert event.actor == f"landlord:{seeded.id}"
    assert "Visit time set: Wed Jul 3, 9:30 AM" in page  # the timeline, on the local clock


def test_a_bad_reschedule_changes_nothing(landlord_client, seeded, alice, make_ticket, morning):
    visit = booked(seeded, alice, make_ticket)
    missing = landlord_post(landlord_client, visit, "visit/time", starts_at="")
    assert missing.status_code == 422
    assert "Give the new start time." in missing.get_data(as_text=True)
    backwards = landlord_post(landlord_client, visit, "visit/time",
                              starts_at="2024-07-03T09:30", ends_at="2024-07-03T08:00")
    assert backwards.status_code == 422
    assert "The visit must end after it starts." in backwards.get_data(as_text=True)
    past = landlord_followed(landlord_client, landlord_post(
        landlord_client, visit, "visit/time", starts_at="2024-07-01T09:30"))
    assert "Not moved: that time has already passed." in past
    assert fresh(visit).starts_at == TWO_PM


def test_the_landlord_cancels_the_visit(landlord_client, seeded, alice, make_ticket, morning):
    visit = booked(seeded, alice, make_ticket)
    page = landlord_followed(landlord_client, landlord_post(
        landlord_client, visit, "visit/cancel", reason="Tenant is away"))
    assert "Visit with Acme Plumbing cancelled." in page
    assert fresh(visit).status == "cancelled"
    event = Event.get(Event.type == "appointment.cancelled")
    assert (event.actor, event.data["by"], event.data["reason"]) == (
        f"landlord:{seeded.id}", "landlord", "Tenant is away")
    assert "Visit with Acme Plumbing cancelled by the landlord: Tenant is away" in page
    assert Ticket.get_by_id(visit.ticket_id).status in ("dispatching", "escalated")

    again = landlord_followed(landlord_client, landlord_post(
        landlord_client, visit, "visit/cancel"))
    assert "Not cancelled: This visit was cancelled." in again


def test_the_landlord_completes_from_the_visit_panel(
        landlord_client, seeded, alice, make_ticket, morning):
    visit = booked(seeded, alice, make_ticket)
    html = ticket_page(landlord_client, visit)
    actions = html.split('class="action visit-actions"', 1)[1]
    assert f'action="/tickets/{visit.ticket_id}/complete"' in actions
    page = landlord_followed(landlord_client, landlord_post(landlord_client, visit, "complete"))
    assert "Job marked completed." in page
    assert fresh(visit).status == "completed"
    assert questions_open(visit, "rate").phone == alice.phone
    assert "Visit done by Acme Plumbing" in page


def test_visit_routes_are_the_landlords_own(other_client, seeded, alice, make_ticket, morning,
                                            csrf_token):
    visit = booked(seeded, alice, make_ticket)
    token = csrf_token(other_client, "/dashboard")
    for action in ("visit/time", "visit/cancel"):
        answer = other_client.post(f"/tickets/{visit.ticket_id}/{action}", data={
            "csrf_token": token, "visit": visit.id, "starts_at": "2024-07-03T09:30"})
        assert answer.status_code == 404
    assert fresh(visit).status == "tentative" and fresh(visit).starts_at == TWO_PM


def test_vendor_photos_are_shown_apart_from_the_tenants(
        landlord_client, client, seeded, alice, make_ticket, morning):
    visit = booked(seeded, alice, make_ticket)
    ticket = visit.ticket_id
    TicketPhoto.create(ticket=ticket, filename="t.jpg", content_type="image/jpeg", size=10)
    TicketPhoto.create(ticket=ticket, filename="v.jpg", content_type="image/jpeg", size=10,
                       source="vendor")
    html = ticket_page(landlord_client, visit)
    tenant_part = html.split("Photos from the tenant", 1)[1].split("</section>", 1)[0]
    vendor_part = html.split("Photos from the vendor", 1)[1].split("</section>", 1)[0]
    assert tenant_part.count("<figure>") == 1 and vendor_part.count("<figure>") == 1
    mine = unescape(status(client, alice, ticket))
    assert "Photos from the repair person" in mine and "Photo 1 you sent" in mine


# ---- the dashboard -----------------------------------------------------------------------------

def visit_list(page: str, key: str) -> set[int]:
    """The ticket ids one of the dashboard's visit lists shows."""
    part = page.split(f'class="visit-list visits-{key}"', 1)[1].split("</section>", 1)[0]
    return {int(found) for found in re.findall(r'data-ticket="(\d+)"', part)}


def test_dashboard_lists_visits_today_unconfirmed_rating_and_no_shows(
        landlord_client, seeded, alice, make_ticket, morning, other_landlord):
    bob = Tenant.get(Tenant.name == "Bob Williams")
    today_confirmed = booked(seeded, alice, make_ticket)
    visits.confirm(today_confirmed.id, actor="tenant:1")
    tomorrow = booked(seeded, bob, make_ticket, starts_at=TWO_PM + timedelta(days=1))
    tonight_late = booked(seeded, bob, make_ticket, starts_at=datetime(2024, 7, 3, 4, 30))
    # 23:30 CDT on Tuesday: still today at the property, though Wednesday in UTC
    refused = booked(seeded, alice, make_ticket, starts_at=TWO_PM + timedelta(days=2))
    visits.refuse(refused.id, actor="tenant:1")
    done = completed(seeded, alice, make_ticket)
    rated = completed(seeded, alice, make_ticket)
    visits.rate(rated.id, 5, actor="tenant:1")
    no_show = booked(seeded, bob, make_ticket)
    visits.came(ask_came(no_show).id, False, actor="tenant:1", config=config())
    old_no_show = booked(seeded, bob, make_ticket)
    visits.came(ask_came(old_no_show).id, False, actor="tenant:1", config=config())
    with transaction():
        Appointment.update(cancelled_at=TUESDAY_MORNING - timedelta(days=31)).where(
            Appointment.id == old_no_show.id).execute()
    clock.set_fake(TUESDAY_MORNING + timedelta(hours=1))

    page = landlord_client.get("/dashboard").get_data(as_text=True)
    assert visit_list(page, "today") == {today_confirmed.ticket_id, tonight_late.ticket_id}
    assert visit_list(page, "unconfirmed") == {tomorrow.ticket_id, tonight_late.ticket_id,
                                               refused.ticket_id}
    assert visit_list(page, "rating") == {done.ticket_id}
    assert visit_list(page, "no_show") == {no_show.ticket_id}
    flagged = Ticket.get_by_id(refused.ticket_id)
    assert "tenant cannot make the visit time" in row(page, flagged)
    assert "tenant cannot make the visit time" not in row(page,
                                                          Ticket.get_by_id(tomorrow.ticket_id))

    clock.set_fake(TUESDAY_MORNING + timedelta(seconds=config().reopen_window + 60))
    later = landlord_client.get("/dashboard").get_data(as_text=True)
    assert visit_list(later, "rating") == set()  # past the reopen window


def test_dashboard_visit_lists_are_the_landlords_own(
        other_client, seeded, alice, make_ticket, morning):
    booked(seeded, alice, make_ticket)
    page = other_client.get("/dashboard").get_data(as_text=True)
    assert visit_list(page, "today") == set() and visit_list(page, "unconfirmed") == set()


# ---- the timeline ------------------------------------------------------------------------------

SUMMARIES = {
    "visit.time_set": ({"startsAt": "2024-07-02T19:00:00.000Z",
                        "endsAt": "2024-07-02T21:00:00.000Z"},
                       "Visit time set: Tue Jul 2, 2 PM – 4 PM CDT; the tenant is asked to "
                       "confirm"),
    "visit.confirmed": ({}, "Tenant confirmed the visit time"),
    "visit.time_refused": ({}, "Tenant cannot make the visit time; the vendor is asked for "
                               "another"),
    "visit.reminded": ({"secondsBefore": 86400},
                       "Visit reminder sent to tenant and vendor, 24 hours before"),
    "visit.check": ({}, "Tenant asked whether the vendor came"),
    "appointment.completed": ({"vendor": "Acme", "photos": 2}, "Visit done by Acme, 2 photos"),
    "photos.received": ({"urls": ["a"]}, "Vendor sent 1 photo"),
    "feedback.received": ({"rating": 4}, "Tenant rated the visit 4/5"),
    "ticket.reopened": ({}, "Reopened: the tenant says it is not fixed"),
    "appointment.cancelled": ({"vendor": "Acme", "by": "vendor", "reason": "sick"},
                              "Visit with Acme cancelled by the vendor (handed back): sick"),
    "vendor.no_show": ({"vendor": "Acme"}, "Acme did not come (no-show)"),
}


@pytest.mark.parametrize("kind", sorted(SUMMARIES))
def test_visit_events_read_as_sentences(app, kind):
    data, sentence = SUMMARIES[kind]
    event = Event(type=kind, actor="system", data=data)
    assert events.summarize(event, "America/Chicago") == sentence


def test_the_api_timeline_gives_visit_times_in_utc(app):
    event = Event(type="visit.time_set", actor="system",
                  data={"startsAt": "2024-07-02T19:00:00.000Z", "endsAt": None})
    assert events.summarize(event) == ("Visit time set: Tue Jul 2, 7 PM UTC; the tenant is "
                                       "asked to confirm")
