"""Booking: one active appointment per ticket, through the state machine, with its event."""

import threading
from datetime import date

import pytest

from app.booking import appointments
from app.booking.appointments import AlreadyBooked, book
from app.booking.transitions import IllegalTransition
from app.config import Config
from app.models import Appointment, Event, Ticket, Vendor
from tests.api.conftest import error_of, make_ticket, make_vendor, snapshot


def booking(ticket, vendor, **changes) -> dict:
    body = {"ticketId": ticket.id, "vendorId": vendor.id, "startsAt": "2030-05-01T14:00:00Z",
            "confirmationMethod": "manual"}
    body.update(changes)
    return body


@pytest.mark.parametrize("status", ["dispatching", "escalated"])
def test_book_answers_201_tentative_and_schedules(client, auth, landlord, vendor, status):
    ticket = make_ticket(landlord, status)
    response = client.post("/api/appointments", json=booking(
        ticket, vendor, startsAt="2030-05-01T09:00:00-05:00", endsAt="2030-05-01T11:00:00-05:00",
    ), headers=auth)
    assert response.status_code == 201
    made = response.json
    assert made["status"] == "tentative" and made["ticketId"] == ticket.id
    assert made["startsAt"] == "2030-05-01T14:00:00.000Z"  # stored and shown in UTC
    assert made["endsAt"] == "2030-05-01T16:00:00.000Z"
    assert made["vendor"]["name"] == "Acme Plumbing" and made["confirmationMethod"] == "manual"
    stored = Ticket.get_by_id(ticket.id)
    assert stored.status == "scheduled" and stored.booked_at is not None
    event = Event.get(Event.type == "appointment.confirmed")
    assert event.data["vendor"] == "Acme Plumbing" and event.data["appointmentId"] == made["id"]
    assert event.data["startsAt"] == "2030-05-01T14:00:00.000Z"
    assert event.actor == f"landlord:{landlord.id}"
    shown = client.get(f"/api/tickets/{ticket.id}", headers=auth).json
    assert shown["status"] == "scheduled" and shown["appointments"][0]["id"] == made["id"]
    timeline = [e["type"] for e in client.get(f"/api/tickets/{ticket.id}/timeline",
                                               headers=auth).json]
    assert timeline[-2:] == ["ticket.status_changed", "appointment.confirmed"] or (
        status == "escalated"  # the landlord's booking also acknowledges the escalation
        and timeline[-3:] == ["ticket.status_changed", "ticket.acknowledged",
                              "appointment.confirmed"])


def test_booking_a_vendor_the_engine_would_not_ask_says_why(client, auth, ticket, vendor):
    """A landlord may book anyone active by hand; the 201 names what the engine's rules would
    have held against the vendor (§10, §14), so the landlord can call them instead."""
    assert client.post("/api/appointments", json=booking(ticket, vendor),
                       headers=auth).json["warnings"] == []
    other = make_ticket(ticket.landlord, category="pest")
    risky = make_vendor(ticket.landlord, "Lapsed Larry", phones=["+15550005556"],
                        insurance_expires_at=date(2020, 1, 31))
    Vendor.update(opted_out=True).where(Vendor.id == risky.id).execute()
    made = client.post("/api/appointments", json=booking(other, risky), headers=auth)
    assert made.status_code == 201 and made.json["status"] == "tentative"
    assert made.json["warnings"] == ["opted out (texted STOP)", "does not do pest",
                                     "insurance lapsed on 2020-01-31"]


def test_a_property_by_its_python_name_is_an_unknown_one_and_ignored(client, auth, ticket,
                                                                      vendor):
    """The document names fields in camelCase and allows other properties: "ticket_id" is one
    of those (found by schemathesis: {"ends_at": {}} answered 422), never a second name for
    ticketId."""
    made = client.post("/api/appointments", json=booking(ticket, vendor, ticket_id={},
                                                          ends_at="not a time"), headers=auth)
    assert made.status_code == 201 and made.json["ticketId"] == ticket.id


def test_second_booking_is_409(client, auth, ticket, vendor):
    assert client.post("/api/appointments", json=booking(ticket, vendor),
                       headers=auth).status_code == 201
    other = make_vendor(ticket.landlord, "Other Plumber", phones=["+15550005555"])
    before = snapshot()
    again = client.post("/api/appointments", json=booking(ticket, other), headers=auth)
    assert again.status_code == 409 and error_of(again)["code"] == "already_booked"
    assert snapshot() == before


def test_booking_a_new_ticket_walks_through_dispatching(client, auth, landlord, vendor):
    ticket = make_ticket(landlord, "new")
    response = client.post("/api/appointments", json=booking(ticket, vendor), headers=auth)
    assert response.status_code == 201
    changes = [(e.data["from"], e.data["to"]) for e in
               Event.select().where(Event.ticket == ticket, Event.type == "ticket.status_changed")
               .order_by(Event.id)]
    assert changes[-2:] == [("new", "dispatching"), ("dispatching", "scheduled")]
    assert Ticket.get_by_id(ticket.id).status == "scheduled"


@pytest.mark.parametrize("status", ["completed", "cancelled"])
def test_state_that_forbids_booking_is_409(client, auth, landlord, vendor, status):
    ticket = make_ticket(landlord, status)
    before = snapshot()
    response = client.post("/api/appointments", json=booking(ticket, vendor), headers=auth)
    assert response.status_code == 409
    assert error_of(response)["code"] == "illegal_state_change"
    assert snapshot() == before


def test_retired_vendor_is_409(client, auth, ticket, vendor):
    vendor.active = False
    vendor.save()
    before = snapshot()
    response = client.post("/api/appointments", json=booking(ticket, vendor), headers=auth)
    assert response.status_code == 409 and snapshot() == before


@pytest.mark.parametrize("changes,fields", [
    ({"ticketId": 999}, {"ticketId"}),
    ({"vendorId": 999}, {"vendorId"}),
    ({"ticketId": 998, "vendorId": 999}, {"ticketId", "vendorId"}),
    ({"startsAt": "tomorrow-ish"}, {"startsAt"}),
    ({"endsAt": "2030-05-01T13:00:00Z"}, {"endsAt"}),
    ({"confirmationMethod": "pigeon"}, {"confirmationMethod"}),
    ({"confirmationMethod": None, "ticketId": None}, {"confirmationMethod", "ticketId"}),
])
def test_invalid_booking_is_422_naming_fields(client, auth, ticket, vendor, changes, fields):
    before = snapshot()
    response = client.post("/api/appointments", json=booking(ticket, vendor, **changes),
                           headers=auth)
    assert response.status_code == 422
    assert set(error_of(response)["fields"]) == fields
    assert snapshot() == before


def test_unique_index_is_the_last_word(ticket, vendor, monkeypatch):
    """Even when the pre-check misses an active appointment, the partial index refuses."""
    Appointment.create(ticket=ticket, vendor=vendor, status="tentative",
                       confirmation_method="manual")
    monkeypatch.setattr(appointments, "active_appointment", lambda ticket: None)
    before = snapshot()
    with pytest.raises(AlreadyBooked):
        book(ticket, vendor, None, None, "api", actor="test", config=Config())
    assert snapshot() == before
    assert ticket.status == "dispatching" and ticket.booked_at is None


def test_cancelled_appointments_do_not_block(ticket, vendor):
    Appointment.create(ticket=ticket, vendor=vendor, status="cancelled",
                       confirmation_method="manual")
    made = book(ticket, vendor, None, None, "sms", actor="vendor:1", config=Config())
    assert made.status == "tentative" and Ticket.get_by_id(ticket.id).status == "scheduled"


def test_book_links_the_ping(ticket, vendor):
    from app.models import Ping

    ping = Ping.create(ticket=ticket, vendor=vendor, channel="sms", code="K7Q3",
                       to_number="+15550003000", expires_at=ticket.created_at)
    made = book(ticket, vendor, None, None, "sms", actor=f"vendor:{vendor.id}", ping=ping,
                config=Config())
    assert Appointment.get_by_id(made.id).ping_id == ping.id
    assert Event.get(Event.type == "appointment.confirmed").data["pingId"] == ping.id


def test_two_yes_at_once_give_one_appointment(landlord, ticket):
    vendors = [make_vendor(landlord, f"V{i}", phones=[f"+1555000700{i}"]) for i in range(4)]
    barrier, outcomes = threading.Barrier(len(vendors)), []

    def take(vendor):
        barrier.wait()
        try:
            book(Ticket.get_by_id(ticket.id), vendor, None, None, "sms", actor="vendor",
                 config=Config())
            outcomes.append("booked")
        except (AlreadyBooked, IllegalTransition):
            outcomes.append("refused")

    threads = [threading.Thread(target=take, args=(v,)) for v in vendors]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(outcomes) == ["booked"] + ["refused"] * (len(vendors) - 1)
    assert Appointment.select().count() == 1
    assert Event.select().where(Event.type == "appointment.confirmed").count() == 1
