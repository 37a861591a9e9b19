"""Pings: offer a ticket to one vendor by hand, by SMS or call."""

from __future__ import annotations

from flask import current_app

from app.api import route
from app.api import schemas as s
from app.api.errors import ApiError, refusal
from app.api.present import ping_sent
from app.api.vendors import owned_vendor
from app.booking.dispatch import PingRefused, send_ping
from app.messaging.optouts import OptedOut
from app.messaging.spend import OverLimit
from app.models import Landlord, Ticket


@route("/vendors/<int:vendor_id>/ping", "POST",
       summary="Offer a ticket to this vendor now (any trade); 409 if the vendor is retired or "
               "opted out, their offer of this ticket is still pending, or the ticket is "
               "already booked, completed or cancelled; 429 `sms_limit` past SMS_HOURLY_LIMIT",
       body=s.PingCreate, response=s.PingSent, status=202, errors=(404, 409))
def ping_vendor(landlord: Landlord, vendor_id: int, body: s.PingCreate):
    vendor = owned_vendor(landlord, vendor_id)
    ticket = Ticket.get_or_none(Ticket.id == body.ticket_id, Ticket.landlord == landlord)
    if ticket is None:
        raise ApiError(422, "some fields are invalid", fields={"ticketId": "no such ticket"})
    try:
        ping = send_ping(ticket, vendor, body.method, current_app.extensions["fixline"],
                         actor=f"landlord:{landlord.id}", manual=True)
    except PingRefused as exc:
        raise ApiError(409, str(exc)) from None
    except (OptedOut, OverLimit) as exc:
        raise refusal(exc) from None
    return ping_sent(ping), 202
