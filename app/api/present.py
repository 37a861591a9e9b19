"""Peewee rows → response schemas (one function per noun)."""

from __future__ import annotations

from flask import current_app, request, url_for

from app import events, money
from app.api import schemas as s
from app.booking import quotes
from app.booking.appointments import appointments_of
from app.booking.dispatch import pings_of
from app.booking.scorecards import Scorecard
from app.messaging import gsm
from app.models import (
    Appointment,
    Event,
    Landlord,
    Message,
    Ping,
    Property,
    Quote,
    Tenant,
    Ticket,
    Vendor,
)


def landlord_out(landlord: Landlord) -> s.LandlordOut:
    return s.LandlordOut(id=landlord.id, name=landlord.name, email=landlord.email,
                         phone=landlord.phone)


def property_out(prop: Property) -> s.PropertyOut:
    return s.PropertyOut(id=prop.id, address=prop.address, timezone=prop.timezone,
                         landlord_id=prop.landlord_id, postal_code=prop.postal_code,
                         approval_limit=money.exact(prop.approval_limit),
                         emergency_approval_limit=money.exact(prop.emergency_approval_limit),
                         created_at=prop.created_at)


def intake_url(tenant: Tenant) -> str:
    """The tenant's private intake link, absolute (PUBLIC_BASE_URL when configured)."""
    base = current_app.extensions["fixline"].public_base_url
    path = f"/intake/{tenant.intake_token}"
    if "intake.form" in current_app.view_functions:
        path = url_for("intake.form", token=tenant.intake_token)
    return (base or request.host_url.rstrip("/")) + path


def tenant_out(tenant: Tenant) -> s.TenantOut:
    return s.TenantOut(id=tenant.id, name=tenant.name, phone=tenant.phone, email=tenant.email,
                       property_id=tenant.property_id, intake_url=intake_url(tenant),
                       language=tenant.language, created_at=tenant.created_at)


def vendor_out(vendor: Vendor, phones: list[str] | None = None) -> s.VendorOut:
    """phones: the vendor's numbers when already read (a list's, read together); else read."""
    return s.VendorOut(
        id=vendor.id, name=vendor.name, phones=vendor.phones if phones is None else phones,
        specialties=vendor.specialties,
        hours=vendor.hours, priority=vendor.priority, notes=vendor.notes, active=vendor.active,
        opted_out=vendor.opted_out, preferred_channel=vendor.preferred_channel,
        language=vendor.language,
        service_areas=vendor.service_areas or [], max_visits_per_day=vendor.max_visits_per_day,
        insurance_expires_at=vendor.insurance_expires_at,
        last_offered_at=vendor.last_offered_at, created_at=vendor.created_at,
    )


def scorecard_out(card: Scorecard) -> s.ScorecardOut:
    return s.ScorecardOut(
        period_days=card.period_days, offers=card.offers, accepted=card.accepted,
        declined=card.declined, timed_out=card.timed_out, acceptance_rate=card.acceptance_rate,
        median_response_seconds=card.median_response_seconds, completed=card.completed,
        cancelled=card.cancelled, no_shows=card.no_shows, ratings=card.ratings,
        average_rating=card.average_rating,
    )


def appointment_out(appointment: Appointment) -> s.AppointmentOut:
    return s.AppointmentOut(
        id=appointment.id, ticket_id=appointment.ticket_id, vendor_id=appointment.vendor_id,
        vendor=vendor_out(appointment.vendor), starts_at=appointment.starts_at,
        ends_at=appointment.ends_at, status=appointment.status,
        confirmation_method=appointment.confirmation_method, created_at=appointment.created_at,
        confirmed_at=appointment.confirmed_at, completed_at=appointment.completed_at,
        cancelled_at=appointment.cancelled_at, rating=appointment.rating,
        time_refused=appointment.time_refused_at is not None,
    )


def ping_out(ping: Ping) -> s.PingOut:
    return s.PingOut(
        id=ping.id, vendor_id=ping.vendor_id, vendor_name=ping.vendor.name,
        channel=ping.channel, code=ping.code, sent_at=ping.sent_at, expires_at=ping.expires_at,
        answered_at=ping.answered_at, outcome=ping.outcome,
    )


def ping_sent(ping: Ping) -> s.PingSent:
    """What a manual ping answers: the ping and the message that carries it."""
    message = ping.messages.order_by(Message.id).first()
    return s.PingSent(id=ping.id, status=ping.outcome, sent_at=ping.sent_at,
                      expires_at=ping.expires_at, code=ping.code, channel=ping.channel,
                      message_id=message.id)


def ticket_out(ticket: Ticket, *, new: bool = False) -> s.TicketOut:
    """The ticket with its relations. new: it was created by this request, so no visit, offer
    or quote hangs off it yet: they are not read (the worker's first offer may already be
    committed, but the ticket as created, status "new", is what the answer describes)."""
    prop = ticket.property
    appointments = [] if new else appointments_of(ticket)
    pings = [] if new else pings_of(ticket)
    return s.TicketOut(
        id=ticket.id, status=ticket.status, category=ticket.category, severity=ticket.severity,
        window=ticket.window, notes=ticket.notes, description=ticket.description,
        tenant_id=ticket.tenant_id, property_id=ticket.property_id,
        created_at=ticket.created_at, updated_at=ticket.updated_at,
        first_response_at=ticket.first_response_at, booked_at=ticket.booked_at,
        escalated_at=ticket.escalated_at, acknowledged_at=ticket.acknowledged_at,
        completed_at=ticket.completed_at,
        cancelled_at=ticket.cancelled_at, escalate_at=ticket.escalate_at,
        escalation_reason=ticket.escalation_reason,
        tenant=tenant_out(ticket.tenant),
        # the ticket's landlord is the property's; a new ticket holds it already (no read)
        property=s.PropertyWithLandlord(**property_out(prop).model_dump(),
                                        landlord=landlord_out(ticket.landlord)),
        appointments=[appointment_out(a) for a in appointments],
        pings=[ping_out(p) for p in pings],
        quotes=[] if new else [
            s.TicketQuote(id=q.id, amount=money.exact(q.amount), status=q.status,
                          submitted_at=q.submitted_at, decided_at=q.decided_at)
            for q in quotes.of_ticket(ticket)],
    )


def quote_out(quote: Quote) -> s.QuoteOut:
    return s.QuoteOut(id=quote.id, ticket_id=quote.ticket_id, vendor_id=quote.vendor_id,
                      amount=money.exact(quote.amount), status=quote.status,
                      submitted_at=quote.submitted_at, decided_at=quote.decided_at)


def timeline_entry(event: Event) -> s.TimelineEntry:
    return s.TimelineEntry(at=event.created_at, type=event.type, actor=event.actor,
                           summary=events.summarize(event), data=event.data or {})


def message_out(message: Message) -> s.MessageOut:
    return s.MessageOut(
        id=message.id, direction=message.direction, channel=message.channel,
        to=message.to_number, from_=message.from_number, body=message.body,
        segments=gsm.segments(message.body) if message.channel == "sms" else None,
        status=message.status, provider_id=message.provider_id, ticket_id=message.ticket_id,
        created_at=message.created_at,
    )
