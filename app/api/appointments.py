"""Appointments: book a vendor by hand (the engine books the first YES), read one, and move,
cancel or complete its visit (CONTRACT.md §9) through app.booking.visits."""

from __future__ import annotations

from flask import current_app

from app import clock
from app.api import route
from app.api import schemas as s
from app.api.errors import ApiError, not_found
from app.api.present import appointment_out
from app.booking import closing, selection, visits
from app.booking.appointments import AlreadyBooked, book
from app.booking.windows import HORIZON
from app.models import Appointment, Landlord, Ticket, Vendor

NOT_ACTIVE = " (409 once it is no longer tentative or confirmed)"


@route("/appointments", "POST",
       summary="Book a vendor: a tentative appointment, the ticket becomes scheduled; 409 if it "
               "already has an active appointment or its state forbids booking",
       body=s.AppointmentCreate, response=s.AppointmentBooked, status=201, errors=(409,))
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
    warnings = selection.cautions(ticket, vendor)
    try:
        appointment = book(ticket, vendor, body.starts_at, body.ends_at,
                           body.confirmation_method, actor=f"landlord:{landlord.id}",
                           config=current_app.extensions["fixline"])
    except AlreadyBooked as exc:
        raise ApiError(409, str(exc), code="already_booked") from None
    except OverflowError:  # its end or no-show check would fall after the year 9999
        field = "endsAt" if body.ends_at is not None else "startsAt"
        raise ApiError(422, "some fields are invalid",
                       fields={field: "too far ahead to schedule"}) from None
    booked = appointment_out(appointment)
    return s.AppointmentBooked(**dict(booked), warnings=warnings), 201


def owned_appointment(landlord: Landlord, appointment_id: int) -> Appointment:
    """The landlord's appointment, or a 404 (another landlord's is not found either)."""
    appointment = (Appointment.select().join(Ticket)
                   .where(Appointment.id == appointment_id, Ticket.landlord == landlord)
                   .first())
    if appointment is None:
        raise not_found("appointment")
    return appointment


def _check_time(body: s.AppointmentReschedule) -> None:
    """422 for a start already past, or a start or end more than a year ahead."""
    now = clock.now()
    fields = {}
    if body.starts_at < now - visits.PAST:
        fields["startsAt"] = "that time has already passed"
    elif body.starts_at > now + HORIZON:
        fields["startsAt"] = "that is more than a year ahead"
    if body.ends_at is not None and body.ends_at > now + HORIZON:
        fields["endsAt"] = "that is more than a year ahead"
    if fields:
        raise ApiError(422, "some fields are invalid", fields=fields)


def _visit(landlord: Landlord, appointment_id: int, change) -> s.AppointmentOut:
    """Run change(appointment id, actor) on the landlord's visit; the visit as it is after."""
    visit = owned_appointment(landlord, appointment_id)
    try:
        change(visit.id, f"landlord:{landlord.id}")
    except LookupError:
        raise not_found("appointment") from None
    except visits.NotActive as exc:
        raise ApiError(409, str(exc), code="illegal_state_change") from None
    except visits.VisitError as exc:  # set_time's: the clock passed the start since the check
        raise ApiError(422, str(exc), fields={"startsAt": str(exc)}) from None
    return appointment_out(Appointment.get_by_id(visit.id))


@route("/appointments/<int:appointment_id>", "GET", summary="One appointment",
       response=s.AppointmentOut, errors=(404,))
def get_appointment(landlord: Landlord, appointment_id: int):
    return appointment_out(owned_appointment(landlord, appointment_id))


@route("/appointments/<int:appointment_id>/reschedule", "POST",
       summary="Set or move the visit time: it is tentative again, its reminders re-armed, the "
               "tenant asked to confirm and the vendor told" + NOT_ACTIVE,
       body=s.AppointmentReschedule, response=s.AppointmentOut, errors=(404, 409))
def reschedule_appointment(landlord: Landlord, appointment_id: int,
                           body: s.AppointmentReschedule):
    owned_appointment(landlord, appointment_id)
    _check_time(body)
    config = current_app.extensions["fixline"]
    return _visit(landlord, appointment_id, lambda visit_id, actor: visits.set_time(
        visit_id, body.starts_at, body.ends_at, actor=actor, config=config))


@route("/appointments/<int:appointment_id>/cancel", "POST",
       summary="Cancel the visit, with an optional reason: tenant and vendor are told, the "
               "ticket goes back to dispatching and the next vendor not yet asked gets the "
               "offer" + NOT_ACTIVE,
       body=s.AppointmentCancel, body_required=False, response=s.AppointmentOut,
       errors=(404, 409))
def cancel_appointment(landlord: Landlord, appointment_id: int, body: s.AppointmentCancel):
    config = current_app.extensions["fixline"]
    reason = closing.clean_reason(body.reason)
    return _visit(landlord, appointment_id, lambda visit_id, actor: visits.hand_back(
        visit_id, actor=actor, config=config, reason=reason))


@route("/appointments/<int:appointment_id>/complete", "POST",
       summary="The job is done: appointment and ticket completed, the tenant asked to rate "
               "the visit; again on a completed visit changes nothing; 409 once cancelled or "
               "a no-show",
       response=s.AppointmentOut, errors=(404, 409))
def complete_appointment(landlord: Landlord, appointment_id: int):
    return _visit(landlord, appointment_id,
                  lambda visit_id, actor: visits.complete(visit_id, actor=actor))
