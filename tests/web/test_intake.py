"""The tenant's intake link: the form (with and without JavaScript), photos, and the status page."""

from __future__ import annotations

import io
import re
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from flask import url_for
from markupsafe import escape

from app import clock
from app.api.auth import mint
from app.booking import loop, sweep
from app.db import db
from app.models import Appointment, Event, Ping, Tenant, Ticket, TicketPhoto, Vendor
from app.web import intake, uploads

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x01" * 200
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x02" * 200
WEBP = b"RIFF\xd0\x00\x00\x00WEBPVP8 " + b"\x03" * 200
HEIC = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x04" * 200
GIF = b"GIF89a" + b"\x05" * 200
SVG = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"></svg>'
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
SUBMISSION = re.compile(r'name="submission" type="hidden" value="([^"]+)"')


@pytest.fixture
def tenant(seeded) -> Tenant:
    """Alice Johnson at 123 Main Street Apt 1A (demo data)."""
    return Tenant.get(Tenant.name == "Alice Johnson")


def link(tenant: Tenant) -> str:
    return f"/intake/{tenant.intake_token}"


def open_form(client, tenant: Tenant) -> tuple[str, str, str]:
    """(html, csrf token, one-time submission id) of the tenant's report page."""
    page = client.get(link(tenant))
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    return html, CSRF.search(html).group(1), SUBMISSION.search(html).group(1)


def report(**fields) -> dict:
    values = dict(category="plumbing", severity="routine", window="any time",
                  description="Water dripping from the kitchen ceiling", notes="Dog is friendly")
    values.update(fields)
    return {k: v for k, v in values.items() if v is not None}


def send(client, tenant: Tenant, data: dict, photos=(), *, token: str | None = None,
         submission: str | None = None):
    """POST the form as a browser without JavaScript does (multipart, CSRF field)."""
    _, csrf, fresh = open_form(client, tenant)
    body = dict(data, csrf_token=token or csrf, submission=submission or fresh)
    body["photos"] = [(io.BytesIO(content), name) for name, content in photos]
    return client.post(link(tenant), data=body, content_type="multipart/form-data")


def uploaded_files(app) -> list[Path]:
    """The ticket photos on disk (not those held for a refused form's next try)."""
    folder = Path(app.instance_path) / "uploads"
    return sorted(f for f in folder.iterdir() if f.is_file()) if folder.exists() else []


def held_files(app) -> list[Path]:
    folder = Path(app.instance_path) / "uploads" / "held"
    return sorted(f for f in folder.rglob("*") if f.suffix != ".json") if folder.exists() else []


def test_the_private_link_shows_the_form_in_plain_words(client, tenant):
    html, _, _ = open_form(client, tenant)
    assert "Alice Johnson" in html and "123 Main Street Apt 1A" in html
    for value, (label, words) in intake.CATEGORY_WORDS.items():
        assert f'value="{value}"' in html and str(label) in html and str(escape(words)) in html
    for danger in ("smell gas", "Flooding", "Sparks, smoke", "No heat in the cold", "Locked out"):
        assert danger in html
    assert 'enctype="multipart/form-data"' in html and 'type="file"' in html and "multiple" in html
    assert "hx-post" in html and 'hx-boost="false"' in html  # no-JS: a plain form POST


def test_an_unknown_token_is_404_everywhere(client, seeded):
    assert client.get("/intake/not-a-token").status_code == 404
    assert client.get("/intake/not-a-token/tickets/1").status_code == 404
    assert client.get("/intake/not-a-token/tickets/1/photos/1").status_code == 404
    token = CSRF.search(client.get(link(Tenant.select().first())).get_data(as_text=True))[1]
    assert client.post("/intake/not-a-token", data={"csrf_token": token}).status_code == 404
    assert client.post("/intake/not-a-token/check/window", data={"window": "x"},
                       headers={"X-CSRFToken": token}).status_code == 404


def test_without_javascript_a_bad_report_is_422_naming_every_field(client, tenant):
    response = send(client, tenant, report(category=None, severity="soon", description="",
                                           window="", notes="x" * 5001))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    summary = html[html.index('class="problems"'):html.index('class="safety"')]
    for label in ("What kind of problem is it?", "How urgent is it?", "What is wrong?",
                  "When can someone come in?", "Anything else the vendor should know?"):
        assert label in summary
    assert "Choose what kind of problem it is." in html
    assert "Choose emergency or routine." in html
    assert "Describe the problem" in html
    assert "Tell us when someone can come in" in html
    assert "Keep the notes under 5000 characters." in html
    assert html.count('aria-invalid="true"') >= 5
    assert Ticket.select().count() == 0


def test_a_window_that_has_already_passed_is_refused(client, tenant):
    response = send(client, tenant, report(window="yesterday 9-10am 2020-01-01"))
    assert response.status_code == 422
    assert "That time has already passed" in response.get_data(as_text=True)


def test_a_window_more_than_a_year_away_is_refused(client, tenant):
    response = send(client, tenant, report(window="9999-12-31 1-2pm"))
    assert response.status_code == 422
    assert "more than a year away" in response.get_data(as_text=True)
    assert Ticket.select().count() == 0


def test_a_good_report_with_photos_becomes_a_ticket_and_leads_to_its_status(app, client, tenant):
    response = send(client, tenant, report(severity="emergency"),
                    photos=[("leak.jpg", JPEG), ("ceiling.PNG", PNG)])
    assert response.status_code == 303
    ticket = Ticket.get()
    assert response.headers["Location"] == f"{link(tenant)}/tickets/{ticket.id}"
    assert (ticket.tenant_id, ticket.property_id, ticket.category, ticket.severity) == (
        tenant.id, tenant.property_id, "plumbing", "emergency")
    assert ticket.description == "Water dripping from the kitchen ceiling"
    assert ticket.notes == "Dog is friendly" and ticket.window == "any time"
    event = Event.get(Event.ticket == ticket, Event.type == "intake.completed")
    assert event.actor == "tenant"

    photos = list(TicketPhoto.select().order_by(TicketPhoto.id))
    assert [(p.content_type, p.size) for p in photos] == [("image/jpeg", len(JPEG)),
                                                          ("image/png", len(PNG))]
    files = uploaded_files(app)
    assert sorted(p.filename for p in photos) == [f.name for f in files]
    for photo, content in zip(photos, (JPEG, PNG), strict=True):
        assert "leak" not in photo.filename and "ceiling" not in photo.filename
        assert re.fullmatch(r"[A-Za-z0-9_-]{32}\.(jpg|png)", photo.filename)
        assert (Path(app.instance_path) / "uploads" / photo.filename).read_bytes() == content


def test_the_type_comes_from_the_bytes_not_the_name(app, client, tenant):
    refused = send(client, tenant, report(), photos=[("cat.jpg", GIF), ("x.png", SVG)])
    assert refused.status_code == 422
    html = refused.get_data(as_text=True)
    assert "Photo 1 (cat.jpg) is not a JPEG, PNG, WebP or HEIC image." in html
    assert "Photo 2 (x.png) is not a JPEG, PNG, WebP or HEIC image." in html
    assert 'name="keep"' not in html  # nothing passed, nothing kept
    assert Ticket.select().count() == 0 and uploaded_files(app) == held_files(app) == []

    accepted = send(client, tenant, report(),
                    photos=[("notes.txt", JPEG), ("a", WEBP), ("IMG_0001.HEIC", HEIC)])
    assert accepted.status_code == 303
    assert [p.content_type for p in TicketPhoto.select().order_by(TicketPhoto.id)] == [
        "image/jpeg", "image/webp", "image/heic"]


SNIFFED = [
    (JPEG, "image/jpeg"), (PNG, "image/png"), (WEBP, "image/webp"), (HEIC, "image/heic"),
    (b"\x00\x00\x00\x1cftypmif1\x00\x00\x00\x00mif1heic", "image/heic"),
    (b"\x00\x00\x00\x18ftypmif1\x00\x00\x00\x00mif1miaf", "image/heif"),
    (b"\x00\x00\x00\x1cftypavif\x00\x00\x00\x00avifmif1", None),  # AVIF is not taken
    (b"\x00\x00\x00\x18ftypisom", None), (GIF, None), (SVG, None), (b"%PDF-1.7", None),
    (b"<html><script>", None), (b"", None), (b"\xff\xd8", None),
]


def test_sniff_knows_images_by_their_first_bytes():
    assert [uploads.sniff(head[:64]) for head, _ in SNIFFED] == [kind for _, kind in SNIFFED]


def test_photo_limits_name_the_photo(app, client, tenant, monkeypatch):
    monkeypatch.setattr(uploads, "MAX_PHOTO_BYTES", 1000)
    too_big = send(client, tenant, report(), photos=[("ok.jpg", JPEG), ("big.jpg", JPEG * 10)])
    assert too_big.status_code == 422
    assert "Photo 2 (big.jpg) is larger than" in too_big.get_data(as_text=True)
    six = send(client, tenant, report(), photos=[(f"{n}.jpg", JPEG) for n in range(6)])
    assert six.status_code == 422
    assert "Photos</a>: Attach at most 5 photos (you chose 6)." in six.get_data(as_text=True)
    assert "Photos: Photos" not in six.get_data(as_text=True)
    empty = send(client, tenant, report(), photos=[("empty.png", b"")])
    assert empty.status_code == 422 and "Photo 1 (empty.png) is empty." in empty.get_data(
        as_text=True)
    assert Ticket.select().count() == 0 and uploaded_files(app) == []


def test_only_the_intake_form_takes_a_large_body(app, client, tenant, landlord_client, seeded):
    """Five 8 MB photos fit the report form; the rest of the app keeps its 1 MiB limit."""
    big = JPEG + b"\x00" * (uploads.MAX_PHOTO_BYTES - len(JPEG))
    accepted = send(client, tenant, report(), photos=[(f"{n}.jpg", big) for n in range(5)])
    assert accepted.status_code == 303
    assert TicketPhoto.select().count() == 5

    over = send(client, tenant, report(), photos=[(f"{n}.jpg", big + big) for n in range(3)])
    assert over.status_code == 413
    assert "Your photos add up to more than 42 MB" in over.get_data(as_text=True)

    two_mib = "x" * (2 << 20)
    assert client.post("/login", data={"email": two_mib}).status_code == 413
    key = mint(seeded)
    api = client.post("/api/tickets", data=two_mib, content_type="application/json",
                      headers={"Authorization": f"Bearer {key}"})
    assert api.status_code == 413 and api.get_json()["error"]["code"] == "payload_too_large"


def test_a_failed_ticket_write_leaves_no_ticket_rows_or_files(app, client, tenant, monkeypatch):
    real_record = uploads.record

    def record_then_fail(ticket, written):
        real_record(ticket, written)
        raise RuntimeError("disk full, say")

    monkeypatch.setattr(uploads, "record", record_then_fail)
    response = send(client, tenant, report(), photos=[("a.jpg", JPEG), ("b.png", PNG)])
    assert response.status_code == 500
    assert Ticket.select().count() == 0 and TicketPhoto.select().count() == 0
    assert Event.select().count() == 0 and uploaded_files(app) == []


def test_a_double_submit_files_one_ticket(app, client, tenant):
    _, _, submission = open_form(client, tenant)
    first = send(client, tenant, report(), photos=[("a.jpg", JPEG)], submission=submission)
    again = send(client, tenant, report(), photos=[("a.jpg", JPEG)], submission=submission)
    assert first.status_code == again.status_code == 303
    assert first.headers["Location"] == again.headers["Location"]
    assert Ticket.select().count() == 1 and len(uploaded_files(app)) == 1


def test_a_missing_or_stale_csrf_token_is_400_and_keeps_the_words(client, tenant):
    response = client.post(link(tenant), data=report(description="My sink <is> blocked"))
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "My sink &lt;is&gt; blocked" in html and "press Send report once more" in html
    assert CSRF.search(html)  # a fresh token to send it with
    assert Ticket.select().count() == 0


def test_too_many_reports_in_an_hour_are_refused(client, tenant, monkeypatch):
    monkeypatch.setattr(intake, "REPORTS_PER_HOUR", 2)
    assert [send(client, tenant, report(description=f"Leak {n}")).status_code
            for n in range(3)] == [303, 303, 429]
    assert Ticket.select().count() == 2


@pytest.mark.parametrize(("field", "value", "error", "note"), [
    ("category", "", "Choose what kind of problem it is.", ""),
    ("category", "roof", "Choose one of the kinds of problem listed.", ""),
    ("category", "pest", "", ""),
    ("severity", "", "Choose how urgent it is", ""),
    ("severity", "emergency", "", ""),
    ("description", "   ", "Describe the problem in a few words.", ""),
    ("description", "x" * 5001, "Keep the description under 5000 characters.", ""),
    ("window", "", "Tell us when someone can come in", ""),
    ("window", "2020-01-01 9-10am", "That time has already passed", ""),
    ("window", "any time", "", "Any time: the vendor will call you"),
    ("window", "when the moon is blue", "", "exactly as you wrote it"),
    ("window", "tomorrow 2-5pm", "", "We read this as"),
    ("notes", "y" * 5001, "Keep the notes under 5000 characters.", ""),
    ("notes", "", "", ""),
])
def test_inline_check_answers_the_message_for_one_field(client, tenant, field, value, error,
                                                        note):
    _, csrf, _ = open_form(client, tenant)
    response = client.post(f"{link(tenant)}/check/{field}", data={field: value},
                           headers={"X-CSRFToken": csrf, "HX-Request": "true"})
    assert response.status_code == 200
    html = response.get_data(as_text=True).strip()
    assert html.startswith(f'<p id="{field}-msg"')
    assert error in html and note in html
    assert ("msg error" in html) == bool(error)


def test_inline_check_needs_the_csrf_header_and_a_known_field(client, tenant):
    _, csrf, _ = open_form(client, tenant)
    assert client.post(f"{link(tenant)}/check/window", data={"window": "x"}).status_code == 400
    assert client.post(f"{link(tenant)}/check/photos", data={},
                       headers={"X-CSRFToken": csrf}).status_code == 404


def test_api_intake_url_points_at_the_form(app, client, tenant, seeded):
    key = mint(seeded)
    found = client.get(f"/api/tenants/{tenant.id}", headers={"Authorization": f"Bearer {key}"})
    url = found.get_json()["intakeUrl"]
    with app.test_request_context():
        assert url.endswith(url_for("intake.form", token=tenant.intake_token))
    assert client.get(url.replace("http://localhost", "")).status_code == 200


# ---- the status page ------------------------------------------------------------------------

def filed(client, tenant, **fields) -> tuple[Ticket, str]:
    response = send(client, tenant, report(**fields), photos=[("leak.jpg", JPEG)])
    assert response.status_code == 303, response.get_data(as_text=True)
    return Ticket.get_by_id(int(response.headers["Location"].rsplit("/", 1)[1])), \
        response.headers["Location"]


def poll(client, url: str, seen: str | None = None):
    query = {"seen": seen} if seen else {}
    return client.get(url, query_string=query,
                      headers={"HX-Request": "true", "HX-Target": "ticket-status"})


def test_status_walks_received_contacting_booked_then_stops_polling(app, client, tenant):
    clock.set_fake(datetime(2026, 3, 3, 15, 0))  # Tue 10am in New York: Acme is at work (§10)
    tenant.property.timezone = "America/New_York"
    tenant.property.save()
    ticket, url = filed(client, tenant, window="tomorrow 2-5pm")
    config = app.extensions["fixline"]

    page = client.get(url)
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    assert "We have your report" in html and 'hx-trigger="every 2s"' in html
    assert "Water dripping from the kitchen ceiling" in html
    assert f"{url}/photos/" in html

    loop.start(ticket.id, config)  # what the worker does after intake.completed
    fragment = poll(client, url).get_data(as_text=True)
    assert fragment.lstrip().startswith('<section id="ticket-status"')
    assert "<html" not in fragment
    assert "Asking vendor 1 of 2" in fragment  # Acme Plumbing and Emergency Handyman
    key = re.search(r'"seen": "([^"]+)"', fragment).group(1)
    assert poll(client, url, seen=key).status_code == 204  # nothing new: htmx swaps nothing

    first = Ping.get(Ping.ticket == ticket)
    loop.decline(first.id, config)
    assert "Asking vendor 2 of 2" in poll(client, url, seen=key).get_data(as_text=True)

    second = Ping.get(Ping.ticket == ticket, Ping.outcome == "pending")
    assert loop.accept(second.id, "sms", config) == "booked"
    booked = poll(client, url).get_data(as_text=True)
    assert f"Booked: {second.vendor.name}" in booked
    assert re.search(r"2:00 PM – 5:00 PM E[SD]T", booked), booked
    assert 'hx-trigger="every 30s"' in booked  # it may still be done or cancelled
    assert "This page updates itself" in booked
    appointment = Appointment.get(Appointment.ticket == ticket)
    assert appointment.starts_at is not None


def test_escalated_tells_the_tenant_the_landlord_knows(app, client, tenant):
    ticket, url = filed(client, tenant, category="pest")  # no demo vendor does pests
    loop.start(ticket.id, app.extensions["fixline"])
    assert Ticket.get_by_id(ticket.id).status == "escalated"
    html = poll(client, url).get_data(as_text=True)
    assert "Your landlord is on it" in html and "Booked — Soon" not in html
    assert "John Smith" in html and 'href="tel:+1234567890"' in html
    assert 'hx-trigger="every 10s"' in html  # a late YES can still book it


def test_a_routine_report_at_night_says_when_the_first_vendor_is_asked(app, client, tenant):
    clock.set_fake(datetime(2026, 3, 4, 8, 0))  # Wed 02:00 in Chicago
    tenant.property.timezone = "America/Chicago"
    tenant.property.save()
    Vendor.update(active=False).where(Vendor.name == "Emergency Handyman").execute()
    ticket, url = filed(client, tenant, window="anytime")  # plumbing: Acme works 9AM-6PM
    loop.start(ticket.id, app.extensions["fixline"])
    assert not Ping.select().where(Ping.ticket == ticket).exists()
    html = poll(client, url).get_data(as_text=True)
    assert "No repair person who does this job is working right now" in html
    assert "Wed Mar 4, 9:00 AM CST" in html and "Next ask Wed Mar 4, 9:00 AM CST" in html


def test_a_report_nobody_answered_says_when_the_next_round_asks(app, client, tenant):
    """Both plumbers let the offer time out (the fake clock and the sweep): the page says
    when the next round begins (ROUND_PAUSE_SECONDS after the last offer lapsed), then who
    is asked once it has."""
    config = app.extensions["fixline"]
    start = datetime(2026, 3, 3, 15, 0)  # Tue 10am in New York: Acme is at work (§10)
    clock.set_fake(start)
    tenant.property.timezone = "America/New_York"
    tenant.property.save()
    ticket, url = filed(client, tenant, window="tomorrow 2-5pm")
    loop.start(ticket.id, config)
    timeout = timedelta(seconds=config.vendor_reply_timeout + 1)
    lapsed = start
    for _ in range(2):  # Acme Plumbing, then Emergency Handyman: silent until it lapses
        assert Ping.select().where(Ping.ticket == ticket, Ping.outcome == "pending").exists()
        lapsed += timeout
        clock.set_fake(lapsed)
        sweep.run(config)
    assert [p.outcome for p in Ping.select().where(Ping.ticket == ticket)] == ["timed_out"] * 2
    next_round = lapsed + timedelta(seconds=config.round_pause)  # 15:06:02 UTC
    assert Ticket.get_by_id(ticket.id).dispatch_at == next_round

    html = poll(client, url).get_data(as_text=True)
    assert "We are asking repair people" in html
    assert ("Nobody has answered yet. We will ask again <strong>Tue Mar 3, 10:06 AM EST"
            "</strong>. This page changes as soon as one says yes.") in html
    assert "Next ask Tue Mar 3, 10:06 AM EST" in html
    assert "No repair person who does this job is working right now" not in html

    clock.set_fake(next_round)
    sweep.run(config)  # the second round asks the silent again, in the same order
    again = poll(client, url).get_data(as_text=True)
    assert "Nobody has answered yet" not in again and "Asking vendor 3 of" in again
    assert Ping.get(Ping.ticket == ticket, Ping.outcome == "pending").vendor.name == (
        "Acme Plumbing")


def test_cancelled_stops_polling(client, tenant, make_ticket, seeded):
    ticket = make_ticket(seeded, "cancelled", tenant=tenant, property=tenant.property)
    html = poll(client, f"{link(tenant)}/tickets/{ticket.id}").get_data(as_text=True)
    assert "This report was cancelled" in html and "hx-get" not in html


def test_status_needs_the_tenants_own_token(client, tenant, seeded):
    ticket, url = filed(client, tenant)
    other = Tenant.get(Tenant.name == "Bob Williams")
    assert client.get(f"{link(other)}/tickets/{ticket.id}").status_code == 404
    assert client.get(f"{link(tenant)}/tickets/{ticket.id + 1}").status_code == 404
    photo = TicketPhoto.get(TicketPhoto.ticket == ticket)
    assert client.get(f"{link(other)}/tickets/{ticket.id}/photos/{photo.id}").status_code == 404


def test_photos_are_served_with_the_sniffed_type(client, tenant):
    _, url = filed(client, tenant)
    photo = TicketPhoto.get()
    shown = client.get(f"{url}/photos/{photo.id}")
    assert shown.status_code == 200 and shown.data == JPEG
    assert shown.headers["Content-Type"] == "image/jpeg"
    assert shown.headers["X-Content-Type-Options"] == "nosniff"
    send(client, tenant, report(description="Another leak"), photos=[("IMG.HEIC", HEIC)])
    heic = TicketPhoto.get(TicketPhoto.content_type == "image/heic")
    download = client.get(f"{link(tenant)}/tickets/{heic.ticket_id}/photos/{heic.id}")
    assert download.headers["Content-Disposition"].startswith("attachment")


def test_the_form_lists_the_tenants_recent_reports(client, tenant):
    ticket, url = filed(client, tenant)
    html, _, _ = open_form(client, tenant)
    assert f'href="{url}"' in html and "Your recent reports" in html
    with db.connection_context():
        assert Ticket.get_by_id(ticket.id).tenant_id == tenant.id


def test_a_form_sent_without_its_one_time_id_still_files_the_report(client, tenant):
    """An older cached form, or a hand-made post, has no submission field: no photos can be
    held for it, and the report is filed all the same (it was a 500)."""
    _, csrf, _ = open_form(client, tenant)
    body = dict(report(), csrf_token=csrf, photos=[(io.BytesIO(JPEG), "a.jpg")])
    response = client.post(link(tenant), data=body, content_type="multipart/form-data")
    assert response.status_code == 303
    assert Ticket.select().count() == 1
