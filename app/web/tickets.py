"""A landlord's ticket: details, photos, the visit, live timeline, pings, messages and the
actions."""

from __future__ import annotations

from flask import current_app, flash, g, redirect, request, url_for

from app import events, faults, money
from app.booking import closing, loop, quotes, selection, transitions, visits
from app.booking.appointments import AlreadyBooked, appointments_of, book
from app.booking.dispatch import PingRefused, pings_of
from app.models import Appointment, Message, Quote, Ticket, TicketPhoto, Vendor
from app.web import names, uploads, visit_view
from app.web.forms import AssignForm, RescheduleForm
from app.web.intake import local_span
from app.web.scoped import landlord_blueprint, owned_or_404, page_or_fragment, targets

bp = landlord_blueprint("tickets", __name__, url_prefix="/tickets")
CLOSED = ("completed", "cancelled")
ASSIGNABLE = ("new", "dispatching", "escalated")
MESSAGES_SHOWN = 50


def owned_ticket(ticket_id: int) -> Ticket:
    return owned_or_404(Ticket.select().where(Ticket.id == ticket_id,
                                              Ticket.landlord == g.landlord))


def _actor() -> str:
    return f"landlord:{g.landlord.id}"


def _back(ticket: Ticket):
    return redirect(url_for(".show", ticket_id=ticket.id), code=303)


def _who(event) -> str:
    """Who caused an event, as the landlord reads it."""
    kind, _, ident = event.actor.partition(":")
    if kind == "landlord":
        return "you" if ident == str(g.landlord.id) else "landlord"
    if kind == "vendor":
        return event.data.get("vendor") or "vendor"
    return {"system": "Fixline", "api": "API", "tenant": "tenant"}.get(kind, event.actor)


def _live(ticket: Ticket) -> dict:
    """What the polling part of the page shows."""
    pings = pings_of(ticket)
    tz = ticket.property.timezone
    timeline = [(event, events.summarize(event, tz), _who(event))
                for event in events.timeline(ticket)]
    appointments = appointments_of(ticket)
    visit = visit_view.view(visit_view.current(appointments), ticket,
                            current_app.extensions["fixline"])
    return dict(ticket=ticket, pings=pings, timeline=timeline, appointments=appointments,
                visit_panel=visit, tz=tz, polling=ticket.status not in CLOSED,
                seen=request.args.get("seen", ticket.status))


def _whole_page(ticket: Ticket, form: AssignForm | None, live: dict,
                reschedule: RescheduleForm | None = None) -> dict:
    """What the rest of the page shows (the poll does not need it)."""
    prop = ticket.property
    appointments, visit = live["appointments"], live["visit_panel"]
    messages = (Message.select()
                .where(Message.ticket == ticket, Message.landlord == g.landlord)
                .order_by(Message.created_at.desc(), Message.id.desc())
                .limit(MESSAGES_SHOWN))
    photos = uploads.photos_of(ticket)
    messages = list(messages)
    return dict(
        tenant=ticket.tenant, property=prop, appointments=appointments,
        messages=messages, photos=[p for p in photos if p.source != "vendor"],
        vendor_photos=[p for p in photos if p.source == "vendor"],
        names=names.of_messages(g.landlord, messages), local_span=local_span,
        form=form or AssignForm(landlord=g.landlord, timezone=prop.timezone,
                                category=ticket.category, formdata=None),
        reschedule=(reschedule or RescheduleForm.for_visit(visit.visit, prop.timezone))
        if visit and visit.active else None,
        can_assign=ticket.status in ASSIGNABLE, can_dispatch=ticket.status in ("new", "escalated"),
        can_complete=ticket.status == "scheduled", can_cancel=ticket.status not in CLOSED,
        stuck=[(f, faults.describe(f)) for f in faults.parked(ticket=ticket.id)],
        max_attempts=faults.MAX_ATTEMPTS,
        # who was considered: the rules that chose; a booked or closed ticket asks nobody
        considered=(selection.considered(ticket) if ticket.status in ASKING else None),
        quotes=quotes.of_ticket(ticket), money=money.show,
    )


ASKING = ("new", *loop.BOOKABLE)  # the states in which vendors are (still) asked


def _render(ticket: Ticket, form: AssignForm | None = None, status: int = 200,
            reschedule: RescheduleForm | None = None):
    context = _live(ticket)
    if not targets("ticket-live"):
        context.update(_whole_page(ticket, form, context, reschedule))
    return page_or_fragment("tickets/show.html", "tickets/_live.html", "ticket-live", status,
                            **context)


@bp.get("/<int:ticket_id>")
def show(ticket_id: int):
    """The ticket page, or only its live part when the poll asks for it."""
    return _render(owned_ticket(ticket_id))


@bp.get("/<int:ticket_id>/photos/<int:photo_id>")
def photo(ticket_id: int, photo_id: int):
    """A tenant's or vendor's photo, to the landlord who owns the ticket only."""
    found = owned_or_404(TicketPhoto.select().join(Ticket)
                         .where(TicketPhoto.id == photo_id, Ticket.id == ticket_id,
                                Ticket.landlord == g.landlord))
    response = uploads.send_photo(found)
    response.headers["Cache-Control"] = "private, no-cache"
    return response


@bp.post("/<int:ticket_id>/assign")
def assign(ticket_id: int):
    """Book a vendor by hand (a tentative appointment, method manual)."""
    ticket = owned_ticket(ticket_id)
    form = AssignForm(landlord=g.landlord, timezone=ticket.property.timezone,
                      category=ticket.category)
    if not form.validate():
        return _render(ticket, form, 422)
    vendor = Vendor.get_by_id(form.vendor.data)  # a choice: active and the landlord's
    heed = selection.cautions(ticket, vendor)
    try:
        book(ticket, vendor, form.starts_at_utc(), None, "manual", actor=_actor(),
             config=current_app.extensions["fixline"])
    except AlreadyBooked:
        flash("This ticket already has an appointment; it was not booked again.", "error")
    except transitions.IllegalTransition as exc:
        flash(f"A {exc.current} ticket cannot be booked.", "error")
    else:
        flash(f"Booked {vendor.name}." + (f" Note: {'; '.join(heed)}." if heed else ""),
              "warning" if heed else "info")
    return _back(ticket)


@bp.post("/<int:ticket_id>/dispatch")
def dispatch(ticket_id: int):
    """Dispatch again: ask the next vendor, or start a new round of asking."""
    ticket = owned_ticket(ticket_id)
    try:
        ping = loop.redispatch(ticket.id, current_app.extensions["fixline"], actor=_actor())
    except transitions.IllegalTransition as exc:
        flash(f"Only a new or escalated ticket can be dispatched again; this one is "
              f"{exc.current}.", "error")
    except PingRefused as exc:
        flash(f"Nobody was asked: {exc}.", "error")
    else:
        if ping is None:
            reason = Ticket.get_by_id(ticket.id).escalation_reason or loop.NOBODY_FITS
            flash(f"Nobody was asked: {reason}. It is escalated to you.", "error")
        else:
            flash(f"Asked {ping.vendor.name} by {ping.channel}.", "info")
    return _back(ticket)


def _move(ticket_id: int, target: str, close, done: str, refused: str):
    """Close the ticket with close(ticket) (app.booking.closing), flashing how it went."""
    ticket = owned_ticket(ticket_id)
    try:
        close(ticket)
    except transitions.IllegalTransition as exc:
        already = exc.current == target
        flash(f"This ticket is already {target}." if already
              else refused.format(current=exc.current), "error")
    except closing.ReasonTooLong as exc:
        flash(f"Not cancelled: {exc}.", "error")
    else:
        flash(done, "info")
    return _back(ticket)


@bp.post("/<int:ticket_id>/cancel")
def cancel(ticket_id: int):
    """Cancel the ticket (any state but completed), with an optional reason."""
    reason = request.form.get("reason")
    return _move(ticket_id, "cancelled",
                 lambda ticket: closing.cancel(ticket, actor=_actor(), reason=reason),
                 "Ticket cancelled. The tenant and the vendors involved are being told.",
                 "This ticket is {current}; it cannot be cancelled.")


@bp.post("/<int:ticket_id>/complete")
def complete(ticket_id: int):
    """Mark a scheduled job completed."""
    return _move(ticket_id, "completed",
                 lambda ticket: closing.complete(ticket, actor=_actor()),
                 "Job marked completed. The tenant is being told.",
                 "Only a scheduled job can be marked completed; this ticket is {current}.")


def _shown_visit(ticket: Ticket, value: str | None) -> Appointment | None:
    """The visit the page showed (a form's hidden field), if it is one of this ticket's."""
    if not (value or "").isdigit():
        flash("This visit is no longer on the ticket. Here is the latest.", "error")
        return None
    visit = Appointment.get_or_none(Appointment.id == int(value), Appointment.ticket == ticket)
    if visit is None:
        flash("This visit is no longer on the ticket. Here is the latest.", "error")
    return visit


@bp.post("/<int:ticket_id>/quotes/<int:quote_id>/approve")
def approve_quote(ticket_id: int, quote_id: int):
    """Approve a vendor's quote (the same as APPROVE n by SMS)."""
    return _decide_quote(ticket_id, quote_id, "approve")


@bp.post("/<int:ticket_id>/quotes/<int:quote_id>/deny")
def deny_quote(ticket_id: int, quote_id: int):
    """Deny a vendor's quote (the same as DENY n by SMS)."""
    return _decide_quote(ticket_id, quote_id, "deny")


def _decide_quote(ticket_id: int, quote_id: int, decision: str):
    ticket = owned_ticket(ticket_id)
    owned_or_404(Quote.select().where(Quote.id == quote_id, Quote.ticket == ticket))
    decide = quotes.approve if decision == "approve" else quotes.deny
    try:
        outcome = decide(quote_id, actor=_actor())
    except quotes.QuoteClosed as exc:
        flash(f"Not {quotes.DECIDED[decision]}: the quote is already {exc.status}.", "error")
    else:
        done = quotes.DECIDED[decision]
        flash(f"Quote {done}; the vendor is told." if outcome != "already"
              else f"The quote was already {done}.", "info")
    next_page = request.form.get("next")
    if next_page == "dashboard":
        return redirect(url_for("dashboard.index"), code=303)
    return _back(ticket)


@bp.post("/<int:ticket_id>/visit/time")
def visit_time(ticket_id: int):
    """Set or move the visit's time (the property's clock): the tenant is asked to confirm it."""
    ticket = owned_ticket(ticket_id)
    form = RescheduleForm(timezone=ticket.property.timezone)
    visit = _shown_visit(ticket, form.visit.data)
    if visit is None:
        return _back(ticket)
    if not form.validate():
        return _render(ticket, status=422, reschedule=form)
    starts_at, ends_at = form.times_utc()
    try:
        moved = visits.set_time(visit.id, starts_at, ends_at, actor=_actor(),
                                config=current_app.extensions["fixline"])
    except visits.NotActive as exc:
        flash(f"Not moved: {visit_view.not_active(exc)}", "error")
    except (visits.VisitError, LookupError) as exc:
        flash(f"Not moved: {exc}.", "error")
    else:
        when = visit_view.span(moved.starts_at, moved.ends_at, ticket.property.timezone)
        flash(f"Visit set for {when}. The tenant is asked to confirm it.", "info")
    return _back(ticket)


@bp.post("/<int:ticket_id>/visit/cancel")
def visit_cancel(ticket_id: int):
    """Cancel the visit (optional reason): vendor and tenant are told, the next vendor asked."""
    ticket = owned_ticket(ticket_id)
    visit = _shown_visit(ticket, request.form.get("visit"))
    if visit is None:
        return _back(ticket)
    try:
        reason = closing.clean_reason(request.form.get("reason"))
        visits.hand_back(visit.id, actor=_actor(), config=current_app.extensions["fixline"],
                         reason=reason)
    except closing.ReasonTooLong as exc:
        flash(f"Not cancelled: {exc}.", "error")
    except visits.NotActive as exc:
        flash(f"Not cancelled: {visit_view.not_active(exc)}", "error")
    except (visits.VisitError, LookupError) as exc:
        flash(f"Not cancelled: {exc}.", "error")
    else:
        flash(f"Visit with {visit.vendor.name} cancelled. The vendor and the tenant are being "
              "told, and the next vendor is being asked.", "info")
    return _back(ticket)
