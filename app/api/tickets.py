"""Tickets: intake, reading, listing, timeline, cancel and complete."""

from __future__ import annotations

from flask import current_app, request

from app import events
from app.api import route
from app.api import schemas as s
from app.api.errors import ApiError, not_found
from app.api.present import ticket_out, timeline_entry
from app.booking import closing
from app.booking.intake import IntakeError, Report, open_ticket
from app.models import Landlord, Ticket

IDEMPOTENCY_KEY_MAX = 255


def owned_ticket(landlord: Landlord, ticket_id: int) -> Ticket:
    """The landlord's ticket, or a 404 (another landlord's ticket is not found either)."""
    ticket = Ticket.get_or_none(Ticket.id == ticket_id, Ticket.landlord == landlord)
    if ticket is None:
        raise not_found("ticket")
    return ticket


@route("/tickets", "POST", summary="Report a problem; starts dispatch", body=s.TicketCreate,
       response=s.TicketOut, status=201, errors=(422,), headers=("Idempotency-Key",))
def create_ticket(landlord: Landlord, body: s.TicketCreate):
    key = request.headers.get("Idempotency-Key", "").strip() or None
    if key is not None and len(key) > IDEMPOTENCY_KEY_MAX:
        raise ApiError(422, "Idempotency-Key is too long",
                       fields={"Idempotency-Key": f"at most {IDEMPOTENCY_KEY_MAX} characters"})
    report = Report(**body.model_dump())
    try:
        ticket, created = open_ticket(landlord, report, current_app.extensions["fixline"],
                                      idempotency_key=key, actor="api")
    except IntakeError as exc:
        raise ApiError(422, str(exc), fields={exc.field: str(exc)}) from None
    return ticket_out(ticket, new=created), 201


@route("/tickets/<int:ticket_id>", "GET", summary="One ticket with its relations",
       response=s.TicketOut, errors=(404,))
def get_ticket(landlord: Landlord, ticket_id: int):
    return ticket_out(owned_ticket(landlord, ticket_id))


@route("/tickets", "GET", summary="Tickets, newest first, paginated", query=s.TicketListQuery,
       response=s.TicketPage)
def list_tickets(landlord: Landlord, query: s.TicketListQuery):
    tickets = Ticket.select().where(Ticket.landlord == landlord)
    if query.status:
        tickets = tickets.where(Ticket.status == query.status)
    total = tickets.count()
    page = (tickets.order_by(Ticket.created_at.desc(), Ticket.id.desc())
            .paginate(query.page, query.per_page))
    return s.TicketPage(items=[ticket_out(t) for t in page], page=query.page,
                        per_page=query.per_page, total=total)


@route("/tickets/<int:ticket_id>/timeline", "GET", summary="Every event of a ticket, oldest first",
       response=s.TimelineEntry, many=True, errors=(404,))
def ticket_timeline(landlord: Landlord, ticket_id: int):
    ticket = owned_ticket(landlord, ticket_id)
    return [timeline_entry(event) for event in events.timeline(ticket)]


@route("/tickets/<int:ticket_id>/cancel", "POST",
       summary="Cancel a ticket (not once completed), with an optional reason; the tenant and "
               "the vendors involved are told",
       body=s.TicketCancel, body_required=False, response=s.TicketOut, errors=(404, 409))
def cancel_ticket(landlord: Landlord, ticket_id: int, body: s.TicketCancel):
    ticket = owned_ticket(landlord, ticket_id)
    closing.cancel(ticket, actor=f"landlord:{landlord.id}", reason=body.reason)
    return ticket_out(ticket)


@route("/tickets/<int:ticket_id>/complete", "POST",
       summary="Mark a scheduled job completed; the tenant is told",
       response=s.TicketOut, errors=(404, 409))
def complete_ticket(landlord: Landlord, ticket_id: int):
    ticket = owned_ticket(landlord, ticket_id)
    closing.complete(ticket, actor=f"landlord:{landlord.id}")
    return ticket_out(ticket)
