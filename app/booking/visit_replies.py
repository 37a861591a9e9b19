"""What the visit's SMS words do (CONTRACT.md §9): a vendor's TIME, DONE and CANCEL (and a YES
that names a time), and a tenant's answer to their newest open question."""

from __future__ import annotations

from app import clock, events
from app.booking import visit_times, visits
from app.config import Config
from app.messaging import replies, templates
from app.models import (
    ACTIVE_APPOINTMENT_STATUSES,
    Appointment,
    Event,
    Ping,
    Question,
    Tenant,
    Ticket,
    VendorPhone,
)
from app.prepared import Param, Prepared

VISIT_WORDS = ("time", "done", "cancel")
AT_NUMBER = VendorPhone.select(VendorPhone.vendor).where(VendorPhone.number == Param("number"))
CODED = Prepared(lambda: Ping.select().where(
    Ping.vendor.in_(AT_NUMBER), Ping.code == Param("code"))
    .order_by(Ping.sent_at.desc(), Ping.id.desc()).limit(1))
VISIT_OF = Prepared(lambda: Appointment.select().where(
    Appointment.ticket == Param("ticket"), Appointment.vendor == Param("vendor"))
    .order_by(Appointment.id.desc()).limit(1))
NEWEST_ACTIVE = Prepared(lambda: Appointment.select().where(
    Appointment.vendor.in_(AT_NUMBER),
    Appointment.status.in_(ACTIVE_APPOINTMENT_STATUSES))
    .order_by(Appointment.id.desc()).limit(1))
NEWEST_VISIT = Prepared(lambda: Appointment.select().where(Appointment.vendor.in_(AT_NUMBER))
                        .order_by(Appointment.id.desc()).limit(1))
CANCELLED_EVENTS = Prepared(lambda: Event.select(Event.data).where(
    Event.ticket == Param("ticket"), Event.type == "appointment.cancelled"))
NEWEST_DONE_OF_TENANT = Prepared(lambda: Ticket.select().where(
    Ticket.tenant.in_(Tenant.select(Tenant.id).where(Tenant.phone == Param("number"))),
    Ticket.status == "completed").order_by(Ticket.completed_at.desc()).limit(1))


def visit_of(number: str, code: str | None) -> Appointment | None:
    """The visit a vendor's TIME/DONE/CANCEL is about: their newest on the job with that code,
    else the newest active visit of the vendors at that number, else their newest visit when
    it is done (a second bare DONE is told so)."""
    if code:
        offer = CODED.first(number=number, code=code)
        return VISIT_OF.first(ticket=offer.ticket_id, vendor=offer.vendor_id) if offer else None
    visit = NEWEST_ACTIVE.first(number=number)
    if visit is None:
        newest = NEWEST_VISIT.first(number=number)
        visit = newest if newest is not None and newest.status == "completed" else None
    return visit


def reopenable_ticket(number: str) -> Ticket | None:
    """The tenant's newest completed ticket, which NOT FIXED may reopen."""
    return NEWEST_DONE_OF_TENANT.first(number=number)


def read_time(text: str, ticket: Ticket) -> tuple:
    """A vendor's words as a visit (start, end or None); UnreadableTime when they are not."""
    found = visit_times.read_visit(text, clock.now(), ticket.property.timezone)
    return found.start, found.end


def vendor_word(reply: replies.Reply, visit: Appointment | None, config: Config,
                media: list[str] = ()) -> str:
    """Carry out a vendor's TIME, DONE or CANCEL about visit; the SMS answer."""
    code = reply.code or (visits.code_of(visit) if visit is not None else None)
    if visit is None:
        return templates.reply_no_visit(reply.code)
    actor = f"vendor:{visit.vendor_id}"
    ticket = Ticket.get_by_id(visit.ticket_id)
    try:
        if reply.kind == "time":
            try:
                start, end = read_time(reply.text, ticket)
            except visit_times.UnreadableTime as exc:
                return templates.reply_time_unreadable(code, str(exc))
            moved = visits.set_time(visit.id, start, end, actor=actor, config=config)
            return templates.reply_time_set(code, moved)
        if reply.kind == "done":
            if visit.status == "completed":
                return templates.reply_job_done(code)
            visits.complete(visit.id, actor=actor, photos=len(media))
            if media:
                events.emit("photos.received", ticket=ticket, actor=actor,
                            appointmentId=visit.id, urls=list(media))
            return templates.reply_done(code)
        visits.hand_back(visit.id, actor=actor, config=config)
        return templates.reply_handed_back(code)
    except visits.NotActive as exc:
        return _not_active(code, exc.status, visit)
    except visits.VisitError as exc:
        return templates.reply_time_unreadable(code, f"{str(exc).capitalize()}.")


def _not_active(code: str | None, status: str, visit: Appointment) -> str:
    if status == "completed":
        return templates.reply_job_done(code or "")
    if status == "cancelled" and _handed_back(visit):
        return templates.reply_already_handed_back(code)
    if status == "cancelled":
        return templates.reply_job_cancelled(code or "")
    return templates.reply_no_visit(code)


def _handed_back(visit: Appointment) -> bool:
    """Whether the vendor cancelled this visit themselves (not the landlord)."""
    return any(event.data.get("appointmentId") == visit.id and event.data.get("by") == "vendor"
               for event in CANCELLED_EVENTS.rows(ticket=visit.ticket_id))


def tenant_answer(question: Question, reply: replies.Reply, body: str, config: Config) -> str:
    """Carry out a tenant's answer to their open question; the SMS answer."""
    actor = f"tenant:{question.person_id}"
    visit = Appointment.get_by_id(question.appointment_id)
    yes, no = reply.kind == "accept" and not reply.code, reply.kind == "decline"
    try:
        if question.kind == "confirm" and (yes or no):
            if yes:
                visits.confirm(visit.id, actor=actor)
                return templates.reply_visit_confirmed(Appointment.get_by_id(visit.id))
            visits.refuse(visit.id, actor=actor)
            return templates.reply_visit_refused(visit)
        if question.kind == "came" and (yes or no):
            visits.came(question.id, yes, actor=actor, config=config)
            return templates.reply_came_yes() if yes else templates.reply_came_no()
        if question.kind == "rate":
            if reply.kind == "not_fixed":
                return reopen(visit.ticket_id, actor, config)
            if (stars := replies.rating(body)) is not None:
                visits.rate(visit.id, stars, actor=actor)
                return templates.reply_rated(stars)
    except visits.VisitError:
        return templates.reply_not_reopened() if question.kind == "rate" else (
            "That visit has changed since we asked; your landlord can tell you more.")
    return templates.reply_question_again(question.kind, visit)


def reopen(ticket_id: int, actor: str, config: Config) -> str:
    """NOT FIXED from the tenant: reopen and say so, or say why not."""
    try:
        visits.reopen(ticket_id, actor=actor, config=config)
    except visits.VisitError:
        return templates.reply_not_reopened()
    visit = visits.NEWEST_DONE.first(ticket=ticket_id)
    return templates.reply_reopened(visit.vendor)
