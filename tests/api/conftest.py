"""API fixtures: tickets in any state, vendors, and the other landlord's objects."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from app import ratelimit
from app.booking import transitions
from app.booking.vendors import create_vendor
from app.db import transaction
from app.models import MODELS, ApiKey, Landlord, Property, Tenant, Ticket, Vendor

# The shortest legal road from `new` to each status.

@pytest.fixture(autouse=True)
def fresh_rate_limits():
    """Every test starts with empty in-process rate-limit windows (landlord ids repeat)."""
    ratelimit._memory.clear()
    yield
    ratelimit._memory.clear()


def make_ticket(landlord: Landlord, status: str = "dispatching", **fields) -> Ticket:
    """A ticket of landlord at its first property, walked to status through the state machine."""
    prop = Property.select().where(Property.landlord == landlord).order_by(Property.id).first()
    tenant = Tenant.get(Tenant.property == prop)
    values = dict(category="plumbing", severity="emergency", window="today 2-5pm")
    values.update(fields)
    ticket = Ticket.create(landlord=landlord, property=prop, tenant=tenant, **values)
    with transaction():
        for step in transitions.path("new", status):
            transitions.change_status(ticket, step, actor="test")
    return ticket


def make_vendor(landlord: Landlord, name: str = "Acme Plumbing", **fields) -> Vendor:
    values = dict(name=name, phones=["+15550003000"], specialties=["plumbing"],
                  hours="24/7", priority=1)
    values.update(fields)
    return create_vendor(landlord, values)


@pytest.fixture
def ticket(landlord) -> Ticket:
    return make_ticket(landlord)


@pytest.fixture
def vendor(landlord) -> Vendor:
    return make_vendor(landlord)


@pytest.fixture
def theirs(other_landlord) -> SimpleNamespace:
    """The other landlord's property, tenant, ticket and vendor."""
    prop = Property.get(Property.landlord == other_landlord)
    return SimpleNamespace(
        landlord=other_landlord, property=prop, tenant=Tenant.get(Tenant.property == prop),
        ticket=make_ticket(other_landlord), vendor=make_vendor(other_landlord, "Their Plumber",
                                                               phones=["+15550009000"]),
    )


def snapshot() -> dict[str, list[tuple]]:
    """Every row of every table (API keys aside: using one stamps last_used_at)."""
    return {model.__name__: [tuple(row) for row in model.select().order_by(model.id).tuples()]
            for model in MODELS if model is not ApiKey}


def error_of(response) -> dict:
    """The error object of an API error answer, checking its shape on the way."""
    assert response.is_json, response.data
    error = response.json["error"]
    assert isinstance(error["code"], str) and isinstance(error["message"], str)
    return error
