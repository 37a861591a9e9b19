"""The message log: every SMS, call and email in and out for the landlord, newest first."""

from __future__ import annotations

from math import ceil

from flask import g, request
from peewee import JOIN

from app.bounds import positive_int
from app.messaging.senders import visible_to
from app.models import Message, Property, Ticket
from app.web import names
from app.web.scoped import landlord_blueprint, owned_or_404, page_or_fragment

bp = landlord_blueprint("messages", __name__, url_prefix="/messages")
PER_PAGE = 50


def _positive(name: str) -> int | None:
    """A whole number >= 1 (64-bit) from the query string; None when absent, 0 when not one."""
    raw = request.args.get(name, "").strip()
    if not raw:
        return None
    return positive_int(raw) or 0


@bp.get("/")
def index():
    """The log, filterable by ticket (?ticket=ID) and paginated (?page=N)."""
    ticket_id, page = _positive("ticket"), _positive("page") or 1
    problem, ticket = None, None
    if ticket_id == 0:
        problem = "A ticket number is a whole number, like 12."
    elif ticket_id is not None:
        ticket = owned_or_404(Ticket.select().where(Ticket.id == ticket_id,
                                                    Ticket.landlord == g.landlord))
    query = (Message.select(Message, Ticket, Property)
             .join(Ticket, JOIN.LEFT_OUTER, on=(Message.ticket == Ticket.id))
             .join(Property, JOIN.LEFT_OUTER, on=(Ticket.property == Property.id))
             .where(visible_to(g.landlord)))
    if ticket is not None:
        query = query.where(Message.ticket == ticket)
    total = query.count()
    pages = max(1, ceil(total / PER_PAGE))
    page = min(page, pages)
    messages = list(query.order_by(Message.created_at.desc(), Message.id.desc())
                    .paginate(page, PER_PAGE))
    home = (Property.select(Property.timezone)
            .where(Property.landlord == g.landlord)
            .order_by(Property.id)
            .first())
    return page_or_fragment(
        "messages/index.html", "messages/_log.html", "message-log", 422 if problem else 200,
        messages=messages, names=names.of_messages(g.landlord, messages), ticket=ticket,
        problem=problem, page=page, pages=pages,
        total=total, default_tz=home.timezone if home else "UTC",
        ticket_arg=request.args.get("ticket", ""),
    )
