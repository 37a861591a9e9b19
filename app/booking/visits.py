"""The visit after the YES (CONTRACT.md §9): its time, the tenant's answer, reminders, done,
rating, reopening, handing back and no-shows.

Every function takes the ticket's lock (loop.lock) in one transaction, writes the change, its
event and the messages it sends together, and is safe to run twice. The webhook, the job page,
the tenant's status page, the landlord's pages and the API all come here.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from app import clock, events
from app.booking import loop, questions, quotes, rounds, schedule, transitions
from app.booking.appointments import active_appointment
from app.booking.dispatch import PingRefused, send_ping
from app.booking.sla import escalation_deadline
from app.config import Config
from app.db import transaction
from app.i18n import gettext
from app.messaging import outbound, templates
from app.models import ACTIVE_APPOINTMENT_STATUSES, Appointment, Ping, Question, Ticket
from app.prepared import Param, Prepared

TICKET_OF = Prepared(lambda: Appointment.select(Appointment.ticket).where(
    Appointment.id == Param("id")))
NEWEST_DONE = Prepared(lambda: Appointment.select().where(
    Appointment.ticket == Param("ticket"), Appointment.status == "completed")
    .order_by(Appointment.completed_at.desc(), Appointment.id.desc()).limit(1))
NEWEST_OFFER = Prepared(lambda: Ping.select().where(
    Ping.ticket == Param("ticket"), Ping.vendor == Param("vendor"))
    .order_by(Ping.id.desc()).limit(1))
PAST = timedelta(minutes=1)  # a time this close to now still counts as now


class VisitError(Exception):
    """The visit cannot do that now (an API 409, a page's notice, an SMS answer)."""


class NotActive(VisitError):
    """The visit is no longer tentative or confirmed."""

    def __init__(self, appointment: Appointment):
        self.status = appointment.status
        super().__init__(f"appointment {appointment.id} is {appointment.status}")


def locked(appointment_id: int) -> tuple[Appointment | None, Ticket | None]:
    """An appointment and its ticket, the ticket locked and the appointment read after it."""
    ticket_id = TICKET_OF.scalar(id=appointment_id)
    ticket = loop.lock(ticket_id) if ticket_id is not None else None
    visit = Appointment.find(appointment_id) if ticket is not None else None
    if visit is None:
        return None, None
    visit.ticket = ticket
    return visit, ticket


def _active(appointment_id: int) -> tuple[Appointment, Ticket]:
    visit, ticket = locked(appointment_id)
    if visit is None:
        raise LookupError(f"appointment {appointment_id} not found")
    if visit.status not in ACTIVE_APPOINTMENT_STATUSES:
        raise NotActive(visit)
    return visit, ticket


def code_of(visit: Appointment) -> str | None:
    """The job code of the vendor's newest offer of this ticket (None: booked by hand)."""
    offer = visit.ping if visit.ping_id is not None else NEWEST_OFFER.first(
        ticket=visit.ticket_id, vendor=visit.vendor_id)
    return offer.code if offer is not None else None


def _save(visit: Appointment, **values) -> None:
    Appointment.update(**values).where(Appointment.id == visit.id).execute()
    for name, value in values.items():
        setattr(visit, name, value)


def _tell(ticket: Ticket, key: str, to: str | None, body: str, recipient: tuple[str, int]):
    if to:
        outbound.queue(landlord=ticket.landlord_id, to=to, body=body, ticket=ticket,
                       recipient=recipient, dedupe_key=key)


def _tell_vendor(visit: Appointment, key: str, body: str) -> None:
    _tell(visit.ticket, key, next(iter(visit.vendor.phones), None), body,
          ("vendor", visit.vendor_id))


def _tell_tenant(ticket: Ticket, key: str, body: str) -> None:
    _tell(ticket, key, ticket.tenant.phone, body, ("tenant", ticket.tenant_id))


def _tell_landlord(ticket: Ticket, key: str, body: str) -> None:
    _tell(ticket, key, ticket.landlord.phone, body, ("landlord", ticket.landlord_id))


# -- the time ---------------------------------------------------------------------------


def set_time(appointment_id: int, starts_at: datetime, ends_at: datetime | None, *,
             actor: str, config: Config) -> Appointment:
    """Set or move a visit's time: back to tentative, reminders and no-show check re-armed,
    the tenant asked to confirm; a time set by the landlord is also sent to the vendor.

    Raises LookupError, NotActive, or VisitError (a past time, an end before the start).
    """
    now = clock.now()
    if starts_at < now - PAST:
        raise VisitError(gettext("that time has already passed"))
    with transaction():
        visit, ticket = _active(appointment_id)
        ends_at = ends_at or schedule.default_end(ticket, starts_at)
        if ends_at <= starts_at:
            raise VisitError(gettext("the visit must end after it starts"))
        if (visit.starts_at, visit.ends_at) == (starts_at, ends_at):
            return visit  # the same time again: nothing to re-arm or re-ask
        _save(visit, starts_at=starts_at, ends_at=ends_at, status="tentative",
              confirmed_at=None, time_refused_at=None,
              **schedule.deadlines(starts_at, ends_at, config, now))
        event = events.emit("visit.time_set", ticket=ticket, actor=actor,
                            appointmentId=visit.id, vendorId=visit.vendor_id,
                            startsAt=clock.isoformat(starts_at), endsAt=clock.isoformat(ends_at))
        question = questions.ask("confirm", visit, ticket)
        _tell_tenant(ticket, f"question:{question.id}",
                     templates.confirm_visit(
                         ticket, visit.vendor, visit, lang=ticket.tenant.language))
        if not actor.startswith("vendor:"):
            _tell_vendor(visit, f"event:{event.id}:vendor",
                         templates.visit_moved_vendor(
                             ticket, visit, code_of(visit), lang=visit.vendor.language))
    return visit


# -- the tenant's answer ----------------------------------------------------------------


def confirm(appointment_id: int, *, actor: str) -> str:
    """The tenant confirms the visit time: 'confirmed', or 'already' when it was."""
    with transaction():
        visit, ticket = _active(appointment_id)
        if visit.starts_at is None:
            raise VisitError(gettext("the vendor has not set a visit time yet"))
        if visit.status == "confirmed":
            return "already"
        _save(visit, status="confirmed", confirmed_at=clock.now(), time_refused_at=None)
        event = events.emit("visit.confirmed", ticket=ticket, actor=actor,
                            appointmentId=visit.id, vendorId=visit.vendor_id)
        questions.close_about(visit, "yes")
        _tell_vendor(visit, f"event:{event.id}:vendor",
                     templates.visit_confirmed_vendor(
                         ticket, visit, code_of(visit), lang=visit.vendor.language))
    return "confirmed"


def refuse(appointment_id: int, *, actor: str) -> str:
    """The tenant cannot make the visit time: the vendor is asked for another, the ticket is
    flagged for the landlord; 'refused', or 'already'."""
    with transaction():
        visit, ticket = _active(appointment_id)
        if visit.time_refused_at is not None:
            return "already"
        _save(visit, status="tentative", confirmed_at=None, time_refused_at=clock.now(),
              remind_at=None, no_show_at=None)
        event = events.emit("visit.time_refused", ticket=ticket, actor=actor,
                            appointmentId=visit.id, vendorId=visit.vendor_id)
        questions.close_about(visit, "no")
        _tell_vendor(visit, f"event:{event.id}:vendor",
                     templates.visit_refused_vendor(
                         ticket, visit, code_of(visit), lang=visit.vendor.language))
    return "refused"


# -- reminders and the no-show question (the sweep) --------------------------------------


def remind(appointment_id: int, config: Config) -> bool:
    """Send the visit's due reminder to tenant and vendor (the nearest to the visit, when the
    sweep was late for several), and arm the next one; True when one was sent."""
    now = clock.now()
    with transaction():
        visit, ticket = locked(appointment_id)
        if visit is None or visit.remind_at is None or visit.remind_at > now:
            return False
        due = [offset for offset in config.visit_reminders if visit.starts_at is not None
               and visit.remind_at <= visit.starts_at - timedelta(seconds=offset) <= now]
        _save(visit, remind_at=schedule.next_reminder(visit.starts_at, now, config)
              if visit.status in ACTIVE_APPOINTMENT_STATUSES else None)
        if visit.status not in ACTIVE_APPOINTMENT_STATUSES or not due or now >= visit.starts_at:
            return False
        offset = min(due)
        key = f"{outbound.AT_MOST_ONCE}{visit.id}:{clock.isoformat(visit.starts_at)}:{offset}"
        _tell_tenant(ticket, f"{key}:tenant", templates.reminder_tenant(
            ticket, visit, lang=ticket.tenant.language))
        _tell_vendor(visit, f"{key}:vendor", templates.reminder_vendor(
            ticket, visit, code_of(visit), lang=visit.vendor.language))
        events.emit("visit.reminded", ticket=ticket, appointmentId=visit.id,
                    vendorId=visit.vendor_id, secondsBefore=offset)
    return True


def ask_came(appointment_id: int) -> bool:
    """After a visit's end and the grace: ask the tenant whether the vendor came."""
    now = clock.now()
    with transaction():
        visit, ticket = locked(appointment_id)
        if visit is None or visit.no_show_at is None or visit.no_show_at > now:
            return False
        _save(visit, no_show_at=None)
        if visit.status not in ACTIVE_APPOINTMENT_STATUSES:
            return False
        question = questions.ask("came", visit, ticket)
        events.emit("visit.check", ticket=ticket, appointmentId=visit.id,
                    vendorId=visit.vendor_id, questionId=question.id)
        _tell_tenant(ticket, f"question:{question.id}", templates.did_they_come(
            visit.vendor, lang=ticket.tenant.language))
    return True


# -- done, rating, reopening -------------------------------------------------------------


def complete(appointment_id: int, *, actor: str, photos: int = 0) -> str:
    """The job is done (the vendor's DONE, the page's Done, the landlord, a tenant's YES to
    "did they come"): appointment and ticket completed, the tenant asked to rate it.
    'completed', or 'already' when it was."""
    with transaction():
        visit, ticket = locked(appointment_id)
        if visit is None:
            raise LookupError(f"appointment {appointment_id} not found")
        if visit.status == "completed":
            return "already"
        if visit.status not in ACTIVE_APPOINTMENT_STATUSES:
            raise NotActive(visit)
        transitions.change_status(ticket, "completed", actor=actor)  # completes the visit
        finish(visit, ticket, actor=actor, photos=photos)
    return "completed"


def finish(visit: Appointment, ticket: Ticket, *, actor: str, photos: int = 0) -> None:
    """Record a visit the ticket's completion just closed, and ask the tenant to rate it
    (inside the transaction that completed the ticket)."""
    events.emit("appointment.completed", ticket=ticket, actor=actor, appointmentId=visit.id,
                vendorId=visit.vendor_id, vendor=visit.vendor.name, photos=photos)
    question = questions.ask("rate", visit, ticket)
    by = ("landlord" if actor.startswith(("landlord:", "api")) else
          "tenant" if actor.startswith("tenant:") else "vendor")
    _tell_tenant(ticket, f"question:{question.id}",
                 templates.rate_visit(ticket, visit.vendor, by=by, lang=ticket.tenant.language))


def rate(appointment_id: int, rating: int, *, actor: str) -> str:
    """The tenant's 1-5 for a completed visit: 'rated' (a later one replaces it)."""
    if not 1 <= rating <= 5:
        raise VisitError(gettext("a rating is a whole number from 1 to 5"))
    with transaction():
        visit, ticket = locked(appointment_id)
        if visit is None:
            raise LookupError(f"appointment {appointment_id} not found")
        if visit.status != "completed":
            raise NotActive(visit)
        if visit.rating == rating:
            return "rated"  # the same rating again: recorded once
        _save(visit, rating=rating, rated_at=clock.now())
        events.emit("feedback.received", ticket=ticket, actor=actor, appointmentId=visit.id,
                    vendorId=visit.vendor_id, rating=rating)
        question = questions.open_about(visit, "rate")
        if question is not None:
            questions.answered(question, str(rating))
    return "rated"


def reopenable(ticket: Ticket, config: Config, now: datetime | None = None) -> Appointment | None:
    """The completed visit NOT FIXED would reopen, while inside REOPEN_WINDOW_SECONDS."""
    if ticket.status != "completed":
        return None
    visit = NEWEST_DONE.first(ticket=ticket)
    if visit is None or visit.completed_at is None:
        return None
    if (now or clock.now()) - visit.completed_at > timedelta(seconds=config.reopen_window):
        return None
    return visit


def reopen(ticket_id: int, *, actor: str, config: Config) -> str:
    """NOT FIXED: the ticket goes back to dispatching and the same vendor is asked first.
    'reopened', or raises VisitError (not completed, or past the reopen window)."""
    with transaction():
        ticket = loop.lock(ticket_id)
        if ticket is None:
            raise LookupError(f"ticket {ticket_id} not found")
        visit = reopenable(ticket, config)
        if visit is None:
            raise VisitError(gettext("this repair can no longer be reopened here: ask your "
                                     "landlord"))
        _redispatch(ticket, actor, config)
        event = events.emit("ticket.reopened", ticket=ticket, actor=actor,
                            appointmentId=visit.id, vendorId=visit.vendor_id)
        questions.close_of_ticket(ticket, "reopened")
        _tell_landlord(ticket, f"event:{event.id}:landlord",
                       templates.reopened_landlord(ticket, visit.vendor, _link(ticket, config)))
        _new_round(ticket, actor)
        try:
            send_ping(ticket, visit.vendor, visit.vendor.preferred_channel, config, actor=actor)
        except PingRefused:  # retired or opted out since: the next vendor instead
            loop.ask_next(ticket, config)
    return "reopened"


def _new_round(ticket: Ticket, actor: str) -> None:
    """Everyone may be asked again (a reopened job is a new job)."""
    rounds.fresh_start(ticket, actor)


def _redispatch(ticket: Ticket, actor: str, config: Config) -> None:
    """Back to dispatching with a fresh SLA deadline."""
    transitions.change_status(ticket, "dispatching", actor=actor,
                              escalate_at=escalation_deadline(ticket.severity, clock.now(),
                                                              config))


def _link(ticket: Ticket, config: Config) -> str:
    return f"{config.link_base}/tickets/{ticket.id}"


# -- handing back and no-shows -----------------------------------------------------------


def hand_back(appointment_id: int, *, actor: str, config: Config,
              reason: str | None = None) -> str:
    """The vendor hands the job back (or the landlord cancels the visit): the appointment is
    cancelled, landlord and tenant are told, the next vendor not yet asked gets the offer
    (that vendor is never asked again for this ticket). 'cancelled'."""
    with transaction():
        visit, ticket = _active(appointment_id)
        _end(visit, "cancelled")
        event = events.emit("appointment.cancelled", ticket=ticket, actor=actor,
                             appointmentId=visit.id, vendorId=visit.vendor_id,
                             vendor=visit.vendor.name, by=actor.split(":")[0], reason=reason)
        by_vendor = actor.startswith("vendor:")
        _tell_tenant(ticket, f"event:{event.id}:tenant",
                     templates.visit_cancelled_tenant(ticket, visit.vendor, by_vendor=by_vendor,
                                                       lang=ticket.tenant.language))
        if by_vendor:
            _tell_landlord(ticket, f"event:{event.id}:landlord", templates.handed_back_landlord(
                ticket, visit.vendor, reason, _link(ticket, config)))
        else:
            _tell_vendor(visit, f"event:{event.id}:vendor",
                         templates.visit_cancelled_vendor(ticket, visit, code_of(visit), reason,
                                                       lang=visit.vendor.language))
        _redispatch(ticket, actor, config)
        loop.ask_next(ticket, config)
    return "cancelled"


def came(question_id: int, yes: bool, *, actor: str, config: Config) -> str:
    """The tenant's answer to "did the vendor come": YES completes the visit as DONE would;
    NO makes it a no-show and sends the ticket to the next vendor. 'completed', 'no_show'."""
    question = Question.get_by_id(question_id)
    if yes:
        with transaction():  # answered before the rate question would close it "superseded"
            locked(question.appointment_id)  # the ticket's lock first, as everywhere
            questions.answered(question, "yes")
            result = complete(question.appointment_id, actor=actor)
        return "completed" if result in ("completed", "already") else result
    with transaction():
        visit, ticket = _active(question.appointment_id)
        questions.answered(question, "no")
        _end(visit, "no_show")
        event = events.emit("vendor.no_show", ticket=ticket, actor=actor, appointmentId=visit.id,
                            vendorId=visit.vendor_id, vendor=visit.vendor.name)
        _tell_landlord(ticket, f"event:{event.id}:landlord",
                       templates.no_show_landlord(ticket, visit.vendor, _link(ticket, config)))
        _tell_vendor(visit, f"event:{event.id}:vendor",
                     templates.no_show_vendor(ticket, code_of(visit), lang=visit.vendor.language))
        _redispatch(ticket, actor, config)
        loop.ask_next(ticket, config)
    return "no_show"


def _end(visit: Appointment, status: str) -> None:
    """A visit that will not happen: its deadlines, questions and waiting quote end with it."""
    _save(visit, status=status, cancelled_at=clock.now(), remind_at=None, no_show_at=None)
    questions.close_about(visit, status)
    quotes.withdraw(visit.ticket, actor="system")


def held_by(ticket: Ticket, vendor_id: int) -> Appointment | None:
    """The ticket's active visit when this vendor holds it."""
    visit = active_appointment(ticket)
    return visit if visit is not None and visit.vendor_id == vendor_id else None
