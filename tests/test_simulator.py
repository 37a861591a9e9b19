"""The demo vendor phone simulator answers offers through the real, signed SMS webhook,
posted to Fixline's configured address whatever Host the page was asked with."""

import contextlib
import re
import threading
from collections.abc import Iterator

import pytest
import requests
from werkzeug.serving import make_server

from app import create_app
from app.api.auth import mint
from app.db import db
from app.migrate import upgrade
from app.models import Appointment, Ping, Quote, Ticket
from app.seed import DEMO_EMAIL, DEMO_PASSWORD, load
from tests.conftest import make_config
from tests.test_make_run import free_port

CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


@contextlib.contextmanager
def serving(app, port: int = 0) -> Iterator[str]:
    """A WSGI app over real HTTP on 127.0.0.1; its base URL."""
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture
def live(database_url, tmp_path, broker):
    """A demo-mode app served over real HTTP on the port its configuration names."""
    port = free_port()
    app = create_app(make_config(database_url, tmp_path / "inst", demo=True, port=port))
    with app.app_context(), db.connection_context():
        upgrade()
    from actors import runtime

    runtime.use(app)
    with serving(app, port) as base:
        yield app, base


def logged_in(base: str) -> requests.Session:
    """A browser session of the demo landlord."""
    session = requests.Session()
    token = CSRF.search(session.get(f"{base}/login").text).group(1)
    answer = session.post(f"{base}/login", allow_redirects=False, data={
        "email": DEMO_EMAIL, "password": DEMO_PASSWORD, "csrf_token": token})
    assert answer.status_code == 303
    return session


def offered(app, base: str, broker, worker) -> Ping:
    """An emergency plumbing ticket of the demo landlord, offered to its first vendor."""
    with app.app_context(), db.connection_context():
        landlord = load()
        key = mint(landlord)
        tenant = landlord.properties[0].tenants[0]
    created = requests.post(f"{base}/api/tickets", headers={"Authorization": f"Bearer {key}"},
                            json={"tenantId": tenant.id, "propertyId": tenant.property_id,
                                  "category": "plumbing", "severity": "emergency",
                                  "window": "now"}).json()
    broker.join("default")
    worker.join()
    with app.app_context(), db.connection_context():
        return Ping.get(Ping.ticket == created["id"])


def test_accept_button_books_the_job(live, worker, broker):
    app, base = live
    ping = offered(app, base, broker, worker)
    created = {"id": ping.ticket_id}
    session = logged_in(base)
    page = session.get(f"{base}/simulator/")
    assert page.status_code == 200 and f"YES {ping.code}" in page.text
    token = CSRF.search(page.text).group(1)
    refused = session.post(f"{base}/simulator/vendors/{ping.vendor_id}/reply",
                           data={"body": f"YES {ping.code}"}, allow_redirects=False)
    assert refused.status_code == 400  # no CSRF token
    answered = session.post(f"{base}/simulator/vendors/{ping.vendor_id}/reply",
                            data={"body": f"YES {ping.code}", "csrf_token": token},
                            allow_redirects=False)
    assert answered.status_code == 303
    with app.app_context(), db.connection_context():
        assert Ticket.get_by_id(created["id"]).status == "scheduled"
        assert Appointment.select().where(Appointment.ticket == created["id"]).count() == 1
    fragment = session.get(f"{base}/simulator/vendors/{ping.vendor_id}/screen",
                           headers={"HX-Request": "true"})
    assert fragment.text.lstrip().startswith(f'<div id="screen-{ping.vendor_id}"')
    assert "You have job" in fragment.text
    session.close()


def test_simulator_is_absent_outside_demo_mode(client):
    assert client.get("/simulator/").status_code == 404


def test_a_forged_host_header_cannot_send_the_signed_webhook_elsewhere(live, worker, broker):
    """The webhook goes to the configured address; the Host the page was asked with is ignored."""
    app, base = live
    ping = offered(app, base, broker, worker)
    session = logged_in(base)
    token = CSRF.search(session.get(f"{base}/simulator/").text).group(1)
    caught: list[str] = []

    def elsewhere(environ, start_response):
        caught.append(environ["PATH_INFO"])
        start_response("200 OK", [("Content-Type", "text/xml")])
        return [b"<Response/>"]

    with serving(elsewhere) as evil:
        answered = session.post(f"{base}/simulator/vendors/{ping.vendor_id}/reply",
                                headers={"Host": evil.removeprefix("http://")},
                                data={"body": f"YES {ping.code}", "csrf_token": token},
                                allow_redirects=False)
    assert answered.status_code == 303
    assert caught == []
    with app.app_context(), db.connection_context():
        assert Ticket.get_by_id(ping.ticket_id).status == "scheduled"
    session.close()


def test_the_simulator_plays_a_whole_visit_for_vendor_and_tenant(live, worker, broker):
    """Accept with a time, the tenant confirms, DONE, the tenant rates: every step a signed
    webhook from the simulator's buttons, as Twilio would post it."""
    app, base = live
    ping = offered(app, base, broker, worker)
    session = logged_in(base)
    page = session.get(f"{base}/simulator/")
    token = CSRF.search(page.text).group(1)
    with app.app_context(), db.connection_context():
        tenant = Ticket.get_by_id(ping.ticket_id).tenant

    def vendor_says(body: str) -> None:
        answered = session.post(f"{base}/simulator/vendors/{ping.vendor_id}/reply",
                                data={"body": body, "csrf_token": token}, allow_redirects=False)
        assert answered.status_code == 303
        broker.join("default")
        worker.join()

    def tenant_says(body: str) -> None:
        answered = session.post(f"{base}/simulator/tenants/{tenant.id}/reply",
                                data={"body": body, "csrf_token": token}, allow_redirects=False)
        assert answered.status_code == 303
        broker.join("default")
        worker.join()

    assert f'value="YES {ping.code} tomorrow 10am"' in page.text
    vendor_says(f"YES {ping.code} tomorrow 10am")
    with app.app_context(), db.connection_context():
        visit = Appointment.get(Appointment.ticket == ping.ticket_id)
        assert visit.status == "tentative" and visit.starts_at is not None
    screen = session.get(f"{base}/simulator/tenants/{tenant.id}/screen").text
    assert "does the visit time work?" in screen and "Reply YES to confirm" in screen
    tenant_says("YES")
    with app.app_context(), db.connection_context():
        assert Appointment.get_by_id(visit.id).status == "confirmed"
    vendor_screen = session.get(f"{base}/simulator/vendors/{ping.vendor_id}/screen").text
    assert f'value="DONE {ping.code}"' in vendor_screen and "/j/" in vendor_screen
    vendor_says(f"DONE {ping.code}")
    with app.app_context(), db.connection_context():
        assert Ticket.get_by_id(ping.ticket_id).status == "completed"
    assert "is it fixed?" in session.get(f"{base}/simulator/tenants/{tenant.id}/screen").text
    tenant_says("5")
    with app.app_context(), db.connection_context():
        assert Appointment.get_by_id(visit.id).rating == 5
    session.close()


def test_the_simulator_plays_the_landlords_phone_for_a_quote(live, worker, broker):
    """The vendor books and quotes over the demo property's $250 limit; the landlord's phone in
    the simulator answers APPROVE <n> and the quote is approved, the vendor told: signed
    webhooks from the simulator's forms, as Twilio would post them."""
    app, base = live
    ping = offered(app, base, broker, worker)
    session = logged_in(base)
    token = CSRF.search(session.get(f"{base}/simulator/").text).group(1)

    def says(path: str, body: str) -> None:
        answered = session.post(f"{base}/simulator/{path}/reply",
                                data={"body": body, "csrf_token": token}, allow_redirects=False)
        assert answered.status_code == 303
        broker.join("default")
        worker.join()

    says(f"vendors/{ping.vendor_id}", f"YES {ping.code}")
    says(f"vendors/{ping.vendor_id}", f"QUOTE {ping.code} 1234.50")
    with app.app_context(), db.connection_context():
        quote = Quote.get(Quote.ticket == ping.ticket_id)
        assert quote.status == "pending"  # over the demo property's $250.00 limit
    screen = session.get(f"{base}/simulator/landlord/screen").text
    assert f"Reply APPROVE {quote.id} or DENY {quote.id}" in screen and "$1,234.50" in screen
    says("landlord", f"APPROVE {quote.id}")
    with app.app_context(), db.connection_context():
        assert Quote.get_by_id(quote.id).status == "approved"
    vendor_screen = session.get(f"{base}/simulator/vendors/{ping.vendor_id}/screen").text
    assert "approved your quote of $1,234.50" in vendor_screen
    session.close()
