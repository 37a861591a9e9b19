"""Notify: send a free-form SMS, call or email to an address or to a known person."""

from __future__ import annotations

from app.api import route
from app.api import schemas as s
from app.api.errors import ApiError
from app.messaging import outbound
from app.models import Landlord


@route("/notify", "POST",
       summary="Queue a message to `to` or to a recipient {type, id} of yours; 202, then "
               "GET /api/messages shows how it went",
       body=s.NotifyCreate, response=s.Accepted, status=202, errors=(409,))
def notify(landlord: Landlord, body: s.NotifyCreate):
    recipient = None
    to = body.to
    if body.recipient is not None:
        recipient = (body.recipient.type, body.recipient.id)
        try:
            to = outbound.resolve_recipient(landlord, *recipient, body.channel)
        except outbound.UnknownRecipient as exc:
            raise ApiError(422, "some fields are invalid", fields={"recipient": str(exc)}) from None
    message = outbound.queue(landlord=landlord, to=to, body=body.message, channel=body.channel,
                             recipient=recipient)
    return s.Accepted(id=message.id, status=message.status), 202
