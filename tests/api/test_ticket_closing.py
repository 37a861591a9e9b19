"""POST /api/tickets/{id}/cancel takes an optional {reason}; cancel and complete tell people."""

from __future__ import annotations

import pytest

from app import events
from app.models import Event, Message, Ticket
from tests.api.conftest import error_of, make_ticket


def cancelled_event(ticket: Ticket) -> Event:
    return Event.get(Event.ticket == ticket, Event.type == "ticket.cancelled")


@pytest.mark.parametrize("kwargs", [{}, {"json": {}}, {"data": b"", "content_type":
                                                        "application/json"}])
def test_cancel_without_a_reason_still_works(client, auth, landlord, kwargs):
    ticket = make_ticket(landlord, "dispatching")
    response = client.post(f"/api/tickets/{ticket.id}/cancel", headers=auth, **kwargs)
    assert response.status_code == 200 and response.json["status"] == "cancelled"
    assert cancelled_event(ticket).data["reason"] is None


def test_cancel_with_a_reason_keeps_it_in_the_event_and_timeline(client, auth, landlord,
                                                                  config):
    ticket = make_ticket(landlord, "scheduled")
    response = client.post(f"/api/tickets/{ticket.id}/cancel", headers=auth,
                           json={"reason": "  Tenant moved out  "})
    assert response.status_code == 200 and response.json["status"] == "cancelled"
    event = cancelled_event(ticket)
    assert (event.data["reason"], event.actor) == ("Tenant moved out", f"landlord:{landlord.id}")
    timeline = client.get(f"/api/tickets/{ticket.id}/timeline", headers=auth).json
    assert "Ticket cancelled: Tenant moved out" in [e["summary"] for e in timeline]
    assert events.handle(event.id, config)  # as the worker does after commit
    tenant_notice = Message.get(Message.ticket == ticket, Message.recipient_type == "tenant")
    assert "Reason: Tenant moved out." in tenant_notice.body


@pytest.mark.parametrize("body, field", [({"reason": "x" * 501}, "reason"),
                                         ({"reason": None}, "reason"),
                                         ({"reason": 5}, "reason")])
def test_a_bad_reason_is_422_and_changes_nothing(client, auth, landlord, body, field):
    ticket = make_ticket(landlord, "dispatching")
    response = client.post(f"/api/tickets/{ticket.id}/cancel", headers=auth, json=body)
    assert response.status_code == 422 and field in error_of(response)["fields"]
    assert Ticket.get_by_id(ticket.id).status == "dispatching"


def test_a_body_that_is_not_json_is_400(client, auth, landlord):
    ticket = make_ticket(landlord, "dispatching")
    response = client.post(f"/api/tickets/{ticket.id}/cancel", headers=auth,
                           data="because", content_type="text/plain")
    assert response.status_code == 400
    assert Ticket.get_by_id(ticket.id).status == "dispatching"


def test_complete_tells_the_tenant(client, auth, landlord, config):
    ticket = make_ticket(landlord, "scheduled")
    response = client.post(f"/api/tickets/{ticket.id}/complete", headers=auth)
    assert response.status_code == 200
    event = Event.get(Event.ticket == ticket, Event.type == "ticket.completed")
    assert events.handle(event.id, config)  # as the worker does after commit
    notice = Message.get(Message.ticket == ticket, Message.recipient_type == "tenant")
    assert "marked the" in notice.body and "as done" in notice.body


def test_the_document_says_the_cancel_body_is_optional(client):
    document = client.get("/api/openapi.json").json
    operation = document["paths"]["/api/tickets/{ticket_id}/cancel"]["post"]
    assert operation["requestBody"]["required"] is False
    ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    schema = document["components"]["schemas"][ref.rsplit("/", 1)[1]]
    assert schema["properties"]["reason"]["maxLength"] == 500
    assert "reason" not in schema.get("required", [])
