"""Webhook fixtures: a landlord with vendors, a ticket being dispatched, signed posts."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import UTC
from types import SimpleNamespace
from xml.etree import ElementTree
from zoneinfo import ZoneInfo

import pytest
from twilio.request_validator import RequestValidator

from app import clock
from app.booking import intake, loop
from app.booking.vendors import create_vendor
from app.models import MODELS, Ping, Ticket, Vendor, WebhookReceipt

SMS = "/webhooks/twilio/sms"
VOICE = "/webhooks/twilio/voice"
STATUS = "/webhooks/twilio/status"
FIXLINE_NUMBER = "+15005550006"
LOCAL = "http://localhost"  # what the Flask test client's requests are addressed to

# name, phone, channel, specialties, priority (1 is asked first)
VENDORS = [
    ("Acme Plumbing", "+15550003001", "sms", ["plumbing"], 1),
    ("Best Pipes", "+15550003002", "sms", ["plumbing"], 2),
    ("Crest Drains", "+15550003003", "sms", ["plumbing"], 3),
    ("Volt Electric", "+15550004001", "voice", ["electrical"], 1),
    ("Watt Electric", "+15550004002", "sms", ["electrical"], 2),
]

_sids = itertools.count(1)


def new_sid(prefix: str = "SM") -> str:
    """A fresh Twilio-shaped SID (34 characters)."""
    return f"{prefix}{next(_sids):032x}"


def sign(url: str, form: dict[str, str], token: str) -> str:
    """X-Twilio-Signature for a POST of form to url, as Twilio computes it."""
    return RequestValidator(token).compute_signature(url, form)


def twiml(response) -> ElementTree.Element:
    """The TwiML document a webhook answered with (asserting it is XML)."""
    assert response.status_code == 200, response.data
    assert response.mimetype == "text/xml"
    root = ElementTree.fromstring(response.data)
    assert root.tag == "Response"
    return root


def said(response) -> str:
    """Every <Message> and <Say> text of a TwiML answer, joined."""
    root = twiml(response)
    return " ".join(node.text or "" for node in root.iter() if node.tag in ("Message", "Say"))


def snapshot() -> dict[str, list[tuple]]:
    """Every row of every table: 'nothing changed' is an equal snapshot.

    Webhook receipts are left out: every signed request leaves one (app/messaging/receipts.py).
    """
    return {model.__name__: [tuple(row) for row in model.select().order_by(model.id).tuples()]
            for model in MODELS if model is not WebhookReceipt}


@pytest.fixture
def office(landlord, home) -> SimpleNamespace:
    """The landlord's property and tenant, and vendors by name (see VENDORS)."""
    prop, tenant = home
    vendors = {}
    for name, phone, channel, specialties, priority in VENDORS:
        vendors[name] = create_vendor(landlord, {
            "name": name, "phones": [phone], "preferred_channel": channel,
            "specialties": specialties, "priority": priority, "hours": "24/7"})
    return SimpleNamespace(landlord=landlord, property=prop, tenant=tenant, vendors=vendors)


def clear_window(prop) -> str:
    """"today 2-5pm", or "tomorrow 2-5pm" once 2pm is less than three hours ahead on the
    property's clock: a vendor booked for one job's visit is busy for an emergency whose next
    two hours overlap it (§10), and tests that open job after job on the real clock (races)
    expect the same vendor asked first each time, whatever the hour the suite runs at."""
    local = clock.now().replace(tzinfo=UTC).astimezone(ZoneInfo(prop.timezone))
    return "today 2-5pm" if local.hour < 11 else "tomorrow 2-5pm"


@pytest.fixture
def open_job(office, config) -> Callable[..., Ticket]:
    """A factory: a new ticket, dispatch started, so its first vendor holds a pending ping."""

    def make(category: str = "plumbing", severity: str = "emergency") -> Ticket:
        report = intake.Report(tenant_id=office.tenant.id, property_id=office.property.id,
                               category=category, severity=severity,
                               window=clear_window(office.property))
        ticket, _ = intake.open_ticket(office.landlord, report, config)
        loop.start(ticket.id, config)
        return Ticket.get_by_id(ticket.id)

    return make


@pytest.fixture
def ticket(open_job) -> Ticket:
    """A plumbing emergency being dispatched: Acme Plumbing holds the pending ping."""
    return open_job()


def pings(ticket: Ticket) -> list[Ping]:
    """The ticket's pings, oldest first."""
    return list(Ping.select().where(Ping.ticket == ticket).order_by(Ping.id))


def pending(ticket: Ticket) -> Ping | None:
    return Ping.get_or_none(Ping.ticket == ticket, Ping.outcome == "pending")


def phone(vendor: Vendor) -> str:
    return vendor.phones[0]


@pytest.fixture
def signed_post(client, config) -> Callable:
    """POST a form to a webhook, signed as Twilio would sign it.

    url is what the signature covers (default: the test client's own URL of path);
    token defaults to the token the app checks (config.webhook_auth_token).
    """

    def post(path: str, form: dict[str, str], *, url: str | None = None,
             token: str | None = None):
        signature = sign(url or LOCAL + path, form, token or config.webhook_auth_token)
        return client.post(path, data=form, headers={"X-Twilio-Signature": signature})

    return post


@pytest.fixture
def text(signed_post) -> Callable:
    """A vendor texts body to Fixline (a signed inbound SMS webhook); sid is optional."""

    def send(vendor_or_number, body: str, *, sid: str | None = None):
        number = (phone(vendor_or_number) if isinstance(vendor_or_number, Vendor)
                  else vendor_or_number)
        form = {"MessageSid": sid or new_sid(), "AccountSid": "AC" + "0" * 32,
                "From": number, "To": FIXLINE_NUMBER, "Body": body, "NumMedia": "0"}
        return signed_post(SMS, form)

    return send

