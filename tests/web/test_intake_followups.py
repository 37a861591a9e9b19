"""The tenant's side, as a tenant meets it: each state in its own words, one ticket per report,
a dead link that says what to do, and photos that survive a refused form (issue 9)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from app import clock
from app.api.auth import mint
from app.booking import loop, transitions
from app.db import transaction
from app.models import Event, Tenant, Ticket, TicketPhoto
from tests.web.test_intake import (
    GIF,
    JPEG,
    PNG,
    filed,
    held_files,
    link,
    open_form,
    poll,
    report,
    send,
    uploaded_files,
)


@pytest.fixture
def tenant(seeded) -> Tenant:
    """Alice Johnson at 123 Main Street Apt 1A (demo data)."""
    return Tenant.get(Tenant.name == "Alice Johnson")


def close(ticket: Ticket, status: str, reason: str | None = None) -> None:
    """Complete or cancel as the landlord does; a cancel's event carries its reason."""
    with transaction():
        transitions.change_status(ticket, status, actor="landlord:1")
        if status == "cancelled":
            Event.create(ticket=ticket, landlord=ticket.landlord_id, type="ticket.cancelled",
                         actor="landlord:1", data={"reason": reason} if reason else {})


def booked(app, client, tenant) -> tuple[Ticket, str]:
    ticket, url = filed(client, tenant)
    config = app.extensions["fixline"]
    loop.start(ticket.id, config)
    ping = next(p for p in ticket.pings if p.outcome == "pending")
    assert loop.accept(ping.id, "sms", config) == "booked"
    return Ticket.get_by_id(ticket.id), url


# ---- item 4: each state in its own words ----------------------------------------------------

def test_a_done_job_says_done_with_who_and_stops_polling(app, client, tenant):
    ticket, url = booked(app, client, tenant)
    close(ticket, "completed")
    for html in (poll(client, url).get_data(as_text=True), client.get(url).get_data(as_text=True)):
        assert "Done: the job is finished" in html and "has finished the job" in html
        assert ticket.appointments.get().vendor.name in html
        assert "Soon" not in html and "hx-get" not in html and "hx-trigger" not in html
        assert "updates itself" not in html


def test_a_cancelled_report_gives_the_reason_and_stops_polling(app, client, tenant):
    ticket, url = filed(client, tenant)
    close(ticket, "cancelled", reason="Fixed it <myself>")
    html = client.get(url).get_data(as_text=True)
    assert "This report was cancelled" in html and "Reason: Fixed it &lt;myself&gt;" in html
    assert "Soon" not in html and "hx-trigger" not in html and "updates itself" not in html


def test_a_cancel_without_a_reason_or_with_an_odd_one_still_reads_well(client, tenant,
                                                                        make_ticket, seeded):
    ticket = make_ticket(seeded, "cancelled", tenant=tenant, property=tenant.property)
    url = f"{link(tenant)}/tickets/{ticket.id}"
    assert "No reason was given." in poll(client, url).get_data(as_text=True)
    Event.create(ticket=ticket, landlord=seeded, type="ticket.cancelled", actor="test",
                 data={"reason": {"not": "text"}})
    assert "No reason was given." in poll(client, url).get_data(as_text=True)
    Event.create(ticket=ticket, landlord=seeded, type="ticket.cancelled", actor="test",
                 data={"reason": "Duplicate of another report"})  # the newest one counts
    assert "Reason: Duplicate of another report" in poll(client, url).get_data(as_text=True)


def test_escalated_names_the_landlord_and_their_phone_not_soon(app, client, tenant):
    ticket, url = filed(client, tenant, category="pest")  # nobody does pests: escalates
    loop.start(ticket.id, app.extensions["fixline"])
    html = client.get(url).get_data(as_text=True)
    assert "Your landlord is on it" in html and "John Smith" in html
    assert 'href="tel:+1234567890"' in html and "Soon" not in html
    assert "This page updates itself" in html


def test_new_and_dispatching_say_we_are_asking(app, client, tenant):
    ticket, url = filed(client, tenant)
    assert "We are asking repair people" in client.get(url).get_data(as_text=True)
    loop.start(ticket.id, app.extensions["fixline"])
    assert "Asking vendor 1 of 2" in poll(client, url).get_data(as_text=True)


# ---- item 11: one ticket per report ---------------------------------------------------------

def test_the_same_report_again_from_a_fresh_form_shows_the_first_ticket(app, client, tenant):
    """Back, then Send again: a new form (new one-time id), the same words, no second ticket."""
    first = send(client, tenant, report(), photos=[("a.jpg", JPEG)])
    again = send(client, tenant, report(), photos=[("a.jpg", JPEG)])
    assert first.status_code == again.status_code == 303
    assert again.headers["Location"] == first.headers["Location"]
    assert Ticket.select().count() == 1 and len(uploaded_files(app)) == 1
    page = client.get(again.headers["Location"]).get_data(as_text=True)
    assert "You already sent this report, so we did not file it twice." in page


def test_a_different_report_or_one_ten_minutes_later_is_a_new_ticket(client, tenant):
    start = clock.now()
    clock.set_fake(start)
    send(client, tenant, report())
    assert send(client, tenant, report(severity="emergency")).status_code == 303
    assert send(client, tenant, report(notes=None)).status_code == 303
    assert Ticket.select().count() == 3
    clock.set_fake(start + timedelta(minutes=10, seconds=1))
    send(client, tenant, report())
    assert Ticket.select().count() == 4


def test_a_cancelled_report_can_be_sent_again(client, tenant):
    ticket, _ = filed(client, tenant)
    close(ticket, "cancelled")
    send(client, tenant, report())
    assert Ticket.select().count() == 2


def test_the_api_files_what_it_is_sent(client, tenant, seeded):
    """The API keeps its own rule (Idempotency-Key); the same body twice without one is two."""
    key = mint(seeded)
    body = {"tenantId": tenant.id, "propertyId": tenant.property_id, "category": "plumbing",
            "severity": "routine", "window": "any time"}
    ids = {client.post("/api/tickets", json=body, headers={"Authorization": f"Bearer {key}"})
           .get_json()["id"] for _ in range(2)}
    assert len(ids) == 2


# ---- item 13: a dead link says what to do ---------------------------------------------------

def test_an_unknown_link_is_a_styled_page_that_says_ask_for_a_new_link(client, seeded):
    response = client.get("/intake/not-a-token")
    html = response.get_data(as_text=True)
    assert response.status_code == 404 and response.headers["Cache-Control"] == "no-store"
    assert "css/app.css" in html and "<h1>This link does not work</h1>" in html
    assert "Ask your landlord for a new link" in html and "John Smith" not in html


def test_a_replaced_link_names_the_landlord(client, tenant, landlord_client, csrf_token):
    old = tenant.intake_token
    token = csrf_token(landlord_client, "/tenants/")
    assert landlord_client.post(f"/tenants/{tenant.id}/new-link",
                                data={"csrf_token": token}).status_code == 303
    for path in (f"/intake/{old}", f"/intake/{old}/tickets/1"):
        response = client.get(path)
        html = response.get_data(as_text=True)
        assert response.status_code == 404 and "This link has been replaced" in html
        assert "Ask John Smith for your new link" in html
    event = Event.get(Event.type == "tenant.link_replaced")
    assert old not in str(event.data)  # only a digest of the old link is kept


def test_a_report_this_link_does_not_have_is_a_page_back_to_the_form(client, tenant):
    response = client.get(f"{link(tenant)}/tickets/999999")
    html = response.get_data(as_text=True)
    assert response.status_code == 404 and "We could not find that report" in html
    assert f'href="{link(tenant)}"' in html


# ---- item 14: photos --------------------------------------------------------------------------

KEEP = re.compile(r'name="keep" value="([^"]+)"')


def test_good_photos_are_kept_when_the_form_comes_back(app, client, tenant):
    _, _, submission = open_form(client, tenant)
    refused = send(client, tenant, report(description=""), submission=submission,
                   photos=[("leak.jpg", JPEG), ("cat.gif", GIF)])
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422 and "Photo 2 (cat.gif) is not a JPEG" in html
    kept = KEEP.findall(html)
    assert len(kept) == 1 and "leak.jpg" in html and "We kept the 1 photo" in html
    assert "Choose your photos again" not in html

    again = send(client, tenant, dict(report(), keep=kept), submission=submission,
                 photos=[("more.png", PNG)])
    assert again.status_code == 303
    stored = [p.content_type for p in TicketPhoto.select().order_by(TicketPhoto.id)]
    assert stored == ["image/jpeg", "image/png"]
    assert len(uploaded_files(app)) == 2 and held_files(app) == []


def test_kept_photos_count_and_untick_drops_them(app, client, tenant):
    _, _, submission = open_form(client, tenant)
    six = send(client, tenant, report(), submission=submission,
               photos=[(f"{n}.jpg", JPEG) for n in range(6)])
    html = six.get_data(as_text=True)
    assert six.status_code == 422 and "Attach at most 5 photos (you chose 6)." in html
    kept = KEEP.findall(html)
    assert len(kept) == 6  # all good: the tenant unticks the one to drop
    over = send(client, tenant, dict(report(), keep=kept[:5]), submission=submission,
                photos=[("x.jpg", JPEG)])
    assert over.status_code == 422 and "(you chose 6)" in over.get_data(as_text=True)
    kept = KEEP.findall(over.get_data(as_text=True))
    ok = send(client, tenant, dict(report(), keep=kept[:5]), submission=submission)
    assert ok.status_code == 303 and TicketPhoto.select().count() == 5
    assert held_files(app) == []


def test_another_form_cannot_claim_held_photos(client, tenant, seeded):
    _, _, submission = open_form(client, tenant)
    refused = send(client, tenant, report(window=""), submission=submission,
                   photos=[("leak.jpg", JPEG)])
    kept = KEEP.findall(refused.get_data(as_text=True))
    send(client, tenant, dict(report(), keep=kept))  # a fresh form's id
    assert TicketPhoto.select().count() == 0


def test_the_count_script_is_served_from_self_and_included(client, tenant):
    html, _, _ = open_form(client, tenant)
    assert re.search(r'<script src="/static/js/photos\.js" defer></script>', html)
    assert 'data-max-photos="5"' in html
    script = client.get("/static/js/photos.js")
    assert script.status_code == 200 and "Attach at most" in script.get_data(as_text=True)
    assert "<script>" not in html.split("</head>", 1)[1]  # no inline script anywhere
