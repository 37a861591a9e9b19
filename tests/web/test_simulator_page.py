"""The vendor phone simulator (demo mode): behind login, one landlord's vendors only, and its
signed webhook goes to Fixline's configured address, never to one a request named."""

from __future__ import annotations

import html as html_module
import re
from dataclasses import dataclass, replace

import pytest
from twilio.request_validator import RequestValidator

from app.booking import loop
from app.booking.vendors import create_vendor
from app.models import Message, Ping, Ticket, Vendor
from app.web import simulator
from tests.conftest import make_config

ACME_PHONE = "+1234567893"  # the demo data's Acme Plumbing


@pytest.fixture
def config(database_url, tmp_path):
    """Demo mode: the simulator is registered."""
    return make_config(database_url, tmp_path / "instance", demo=True)


@dataclass
class Posted:
    url: str
    data: dict
    headers: dict
    status_code: int = 200


@pytest.fixture
def posted(monkeypatch) -> list[Posted]:
    """Every webhook the simulator posts, caught before it leaves (each answered 200)."""
    calls: list[Posted] = []

    def post(url, data, headers, **_):
        calls.append(Posted(url, data, headers))
        return calls[-1]

    monkeypatch.setattr(simulator.requests, "post", post)
    return calls


@pytest.fixture
def pending(app, seeded, make_ticket) -> Ping:
    """An emergency plumbing ticket of the demo landlord, offered to one of its vendors."""
    ticket = make_ticket(seeded)
    loop.start(ticket.id, app.extensions["fixline"])
    return Ping.get(Ping.ticket == ticket)


@pytest.fixture
def theirs(other_landlord) -> Vendor:
    return create_vendor(other_landlord, dict(name="Their Secret Plumber", phones=["+15550009000"],
                                              specialties=["plumbing"], hours="24/7", priority=1))


def reply(client, csrf_token, vendor_id: int, body: str, **kwargs):
    token = csrf_token(client, "/simulator/")
    return client.post(f"/simulator/vendors/{vendor_id}/reply",
                       data={"body": body, "csrf_token": token}, **kwargs)


def test_the_simulator_needs_a_login(client, csrf_token, pending, posted):
    page = client.get("/simulator/")
    assert page.status_code == 302 and page.headers["Location"].startswith("/login?next=")
    assert client.get("/simulator/", headers={"HX-Request": "true"}).status_code == 401
    token = csrf_token(client, "/login")
    answer = client.post(f"/simulator/vendors/{pending.vendor_id}/reply",
                         data={"body": f"YES {pending.code}", "csrf_token": token})
    assert answer.status_code == 302 and "/login" in answer.headers["Location"]
    assert posted == [] and Ticket.get_by_id(pending.ticket_id).status == "dispatching"


def test_each_landlord_sees_only_their_own_vendors_and_offers(
        landlord_client, other_client, pending, theirs):
    mine = landlord_client.get("/simulator/").get_data(as_text=True)
    assert "Acme Plumbing" in mine and f"YES {pending.code}" in mine
    assert theirs.name not in mine
    other = other_client.get("/simulator/").get_data(as_text=True)
    assert theirs.name in other
    assert "Acme Plumbing" not in other and pending.code not in other


def test_another_landlords_vendor_cannot_be_answered_for(other_client, csrf_token, pending,
                                                         posted):
    answer = reply(other_client, csrf_token, pending.vendor_id, f"YES {pending.code}")
    assert answer.status_code == 404
    assert posted == [] and Ticket.get_by_id(pending.ticket_id).status == "dispatching"
    assert not Message.select().where(Message.direction == "inbound").exists()


def test_a_number_another_landlord_also_has_is_not_answered_for(
        other_client, other_landlord, csrf_token, pending, posted):
    """A reply from a shared number could reach the other landlord's offer: none is sent."""
    copy = create_vendor(other_landlord, dict(name="Copycat", phones=[ACME_PHONE],
                                              specialties=["plumbing"], hours="24/7",
                                              priority=1))
    answer = reply(other_client, csrf_token, copy.id, "YES", follow_redirects=True)
    assert "Another account has a vendor at this number" in answer.get_data(as_text=True)
    assert posted == [] and Ticket.get_by_id(pending.ticket_id).status == "dispatching"


def test_the_webhook_goes_to_the_configured_address_whatever_the_host(
        app, landlord_client, csrf_token, pending, posted):
    config = app.extensions["fixline"]
    vendor = Vendor.get_by_id(pending.vendor_id)
    token = csrf_token(landlord_client, "/simulator/")
    session = landlord_client.get_cookie("session").value
    landlord_client.set_cookie("session", session, domain="evil.example")  # a forging browser
    answer = landlord_client.post(f"/simulator/vendors/{vendor.id}/reply",
                                  data={"body": f"YES {pending.code}", "csrf_token": token},
                                  headers={"Host": "evil.example:6666"})
    assert answer.status_code == 303
    [sent] = posted
    assert sent.url == f"{config.link_base}/webhooks/twilio/sms" == (
        f"http://127.0.0.1:{config.port}/webhooks/twilio/sms")
    assert sent.data["From"] == vendor.phones[0] and sent.data["Body"] == f"YES {pending.code}"
    assert RequestValidator(config.webhook_auth_token).validate(
        sent.url, sent.data, sent.headers["X-Twilio-Signature"])


def test_with_a_public_base_url_the_webhook_goes_there(app, config, posted):
    public = replace(config, public_base_url="https://fixline.example")
    with app.test_request_context("/", base_url="http://evil.example"):
        simulator.post_signed_sms(public, ACME_PHONE, "HELP")
    assert [p.url for p in posted] == ["https://fixline.example/webhooks/twilio/sms"]


def screen_url(html: str, vendor_id: int) -> str:
    """The URL a phone's screen polls, as htmx reads it."""
    found = re.search(rf'<div id="screen-{vendor_id}"[^>]*hx-get="([^"]+)"', html)
    return html_module.unescape(found.group(1))


def test_a_screen_refreshes_only_when_it_changed_and_never_the_text_being_typed(
        landlord_client, other_client, pending):
    page = landlord_client.get("/simulator/").get_data(as_text=True)
    article = re.search(rf'<article[^>]*aria-labelledby="vendor-{pending.vendor_id}".*?</article>',
                        page, re.S).group(0)
    screen = re.search(r'<div id="screen-.*</div>', article, re.S).group(0)
    assert 'name="body" value="YES' in screen  # the offer's buttons refresh with it
    assert 'id="body-' not in screen and 'id="body-' in article  # the typed text does not
    url = screen_url(page, pending.vendor_id)
    assert landlord_client.get(url, headers={"HX-Request": "true"}).status_code == 204

    vendor = Vendor.get_by_id(pending.vendor_id)
    Message.create(landlord=vendor.landlord, direction="outbound", channel="sms",
                   to_number=vendor.phones[0], from_number="+15005550006", body="Hello again",
                   status="sent")
    changed = landlord_client.get(url, headers={"HX-Request": "true"})
    assert changed.status_code == 200
    fresh = changed.get_data(as_text=True)
    assert fresh.lstrip().startswith(f'<div id="screen-{pending.vendor_id}"')
    assert "Hello again" in fresh and screen_url(fresh, pending.vendor_id) != url
    assert other_client.get(url, headers={"HX-Request": "true"}).status_code == 404


def test_tenant_phones_are_the_landlords_own_and_answer_from_the_tenants_number(
        landlord_client, other_client, csrf_token, pending, posted):
    tenant = Ticket.get_by_id(pending.ticket_id).tenant
    mine = landlord_client.get("/simulator/").get_data(as_text=True)
    assert "Tenant phones" in mine and tenant.name in mine
    assert tenant.name not in other_client.get("/simulator/").get_data(as_text=True)
    token = csrf_token(other_client, "/simulator/")
    refused = other_client.post(f"/simulator/tenants/{tenant.id}/reply",
                                data={"body": "YES", "csrf_token": token})
    assert refused.status_code == 404 and posted == []
    assert other_client.get(f"/simulator/tenants/{tenant.id}/screen").status_code == 404
    token = csrf_token(landlord_client, "/simulator/")
    sent = landlord_client.post(f"/simulator/tenants/{tenant.id}/reply",
                                data={"body": "YES", "csrf_token": token})
    assert sent.status_code == 303
    [post] = posted
    assert post.data["From"] == tenant.phone and post.data["Body"] == "YES"


def test_the_landlords_own_phone_answers_from_the_landlords_number(
        landlord_client, csrf_token, pending, posted, seeded):
    page = landlord_client.get("/simulator/").get_data(as_text=True)
    assert "Your phone" in page and seeded.phone in page
    token = csrf_token(landlord_client, "/simulator/")
    sent = landlord_client.post("/simulator/landlord/reply",
                                data={"body": "AGAIN 1", "csrf_token": token})
    assert sent.status_code == 303
    [post] = posted
    assert post.data["From"] == seeded.phone and post.data["Body"] == "AGAIN 1"
    screen = landlord_client.get("/simulator/landlord/screen")
    assert screen.status_code == 200 and 'id="landlord-screen"' in screen.get_data(as_text=True)
