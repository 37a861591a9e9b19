"""Safety of every page: user text is escaped, every form needs its CSRF token, strict CSP.

The routes come from the application's own url_map (demo mode, so the simulator is in), so a
page or form added later is covered without touching this file; a route argument this file
cannot fill fails loudly, naming it.
"""

from __future__ import annotations

import io
import re
import tempfile
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from app import create_app
from app.api.auth import mint
from app.booking import loop
from app.models import (
    Appointment,
    Event,
    Fault,
    Message,
    Property,
    Quote,
    Tenant,
    Ticket,
    TicketPhoto,
    Vendor,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)
from tests.conftest import make_config

EXEMPT = ("/api/", "/webhooks/", "/static/")  # bearer keys and Twilio signatures, not cookies
HTMX = "/static/vendor/htmx-2.0.11.min.js"
SCRIPTS = (HTMX, "/static/js/photos.js")  # every script a page may load: Fixline's own files
SCRIPT = "<script>alert(1)</script>"
IMAGE = '"><img src=x onerror=alert(1)>'
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x01" * 64
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def payload(field: str) -> str:
    """Markup and script, tagged with the field it was typed into."""
    return f"{field} {SCRIPT} {IMAGE}"


def escaped(text: str) -> str:
    """The text as Jinja's autoescape writes it."""
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&#34;").replace("'", "&#39;"))


def _rules() -> list[tuple[str, frozenset[str]]]:
    """(rule, methods) of every route outside the API and webhooks, in demo mode."""
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(make_config(f"sqlite:///{tmp}/routes.db", Path(tmp) / "inst",
                                     demo=True))
        found = {(rule.rule, frozenset(rule.methods)) for rule in app.url_map.iter_rules()
                 if not rule.rule.startswith(EXEMPT)}
    return sorted(found, key=lambda pair: pair[0])


RULES = _rules()
POST_ROUTES = [rule for rule, methods in RULES if "POST" in methods]
GET_ROUTES = [rule for rule, methods in RULES if "GET" in methods]


@pytest.fixture
def config(database_url, tmp_path):
    """Demo mode: the vendor phone simulator is one of the pages."""
    return make_config(database_url, tmp_path / "instance", demo=True)


def fill(rule: str, values: dict[str, object]) -> str:
    """The rule with each <converter:argument> replaced by a real value."""

    def value(match: re.Match) -> str:
        name = match.group(1)
        if name not in values:
            pytest.fail(f"tests/web/test_safety.py has no value for <{name}> in {rule}: "
                        "add one to the values its test builds")
        return str(values[name])

    return re.sub(r"<(?:[^:>]+:)?([^>]+)>", value, rule)


class Audit(HTMLParser):
    """Everything in a page that runs or styles outside the CSP's 'self' files."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self.in_script = False

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"<{tag} {name}={value!r}> (event handler attribute)")
            if name == "style":
                self.problems.append(f"<{tag} style={value!r}> (inline style)")
            if name in ("href", "src", "action", "formaction") and (value or "").strip(
                    ).lower().startswith(("javascript:", "data:text")):
                self.problems.append(f"<{tag} {name}={value!r}> (script URL)")
            if name.startswith("hx-on") or (name == "hx-vals" and "js:" in (value or "")):
                self.problems.append(f"<{tag} {name}=...> (htmx would eval script)")
        if tag == "script":
            src = dict(attrs).get("src")
            if src not in SCRIPTS:
                self.problems.append(f"<script src={src!r}> (only {SCRIPTS} may run)")
        if tag == "style":
            self.problems.append("<style> element (inline style)")
        if tag == "img" and dict(attrs).get("src") == "x":
            self.problems.append("<img src=x> (injected)")


VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
        "track", "wbr"}


class Inheritance(HTMLParser):
    """Boosted links and forms inside an element whose hx-target/hx-swap they would inherit.

    htmx attributes are inherited: a boosted link inside a polled `hx-target="this"` region
    would swap the next page into that region instead of the body.
    """

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.open: list[tuple[str, bool]] = []  # (tag, passes hx-target/hx-swap down)
        self.problems: list[str] = []

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        asks = any(verb in values for verb in ("hx-get", "hx-post", "hx-put", "hx-delete"))
        href = values.get("href") or ""
        boosted = values.get("hx-boost") != "false" and (
            (tag == "a" and href.startswith("/") and not href.startswith("//"))
            or tag == "form")
        if (asks or boosted) and "hx-target" not in values and any(p for _, p in self.open):
            self.problems.append(f"<{tag} {href or values.get('action') or ''}> inherits "
                                 "hx-target from a region around it")
        if tag not in VOID:
            disinherits = values.get("hx-disinherit", "") in ("*",) or all(
                name in values.get("hx-disinherit", "").split()
                for name in ("hx-target", "hx-swap"))
            passes = ("hx-target" in values or "hx-swap" in values) and not disinherits
            self.open.append((tag, passes))

    def handle_endtag(self, tag):
        for index in range(len(self.open) - 1, -1, -1):
            if self.open[index][0] == tag:
                del self.open[index:]
                break


def inherited_targets(html: str) -> list[str]:
    parser = Inheritance()
    parser.feed(html)
    parser.close()
    return parser.problems


def audit(html: str) -> list[str]:
    parser = Audit()
    parser.feed(html)
    parser.close()
    return parser.problems


def csp(header: str) -> dict[str, list[str]]:
    return {part.split()[0]: part.split()[1:] for part in header.split(";") if part.strip()}


def check_csp(response, where: str) -> None:
    """HTML: scripts and styles from 'self' only. Anything else (a photo) may be stricter."""
    header = response.headers.get("Content-Security-Policy")
    assert header, f"{where}: no Content-Security-Policy header"
    policy = csp(header)
    default = policy.get("default-src")
    allowed = [["'self'"]] if response.mimetype == "text/html" else [["'self'"], ["'none'"]]
    for directive in ("script-src", "style-src", "default-src"):
        assert policy.get(directive, default) in allowed, f"{where}: {directive} in {header}"
    assert policy.get("object-src", default) == ["'none'"], f"{where}: object-src in {header}"
    assert "unsafe" not in header and "*" not in header, f"{where}: {header}"


@pytest.fixture
def world(app, seeded, landlord_client):
    """Markup typed into every text field a user can reach, then a ping that carries it.

    Property address, tenant name, vendor name and notes go in through the API; the
    report's description, notes and window through the tenant's intake form.
    """
    key = {"Authorization": f"Bearer {mint(seeded)}"}
    api = app.test_client()
    prop = api.post("/api/properties", headers=key, json={
        "address": payload("address"), "timezone": "America/Chicago"})
    assert prop.status_code == 201, prop.get_json()
    tenant = api.post("/api/tenants", headers=key, json={
        "name": payload("tenant name"), "phone": "+15551112222",
        "propertyId": prop.get_json()["id"]})
    assert tenant.status_code == 201, tenant.get_json()
    vendor = api.post("/api/vendors", headers=key, json={
        "name": payload("vendor name"), "phones": ["+15553334444"], "specialties": ["pest"],
        "hours": "24/7", "priority": 1, "notes": payload("vendor notes")})
    assert vendor.status_code == 201, vendor.get_json()

    tenant_row = Tenant.get_by_id(tenant.get_json()["id"])
    link = f"/intake/{tenant_row.intake_token}"
    form = api.get(link)
    assert form.status_code == 200
    html = form.get_data(as_text=True)
    sent = api.post(link, content_type="multipart/form-data", data={
        "csrf_token": CSRF.search(html).group(1), "category": "pest", "severity": "routine",
        "description": payload("description"), "notes": payload("notes"),
        "window": payload("window"), "photos": [(io.BytesIO(JPEG), payload("photo") + ".jpg")]})
    assert sent.status_code == 303, sent.get_data(as_text=True)
    ticket = Ticket.get(Ticket.tenant == tenant_row)
    loop.start(ticket.id, app.extensions["fixline"])  # offers it to the only pest vendor
    assert Message.select().where(Message.to_number == "+15553334444").exists()
    fault = Fault.create(kind="ticket", row_id=ticket.id, ticket=ticket, landlord=seeded,
                         attempts=5, error=payload("fault error"), failed_at=ticket.created_at)
    visit = Appointment.create(ticket=ticket, vendor=Vendor.get_by_id(vendor.get_json()["id"]),
                               status="cancelled", confirmation_method="manual")
    quote = Quote.create(ticket=ticket, appointment=visit, vendor=visit.vendor,
                         amount=Decimal("900.00"), status="pending")
    webhook = WebhookEndpoint.create(landlord=seeded, url="http://localhost:9/hooks",
                                     secret="whsec_test", description=payload("webhook"))
    delivery = WebhookDelivery.create(endpoint=webhook, event=Event.select().first(),
                                      retry_until=ticket.created_at)
    WebhookAttempt.create(delivery=delivery, started_at=ticket.created_at, status_code=500,
                          duration_ms=12, response_excerpt=payload("webhook answer"))
    return {
        "webhook_id": webhook.id, "delivery_id": delivery.id,
        "fault_id": fault.id, "quote_id": quote.id,
        "ticket_id": ticket.id, "token": tenant_row.intake_token,
        "photo_id": TicketPhoto.get(TicketPhoto.ticket == ticket).id,
        "vendor_id": vendor.get_json()["id"], "tenant_id": tenant_row.id,
        "property_id": prop.get_json()["id"], "field": "window", "name": "name",
    }


SHOWN = {  # field → where its text must appear (escaped) when that page exists
    "address": ["/intake/<token>", "/properties/"],
    "tenant name": ["/intake/<token>", "/tenants/"],
    "vendor name": ["/simulator/", "/vendors/"],
    "vendor notes": ["/vendors/", "/vendors/<int:vendor_id>/edit"],
    "description": ["/intake/<token>/tickets/<int:ticket_id>", "/tickets/<int:ticket_id>"],
    "notes": ["/intake/<token>/tickets/<int:ticket_id>", "/tickets/<int:ticket_id>"],
    "window": ["/intake/<token>/tickets/<int:ticket_id>", "/simulator/"],
    "fault error": ["/tickets/<int:ticket_id>", "/dashboard"],  # a parked row's error
    "webhook": ["/settings/webhooks/"],
    "webhook answer": ["/settings/webhooks/<int:webhook_id>"],
}


def test_markup_typed_anywhere_is_shown_escaped_on_every_page(app, world, landlord_client):
    pages: dict[str, str] = {}
    for rule in GET_ROUTES:
        url = fill(rule, world)
        response = landlord_client.get(url)
        assert response.status_code < 500, f"{url}: {response.status_code}"
        if response.mimetype != "text/html" or response.status_code != 200:
            continue
        pages[rule] = response.get_data(as_text=True)
        for target in re.findall(r'<[^>]*\bid="([\w-]+)"[^>]*\bhx-target="this"', pages[rule]):
            poll = re.search(rf'id="{target}"[^>]*\bhx-get="([^"]+)"', pages[rule])
            if poll:  # the polled fragment alone, as htmx asks for it
                fragment = landlord_client.get(
                    urlsplit(poll.group(1).replace("&amp;", "&")).path,
                    headers={"HX-Request": "true", "HX-Target": target})
                if fragment.status_code == 200:
                    pages[f"{rule} #{target}"] = fragment.get_data(as_text=True)

    assert "/dashboard" in pages and "/intake/<token>/tickets/<int:ticket_id>" in pages
    for where, html in pages.items():
        assert SCRIPT not in html, f"raw <script> on {where}"
        assert "<img src=x" not in html, f"raw <img onerror> on {where}"
        assert audit(html) == [], f"{where}: {audit(html)}"
    for field, places in SHOWN.items():
        present = [p for p in places if p in pages]
        assert present, f"none of {places} is a page"
        seen = [p for p in present if escaped(payload(field)) in pages[p]]
        assert seen, f"{field!r} is not shown (escaped) on any of {present}"


def test_every_page_has_a_strict_content_security_policy(app, world, landlord_client, client):
    """Every GET route, logged in and not: the policy, and nothing in the page it would block."""
    assert len(GET_ROUTES) >= 10
    for who in (landlord_client, client):
        for rule in GET_ROUTES:
            response = who.get(fill(rule, world))
            assert response.status_code < 500, rule
            check_csp(response, rule)
            if response.mimetype == "text/html":
                assert audit(response.get_data(as_text=True)) == [], rule


def test_links_in_polled_regions_swap_the_whole_page(app, world, landlord_client):
    """A link inside `hx-target="this"` needs hx-disinherit there, or its page lands inside."""
    found = {}
    stale = ["/tickets/<int:ticket_id>?seen=new"]  # the ticket page's "status changed" link
    for rule in GET_ROUTES + [page for page in stale if page.split("?")[0] in GET_ROUTES]:
        response = landlord_client.get(fill(rule, world))
        if response.mimetype != "text/html" or response.status_code != 200:
            continue
        if problems := inherited_targets(response.get_data(as_text=True)):
            found[rule] = problems
    assert found == {}, "add hx-disinherit=\"*\" to the polled element: " + repr(found)


def test_error_pages_and_the_login_page_carry_the_policy_too(client):
    for path in ("/login", "/no-such-page", "/intake/no-such-token"):
        check_csp(client.get(path), path)


@pytest.mark.parametrize("rule", POST_ROUTES)
def test_every_form_post_without_its_csrf_token_is_400(app, world, landlord_client, rule):
    url = fill(rule, world)
    before = [model.select().count() for model in (Ticket, Event, Message, Vendor, Tenant,
                                                    Property)]
    data = {"body": "YES", "name": "Changed", "address": "1 Changed St", "window": "any time",
            "category": "plumbing", "severity": "routine", "description": "x"}
    refused = landlord_client.post(url, data=data)
    assert refused.status_code == 400, f"{rule}: {refused.status_code}"
    after = [model.select().count() for model in (Ticket, Event, Message, Vendor, Tenant,
                                                  Property)]
    assert after == before, f"{rule} changed something without a CSRF token"

    token = CSRF.search(landlord_client.get("/dashboard").get_data(as_text=True)).group(1)
    control = landlord_client.post(url, data=dict(data, csrf_token=token),
                                   headers={"X-CSRFToken": token})
    assert "CSRF" not in control.get_data(as_text=True), f"{rule}: the token was refused"
