"""Notify: send a free-form SMS, call or email to an address or to a known person."""

from __future__ import annotations

from flask import current_app

from app.api import route
from app.api import schemas as s
from app.api.errors import ApiError, refusal
from app.messaging import outbound
from app.messaging.optouts import OptedOut
from app.messaging.spend import OverLimit
from app.models import Landlord


@route("/notify", "POST",
       summary="Queue a message to `to` or to a recipient {type, id} of yours; 202, then "
               "GET /api/messages shows how it went; 409 `opted_out` for a number that texted "
               "STOP; 429 `sms_limit` past SMS_HOURLY_LIMIT",
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
    try:
        message = outbound.queue(landlord=landlord, to=to, body=body.message,
                                 channel=body.channel, recipient=recipient,
                                 cap=current_app.extensions["fixline"].sms_hourly_limit)
    except (OptedOut, OverLimit) as exc:
        raise refusal(exc) from None
    return s.Accepted(id=message.id, status=message.status), 202
