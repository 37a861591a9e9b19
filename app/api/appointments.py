"""Appointments: book a vendor for a ticket by hand (the engine books the first YES)."""

from __future__ import annotations

from flask import current_app

from app.api import route
from app.api import schemas as s
from app.api.errors import ApiError
from app.api.present import appointment_out
from app.booking.appointments import AlreadyBooked, book
from app.models import Landlord, Ticket, Vendor


@route("/appointments", "POST",
       summary="Book a vendor: a tentative appointment, the ticket becomes scheduled; 409 if it "
               "already has an active appointment or its state forbids booking",
       body=s.AppointmentCreate, response=s.AppointmentOut, status=201, errors=(409,))
def create_appointment(landlord: Landlord, body: s.AppointmentCreate):
    ticket = Ticket.get_or_none(Ticket.id == body.ticket_id, Ticket.landlord == landlord)
    vendor = Vendor.get_or_none(Vendor.id == body.vendor_id, Vendor.landlord == landlord)
    fields = {}
    if ticket is None:
        fields["ticketId"] = "no such ticket"
    if vendor is None:
        fields["vendorId"] = "no such vendor"
    if fields:
        raise ApiError(422, "some fields are invalid", fields=fields)
    if not vendor.active:
        raise ApiError(409, f"vendor {vendor.id} is retired (active=false); reactivate it first")
    try:
        appointment = book(ticket, vendor, body.starts_at, body.ends_at,
                           body.confirmation_method, actor=f"landlord:{landlord.id}",
                           config=current_app.extensions["fixline"])
    except AlreadyBooked as exc:
        raise ApiError(409, str(exc), code="already_booked") from None
    return appointment_out(appointment), 201
