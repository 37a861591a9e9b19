"""Web fixtures: the demo landlord logged in, a second landlord logged in, tickets in any state.

Use them from any test under tests/web:

    def test_something(landlord_client, other_client, make_ticket, seeded, other_landlord):
        ticket = make_ticket(seeded, "escalated")
        assert landlord_client.get(f"/tickets/{ticket.id}").status_code == 200
        assert other_client.get(f"/tickets/{ticket.id}").status_code == 404

`login(client, email, password, next=None)` and `csrf_token(client, path="/login")` are
fixtures that return plain functions (no import needed).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
from flask import current_app
from flask.testing import FlaskClient
from werkzeug.security import generate_password_hash

from app import clock, ratelimit
from app.booking import transitions
from app.booking.sla import escalation_deadline
from app.db import transaction
from app.models import Landlord, Property, Tenant, Ticket
from app.seed import DEMO_EMAIL, DEMO_PASSWORD
from app.seed import load as load_seed

OTHER_PASSWORD = "otto-password-1"

# The shortest legal road from `new` to each status (CONTRACT.md §6).
_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


class FreshContextClient(FlaskClient):
    """Runs each request in its own app context, as a server does.

    The `app` fixture keeps one app context pushed for the whole test, so without this `g`
    (where Flask-WTF caches the CSRF token) would leak from one request, and one client, to
    the next.
    """

    def open(self, *args, **kwargs):
        with self.application.app_context():
            return super().open(*args, **kwargs)


@pytest.fixture(autouse=True)
def fresh_request_contexts(app):
    """Every test client made in tests/web (including `client`) is a FreshContextClient."""
    app.test_client_class = FreshContextClient
    yield


@pytest.fixture(autouse=True)
def fresh_rate_limits():
    """Every test starts with empty in-process rate-limit windows (logins repeat often)."""
    ratelimit._memory.clear()
    yield
    ratelimit._memory.clear()


def get_csrf_token(client, path: str = "/login") -> str:
    """The CSRF token a page hands out (it is tied to the client's session)."""
    page = client.get(path)
    found = _CSRF.search(page.get_data(as_text=True))
    assert found, f"no csrf_token on {path} ({page.status_code})"
    return found.group(1)


def log_in(client, email: str, password: str, next: str | None = None):
    """Post the login form as a browser would; returns the response (303 on success)."""
    token = get_csrf_token(client)
    return client.post("/login", query_string={} if next is None else {"next": next},
                       data={"email": email, "password": password, "csrf_token": token})


@pytest.fixture
def csrf_token() -> Callable[..., str]:
    return get_csrf_token


@pytest.fixture
def login() -> Callable:
    return log_in


@pytest.fixture
def seeded(app) -> Landlord:
    """The demo data of CONTRACT.md §4 (John Smith, three properties, five vendors)."""
    return load_seed()


@pytest.fixture
def other_landlord_with_password(other_landlord) -> Landlord:
    """The second landlord (Otto Other, otto@example.com), able to log in with OTHER_PASSWORD."""
    # a cheap hash keeps the many logins of web tests fast; production hashes use scrypt
    other_landlord.password_hash = generate_password_hash(OTHER_PASSWORD, "pbkdf2:sha256:1000")
    other_landlord.save()
    return other_landlord


@pytest.fixture
def landlord_client(app, seeded):
    """A test client logged in as the demo landlord, john.smith@example.com."""
    client = app.test_client()
    response = log_in(client, DEMO_EMAIL, DEMO_PASSWORD)
    assert response.status_code == 303, response.get_data(as_text=True)
    return client


@pytest.fixture
def other_client(app, other_landlord_with_password):
    """A test client logged in as the second landlord, who must never see the first's data."""
    client = app.test_client()
    response = log_in(client, other_landlord_with_password.email, OTHER_PASSWORD)
    assert response.status_code == 303, response.get_data(as_text=True)
    return client


def create_ticket(
    landlord: Landlord,
    status: str = "new",
    *,
    created_at: datetime | None = None,
    booked_after: float | None = None,
    property: Property | None = None,
    tenant: Tenant | None = None,
    **fields,
) -> Ticket:
    """A ticket walked to status through the state machine.

    created_at defaults to now (the fake clock when set); escalate_at defaults to the SLA
    deadline for its severity; booked_after stamps booked_at that many seconds after creation.
    """
    created_at = created_at or clock.now()
    if property is None:
        property = (Property.select().where(Property.landlord == landlord)
                    .order_by(Property.id).first())
    if tenant is None:
        tenant = Tenant.select().where(Tenant.property == property).order_by(Tenant.id).first()
    values = dict(category="plumbing", severity="emergency", window="today 2-5pm")
    values.update(fields)
    values.setdefault("escalate_at", escalation_deadline(
        values["severity"], created_at, current_app.extensions["fixline"]))
    ticket = Ticket.create(landlord=landlord, property=property, tenant=tenant,
                           created_at=created_at, updated_at=created_at, **values)
    with transaction():
        for step in transitions.path("new", status):
            at = created_at
            if step == "scheduled" and booked_after is not None:
                at = created_at + timedelta(seconds=booked_after)
            changes = {"escalation_reason": "test"} if step == "escalated" else {}
            transitions.change_status(ticket, step, actor="test", at=at, **changes)
    return ticket


@pytest.fixture
def make_ticket() -> Callable[..., Ticket]:
    """create_ticket(landlord, status="new", *, created_at, booked_after, property, tenant, ...)."""
    return create_ticket
