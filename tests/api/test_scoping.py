"""Two landlords: another landlord's object is 404 by path, 422 by body, and never touched."""

import re
from datetime import datetime
from decimal import Decimal

import pytest

from app.api import ROUTES
from app.models import Appointment, Event, Quote, WebhookDelivery, WebhookEndpoint
from tests.api.conftest import error_of, snapshot

# (method, path template, body template, expected status, field named on a 422).
# {ticket}, {vendor}, {tenant}, {property}: the other landlord's; {my_*}: the caller's own.
MATRIX = [
    ("GET", "/api/tickets/{ticket}", None, 404, None),
    ("GET", "/api/tickets/{ticket}/timeline", None, 404, None),
    ("POST", "/api/tickets/{ticket}/cancel", None, 404, None),
    ("POST", "/api/tickets/{ticket}/complete", None, 404, None),
    ("GET", "/api/appointments/{appointment}", None, 404, None),
    ("POST", "/api/appointments/{appointment}/reschedule", {"startsAt": "2030-01-01T10:00:00Z"},
     404, None),
    ("POST", "/api/appointments/{appointment}/cancel", None, 404, None),
    ("POST", "/api/appointments/{appointment}/complete", None, 404, None),
    ("GET", "/api/vendors/{vendor}/scorecard", None, 404, None),
    ("POST", "/api/quotes/{quote}/approve", None, 404, None),
    ("POST", "/api/quotes/{quote}/deny", None, 404, None),
    ("GET", "/api/vendors/{vendor}", None, 404, None),
    ("PUT", "/api/vendors/{vendor}", {"name": "Hijacked", "active": False}, 404, None),
    ("DELETE", "/api/vendors/{vendor}", None, 404, None),
    ("POST", "/api/vendors/{vendor}/ping", {"ticketId": "{my_ticket}"}, 404, None),
    ("POST", "/api/vendors/{my_vendor}/ping", {"ticketId": "{ticket}"}, 422, "ticketId"),
    ("GET", "/api/tenants/{tenant}", None, 404, None),
    ("GET", "/api/webhooks/{webhook}", None, 404, None),
    ("DELETE", "/api/webhooks/{webhook}", None, 404, None),
    ("GET", "/api/webhooks/{webhook}/deliveries", None, 404, None),
    ("POST", "/api/webhook-deliveries/{delivery}/redeliver", None, 404, None),
    ("GET", "/api/properties/{property}", None, 404, None),
    ("POST", "/api/tenants", {"name": "Mallory", "phone": "+15550006666",
                              "propertyId": "{property}"}, 422, "propertyId"),
    ("POST", "/api/tickets", {"tenantId": "{tenant}", "propertyId": "{property}",
                              "category": "lock", "severity": "routine", "window": "any"},
     422, "propertyId"),
    ("POST", "/api/tickets", {"tenantId": "{tenant}", "propertyId": "{my_property}",
                              "category": "lock", "severity": "routine", "window": "any"},
     422, "tenantId"),
    ("POST", "/api/appointments", {"ticketId": "{ticket}", "vendorId": "{my_vendor}",
                                   "startsAt": "2030-01-01T10:00:00Z",
                                   "confirmationMethod": "api"}, 422, "ticketId"),
    ("POST", "/api/appointments", {"ticketId": "{my_ticket}", "vendorId": "{vendor}",
                                   "startsAt": "2030-01-01T10:00:00Z",
                                   "confirmationMethod": "api"}, 422, "vendorId"),
    ("POST", "/api/notify", {"recipient": {"type": "tenant", "id": "{tenant}"},
                             "message": "hi"}, 422, "recipient"),
    ("POST", "/api/notify", {"recipient": {"type": "vendor", "id": "{vendor}"},
                             "message": "hi"}, 422, "recipient"),
    ("POST", "/api/notify", {"recipient": {"type": "landlord", "id": "{landlord}"},
                             "message": "hi"}, 422, "recipient"),
]


def _fill(value, ids: dict[str, int]):
    if isinstance(value, dict):
        return {key: _fill(item, ids) for key, item in value.items()}
    if isinstance(value, str) and value.startswith("{") and value.endswith("}"):
        return ids[value[1:-1]]
    return value


@pytest.fixture
def ids(theirs, home, ticket, vendor) -> dict[str, int]:
    visit = Appointment.create(ticket=theirs.ticket, vendor=theirs.vendor, status="tentative",
                               confirmation_method="manual")
    quote = Quote.create(ticket=theirs.ticket, appointment=visit, vendor=theirs.vendor,
                         amount=Decimal("900.00"), status="pending")
    webhook = WebhookEndpoint.create(landlord=theirs.landlord, url="http://localhost/x",
                                     secret="whsec_theirs")
    event = Event.create(landlord=theirs.landlord, ticket=theirs.ticket, type="ticket.escalated",
                         actor="system")
    delivery = WebhookDelivery.create(endpoint=webhook, event=event,
                                      retry_until=datetime(2030, 1, 1))
    return {"appointment": visit.id, "quote": quote.id, "webhook": webhook.id,
            "delivery": delivery.id,
            "ticket": theirs.ticket.id, "vendor": theirs.vendor.id, "tenant": theirs.tenant.id,
            "property": theirs.property.id, "landlord": theirs.landlord.id,
            "my_ticket": ticket.id, "my_vendor": vendor.id, "my_property": home[0].id}


@pytest.mark.parametrize("method,path,body,status,field", MATRIX,
                         ids=[f"{m} {p} {f or ''}".strip() for m, p, _, _, f in MATRIX])
def test_another_landlords_object(client, auth, ids, method, path, body, status, field):
    before = snapshot()
    response = client.open(path.format(**ids), method=method, headers=auth,
                           json=_fill(body, ids) if body is not None else None)
    assert response.status_code == status, response.json
    error = error_of(response)
    if status == 422:
        assert set(error["fields"]) == {field}
    else:
        assert error["code"] == "not_found"
    assert snapshot() == before


def test_the_owner_still_sees_everything(client, other_auth, ids):
    for path in ("/api/tickets/{ticket}", "/api/vendors/{vendor}", "/api/tenants/{tenant}",
                 "/api/properties/{property}"):
        assert client.get(path.format(**ids), headers=other_auth).status_code == 200


@pytest.mark.parametrize("path", ["/api/tickets", "/api/vendors", "/api/tenants",
                                  "/api/properties", "/api/messages"])
def test_lists_hold_only_my_objects(client, auth, other_auth, ids, path):
    mine = client.get(path, headers=auth).json
    items = mine["items"] if isinstance(mine, dict) else mine
    theirs = client.get(path, headers=other_auth).json
    their_items = theirs["items"] if isinstance(theirs, dict) else theirs
    assert not {i["id"] for i in items} & {i["id"] for i in their_items}


def _shape(path: str) -> str:
    return re.sub(r"<int:\w+>|\{\w+\}", "{id}", path)


def test_matrix_covers_every_route_with_an_id():
    """A new route taking an id fails here until it joins the matrix."""
    with_ids = {(spec.method, _shape("/api" + spec.rule))
                for spec in ROUTES if "<int:" in spec.rule}
    assert with_ids <= {(method, _shape(path)) for method, path, *_ in MATRIX}
