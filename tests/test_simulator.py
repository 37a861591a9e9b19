"""The demo vendor phone simulator answers offers through the real, signed SMS webhook."""

import re
import threading

import pytest
import requests
from werkzeug.serving import make_server

from app import create_app
from app.api.auth import mint
from app.db import db
from app.migrate import upgrade
from app.models import Appointment, Ping, Ticket
from app.seed import load
from tests.conftest import make_config


@pytest.fixture
def live(database_url, tmp_path, broker):
    """A demo-mode app served over real HTTP on a free port."""
    app = create_app(make_config(database_url, tmp_path / "inst", demo=True))
    with app.app_context(), db.connection_context():
        upgrade()
    from actors import runtime

    runtime.use(app)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield app, f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_accept_button_books_the_job(live, worker, broker):
    app, base = live
    with app.app_context(), db.connection_context():
        landlord = load()
        key = mint(landlord)
        tenant = landlord.properties[0].tenants[0]
    session = requests.Session()
    created = session.post(f"{base}/api/tickets", headers={"Authorization": f"Bearer {key}"},
                           json={"tenantId": tenant.id, "propertyId": tenant.property_id,
                                 "category": "plumbing", "severity": "emergency",
                                 "window": "now"}).json()
    broker.join("default")
    worker.join()
    with app.app_context(), db.connection_context():
        ping = Ping.get(Ping.ticket == created["id"])
    page = session.get(f"{base}/simulator/")
    assert page.status_code == 200 and f"YES {ping.code}" in page.text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
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
    fragment = session.get(f"{base}/simulator/", headers={"HX-Request": "true",
                                                          "HX-Target": "phones"})
    assert fragment.text.lstrip().startswith("<section id=\"phones\"")
    assert "You have job" in fragment.text
    session.close()


def test_simulator_is_absent_outside_demo_mode(client):
    assert client.get("/simulator/").status_code == 404
