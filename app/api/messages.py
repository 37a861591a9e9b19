"""Messages: every SMS, call and email in and out, newest first."""

from __future__ import annotations

from app import phones
from app.api import route
from app.api import schemas as s
from app.api.present import message_out
from app.messaging.senders import visible_to
from app.models import Landlord, Message


def _address(text: str) -> str:
    """A phone number as stored (+digits) when it reads as one, else the text as given."""
    try:
        return phones.parse(text)
    except ValueError:
        return text.strip()


@route("/messages", "GET",
       summary="The landlord's messages, newest first; ?to= an address, ?ticketId=, ?limit=",
       query=s.MessageQuery, response=s.MessageOut, many=True)
def list_messages(landlord: Landlord, query: s.MessageQuery):
    messages = Message.select().where(visible_to(landlord))
    if query.to:
        messages = messages.where(Message.to_number == _address(query.to))
    if query.ticket_id is not None:
        messages = messages.where(Message.ticket == query.ticket_id)
    messages = messages.order_by(Message.created_at.desc(), Message.id.desc()).limit(query.limit)
    return [message_out(message) for message in messages]
