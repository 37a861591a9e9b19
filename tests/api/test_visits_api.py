"""The visit through the API (CONTRACT.md §9): read, reschedule, cancel and complete an
appointment; its visit times in the ticket; a property's postal code."""

from __future__ import annotations

from datetime import timedelta
from typing import get_args

import pytest

from app import clock, models
from app.api import schemas as s
from app.booking import visits
from app.booking.appointments import book
from app.models import Appointment, Event, Message, Ping, Question, Ticket
from tests.api.conftest import error_of, make_vendor, snapshot


def ahead(hours: float):
    """A whole second this many hours from now, naive UTC."""
    return (clock.now() + timedelta(hours=hours)).replace(microsecond=0)


def iso(moment) -> str:
    return clock.isoformat(moment)


@pytest.fixture
def visit(client, auth, ticket, vendor) -> Appointment:
    """A tentative visit of the landlord's ticket, booked by hand two days ahead."""
    response = client.post("/api/appointments", headers=auth, json={
        "ticketId": ticket.id, "vendorId": vendor.id, "startsAt": iso(ahead(48)),
        "confirmationMethod": "manual"})
    assert response.status_code == 201, response.json
    return Appointment.get_by_id(response.json["id"])


def newest_id(model) -> int:
    return model.select(model.id).order_by(model.id.desc()).scalar() or 0


def messages_since(first_id: int, kind: str) -> list[Message]:
    return list(Message.select().where(Message.id > first_id, Message.recipient_type == kind,
                                       Message.direction == "outbound"))


def post(client, auth, visit, action: str, **kwargs):
    return client.post(f"/api/appointments/{visit.id}/{action}", headers=auth, **kwargs)


# -- reading ----------------------------------------------------------------------------


def test_get_answers_the_section_9_shape(client, auth, visit, vendor):
    shown = client.get(f"/api/appointments/{visit.id}", headers=auth)
    assert shown.status_code == 200
    body = shown.json
    assert {"id", "ticketId", "vendor", "status", "startsAt", "endsAt", "confirmationMethod",
            "confirmedAt", "completedAt", "cancelledAt", "rating", "timeRefused", "vendorId",
            "createdAt"} == set(body)
    assert (body["status"], body["vendor"]["id"], body["ticketId"]) == (
        "tentative", vendor.id, visit.ticket_id)
    assert body["startsAt"] == iso(visit.starts_at) and body["startsAt"].endswith("Z")
    assert (body["confirmedAt"], body["completedAt"], body["cancelledAt"], body["rating"],
            body["timeRefused"]) == (None, None, None, None, False)


def test_the_ticket_shows_confirmed_at_then_completed_at(client, auth, visit):
    assert visits.confirm(visit.id, actor="tenant:1") == "confirmed"
    shown = client.get(f"/api/tickets/{visit.ticket_id}", headers=auth).json["appointments"][0]
    assert shown["status"] == "confirmed"
    assert shown["confirmedAt"] == iso(Appointment.get_by_id(visit.id).confirmed_at)
    assert shown["confirmedAt"] is not None and shown["completedAt"] is None
    assert post(client, auth, visit, "complete").status_code == 200
    shown = client.get(f"/api/tickets/{visit.ticket_id}", headers=auth).json["appointments"][0]
    assert shown["status"] == "completed" and shown["completedAt"] is not None
    assert shown["completedAt"] == iso(Appointment.get_by_id(visit.id).completed_at)


def test_a_refused_time_and_a_job_page_booking_show(client, auth, visit, landlord, config):
    assert visits.refuse(visit.id, actor="tenant:1") == "refused"
    assert client.get(f"/api/appointments/{visit.id}", headers=auth).json["timeRefused"] is True
    assert post(client, auth, visit, "cancel").status_code == 200
    taken = book(Ticket.get_by_id(visit.ticket_id), make_vendor(landlord, "Web Plumber",
                                                                phones=["+15550004444"]),
                 None, None, "web", actor="vendor:2", config=config)
    shown = client.get(f"/api/appointments/{taken.id}", headers=auth).json
    assert shown["confirmationMethod"] == "web" and shown["startsAt"] is None


@pytest.mark.parametrize("times, field", [
    ({"startsAt": "9999-12-31T23:00:00Z"}, "startsAt"),
    ({"startsAt": "2030-05-01T14:00:00Z", "endsAt": "9999-12-31T23:59:59Z"}, "endsAt"),
])
def test_booking_a_time_too_far_to_schedule_is_422(client, auth, ticket, vendor, times, field):
    before = snapshot()
    response = client.post("/api/appointments", headers=auth, json={
        "ticketId": ticket.id, "vendorId": vendor.id, "confirmationMethod": "manual", **times})
    assert response.status_code == 422 and set(error_of(response)["fields"]) == {field}
    assert snapshot() == before


# -- reschedule -------------------------------------------------------------------------


def test_reschedule_moves_the_time_rearms_and_asks_the_tenant(client, auth, landlord, visit,
                                                              vendor):
    armed, last_message = visit.remind_at, newest_id(Message)
    starts, ends = ahead(72), ahead(74)
    response = post(client, auth, visit, "reschedule",
                    json={"startsAt": iso(starts), "endsAt": iso(ends)})
    assert response.status_code == 200, response.json
    assert (response.json["startsAt"], response.json["endsAt"]) == (iso(starts), iso(ends))
    assert response.json["status"] == "tentative"
    stored = Appointment.get_by_id(visit.id)
    assert (stored.starts_at, stored.ends_at) == (starts, ends)
    assert stored.remind_at != armed and stored.remind_at == starts - timedelta(days=1)
    question = questions_of(visit, "confirm")[-1]
    assert question.closed_at is None and question.role == "tenant"
    tenant, = messages_since(last_message, "tenant")
    assert "Reply YES to confirm" in tenant.body
    told, = messages_since(last_message, "vendor")
    assert told.to_number == vendor.phones[0]
    event = Event.get(Event.type == "visit.time_set", Event.ticket == visit.ticket_id)
    assert event.actor == f"landlord:{landlord.id}" and event.data["startsAt"] == iso(starts)


def questions_of(visit: Appointment, kind: str) -> list[Question]:
    return list(Question.select().where(Question.appointment == visit.id, Question.kind == kind)
                .order_by(Question.id))


def test_reschedule_without_an_end_takes_the_default_one(client, auth, visit):
    starts = ahead(96)
    response = post(client, auth, visit, "reschedule", json={"startsAt": iso(starts)})
    assert response.status_code == 200
    assert Appointment.get_by_id(visit.id).ends_at > starts


@pytest.mark.parametrize("times, fields", [
    (lambda: {"startsAt": "2020-01-01T09:00:00Z"}, {"startsAt"}),
    (lambda: {"startsAt": iso(ahead(-2))}, {"startsAt"}),
    (lambda: {"startsAt": iso(ahead(50)), "endsAt": iso(ahead(49))}, {"endsAt"}),
    (lambda: {"startsAt": iso(ahead(50)), "endsAt": iso(ahead(50))}, {"endsAt"}),
    (lambda: {"startsAt": iso(ahead(24 * 400))}, {"startsAt"}),
    (lambda: {"startsAt": "9999-12-31T23:00:00Z"}, {"startsAt"}),
    (lambda: {"startsAt": iso(ahead(50)), "endsAt": "9999-12-31T23:59:59Z"}, {"endsAt"}),
    (lambda: {"startsAt": "next tuesday"}, {"startsAt"}),
    (lambda: {"endsAt": iso(ahead(50))}, {"startsAt"}),
])
def test_a_bad_time_is_422_and_changes_nothing(client, auth, visit, times, fields):
    before = snapshot()
    response = post(client, auth, visit, "reschedule", json=times())
    assert response.status_code == 422, response.json
    assert set(error_of(response)["fields"]) == fields
    assert snapshot() == before


@pytest.mark.parametrize("kwargs", [{"data": "{startsAt", "content_type": "application/json"},
                                    {"data": "", "content_type": "application/json"},
                                    {"json": ["2030-01-01T00:00:00Z"]}])
def test_a_body_that_is_not_a_json_object_is_400(client, auth, visit, kwargs):
    before = snapshot()
    assert post(client, auth, visit, "reschedule", **kwargs).status_code == 400
    assert snapshot() == before


def test_reschedule_of_a_cancelled_visit_is_409(client, auth, visit):
    assert post(client, auth, visit, "cancel").status_code == 200
    before = snapshot()
    response = post(client, auth, visit, "reschedule", json={"startsAt": iso(ahead(30))})
    assert response.status_code == 409 and error_of(response)["code"] == "illegal_state_change"
    assert snapshot() == before


# -- cancel -----------------------------------------------------------------------------


def test_cancel_sends_the_ticket_to_the_next_vendor(client, auth, landlord, visit, vendor):
    other = make_vendor(landlord, "Bravo Plumbing", phones=["+15550004000"])
    last_message = newest_id(Message)
    response = post(client, auth, visit, "cancel", json={"reason": "  Vendor is ill  "})
    assert response.status_code == 200, response.json
    assert response.json["status"] == "cancelled" and response.json["cancelledAt"] is not None
    assert Ticket.get_by_id(visit.ticket_id).status == "dispatching"
    pinged = [(p.vendor_id, p.outcome) for p in Ping.select().where(
        Ping.ticket == visit.ticket_id)]
    assert pinged == [(other.id, "pending")]
    event = Event.get(Event.type == "appointment.cancelled", Event.ticket == visit.ticket_id)
    assert (event.data["by"], event.data["reason"]) == ("landlord", "Vendor is ill")
    assert event.actor == f"landlord:{landlord.id}"
    assert messages_since(last_message, "tenant")
    told = [m for m in messages_since(last_message, "vendor") if m.to_number == vendor.phones[0]]
    assert told and "Vendor is ill" in told[0].body
    timeline = client.get(f"/api/tickets/{visit.ticket_id}/timeline", headers=auth).json
    assert "appointment.cancelled" in [entry["type"] for entry in timeline]


@pytest.mark.parametrize("kwargs", [{}, {"json": {}}, {"json": {"reason": "   "}}])
def test_cancel_needs_no_reason(client, auth, visit, kwargs):
    response = post(client, auth, visit, "cancel", **kwargs)
    assert response.status_code == 200 and response.json["status"] == "cancelled"
    event = Event.get(Event.type == "appointment.cancelled", Event.ticket == visit.ticket_id)
    assert event.data["reason"] is None


@pytest.mark.parametrize("body", [{"reason": "x" * 501}, {"reason": None}, {"reason": 7}])
def test_a_bad_reason_is_422_and_changes_nothing(client, auth, visit, body):
    before = snapshot()
    response = post(client, auth, visit, "cancel", json=body)
    assert response.status_code == 422 and set(error_of(response)["fields"]) == {"reason"}
    assert snapshot() == before


def test_cancelling_twice_is_409(client, auth, visit):
    assert post(client, auth, visit, "cancel").status_code == 200
    before = snapshot()
    again = post(client, auth, visit, "cancel")
    assert again.status_code == 409 and snapshot() == before


# -- complete ---------------------------------------------------------------------------


def test_complete_completes_the_ticket_and_asks_for_a_rating(client, auth, landlord, visit):
    last_message = newest_id(Message)
    response = post(client, auth, visit, "complete")
    assert response.status_code == 200, response.json
    assert response.json["status"] == "completed" and response.json["completedAt"] is not None
    assert Ticket.get_by_id(visit.ticket_id).status == "completed"
    rate, = questions_of(visit, "rate")
    assert rate.closed_at is None
    asked, = messages_since(last_message, "tenant")
    assert "Reply 1-5" in asked.body
    event = Event.get(Event.type == "appointment.completed", Event.ticket == visit.ticket_id)
    assert event.actor == f"landlord:{landlord.id}"

    before = snapshot()
    again = post(client, auth, visit, "complete")
    assert again.status_code == 200 and again.json == response.json
    assert snapshot() == before


@pytest.mark.parametrize("ending", ["cancelled", "no_show"])
def test_completing_a_visit_that_ended_is_409(client, auth, visit, ending):
    if ending == "cancelled":
        assert post(client, auth, visit, "cancel").status_code == 200
    else:
        Appointment.update(status="no_show").where(Appointment.id == visit.id).execute()
    before = snapshot()
    response = post(client, auth, visit, "complete")
    assert response.status_code == 409 and error_of(response)["code"] == "illegal_state_change"
    assert snapshot() == before


# -- scoping ----------------------------------------------------------------------------


def test_another_landlords_appointment_is_404(client, auth, theirs, config):
    their_visit = book(theirs.ticket, theirs.vendor, ahead(48), None, "manual",
                       actor="test", config=config)
    before = snapshot()
    assert client.get(f"/api/appointments/{their_visit.id}", headers=auth).status_code == 404
    for action, body in [("reschedule", {"startsAt": iso(ahead(30))}), ("cancel", {}),
                         ("complete", None)]:
        response = post(client, auth, their_visit, action, json=body)
        assert response.status_code == 404, action
        assert error_of(response)["code"] == "not_found"
    assert snapshot() == before


@pytest.mark.parametrize("path", ["/api/appointments/999", "/api/appointments/999/complete",
                                  "/api/appointments/9223372036854775808",
                                  "/api/appointments/9223372036854775808/cancel",
                                  "/api/appointments/0/complete"])
def test_an_unknown_or_too_large_id_is_404(client, auth, path):
    method = client.get if path.count("/") == 3 else client.post
    assert method(path, headers=auth).status_code == 404


# -- the document -----------------------------------------------------------------------


def test_the_document_states_the_visit(client):
    doc = client.get("/api/openapi.json").json
    schemas = doc["components"]["schemas"]
    out = schemas["AppointmentOut"]["properties"]
    assert "no_show" in out["status"]["enum"] and "web" in out["confirmationMethod"]["enum"]
    assert set(get_args(s.AppointmentStatus)) == set(models.APPOINTMENT_STATUSES)
    assert set(get_args(s.BookingMethod)) == set(models.BOOKING_METHODS)
    assert {"confirmedAt", "completedAt", "cancelledAt", "rating", "timeRefused"} <= set(
        schemas["AppointmentOut"]["required"])
    made = doc["paths"]["/api/appointments"]["post"]
    assert "web" not in str(made["requestBody"])
    assert "web" not in schemas["AppointmentCreate"]["properties"]["confirmationMethod"]["enum"]
    paths = doc["paths"]
    assert paths["/api/appointments/{appointment_id}/cancel"]["post"]["requestBody"][
        "required"] is False
    assert paths["/api/appointments/{appointment_id}/reschedule"]["post"]["requestBody"][
        "required"] is True
    assert set(made["responses"]["201"]["links"]) == {
        "get_appointment", "reschedule_appointment", "cancel_appointment",
        "complete_appointment"}
    timeline = paths["/api/tickets/{ticket_id}/timeline"]["get"]["description"]
    for kind in ("visit.time_set", "visit.confirmed", "visit.time_refused", "visit.reminded",
                 "visit.check", "appointment.completed", "photos.received",
                 "feedback.received", "ticket.reopened", "appointment.cancelled",
                 "vendor.no_show", "vendor.pinged", "ticket.status_changed"):
        assert f"`{kind}`" in timeline, kind


# -- postal code ------------------------------------------------------------------------


def test_a_postal_code_round_trips(client, auth):
    made = client.post("/api/properties", headers=auth, json={
        "address": "7 Elm Street", "postalCode": " 63130-1234 "})
    assert made.status_code == 201 and made.json["postalCode"] == "63130-1234"
    shown = client.get(f"/api/properties/{made.json['id']}", headers=auth).json
    assert shown["postalCode"] == "63130-1234"
    assert models.Property.get_by_id(made.json["id"]).postal_code == "63130-1234"
    plain = client.post("/api/properties", headers=auth, json={"address": "8 Elm Street"})
    assert plain.status_code == 201 and plain.json["postalCode"] is None


@pytest.mark.parametrize("code", ["63130!", "1" * 17, "   ", "--", "SW1A\t1AA", 63130])
def test_a_bad_postal_code_is_422(client, auth, code):
    response = client.post("/api/properties", headers=auth,
                           json={"address": "9 Elm Street", "postalCode": code})
    assert response.status_code == 422 and set(error_of(response)["fields"]) == {"postalCode"}
