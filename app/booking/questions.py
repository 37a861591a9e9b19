"""Questions Fixline put to a tenant by SMS (confirm a visit time, did the vendor come, rate
the visit); a reply from that phone answers its newest open one (CONTRACT.md §9)."""

from __future__ import annotations

from app import clock
from app.models import Appointment, Question, Ticket
from app.prepared import Param, Prepared

KINDS = ("confirm", "came", "rate")

OPEN_FOR = Prepared(lambda: Question.select().where(
    Question.phone == Param("phone"), Question.closed_at.is_null())
    .order_by(Question.asked_at.desc(), Question.id.desc()).limit(1))
OPEN_FOR_ROLE = Prepared(lambda: Question.select().where(
    Question.phone == Param("phone"), Question.role == Param("role"),
    Question.closed_at.is_null()).order_by(Question.asked_at.desc(), Question.id.desc()).limit(1))
CLOSE_OF_APPOINTMENT = Prepared(lambda: Question.update(
    closed_at=Param("at", Question.closed_at), answer=Param("answer", Question.answer)).where(
    Question.appointment == Param("appointment"), Question.closed_at.is_null()))
CLOSE_OF_TICKET = Prepared(lambda: Question.update(
    closed_at=Param("at", Question.closed_at), answer=Param("answer", Question.answer)).where(
    Question.ticket == Param("ticket"), Question.closed_at.is_null()))
CLOSE_ONE = Prepared(lambda: Question.update(
    closed_at=Param("at", Question.closed_at), answer=Param("answer", Question.answer)).where(
    Question.id == Param("id"), Question.closed_at.is_null()))
OPEN_OF = Prepared(lambda: Question.select().where(
    Question.appointment == Param("appointment"), Question.kind == Param("kind"),
    Question.closed_at.is_null()).order_by(Question.id.desc()).limit(1))


def ask(kind: str, appointment: Appointment, ticket: Ticket, *, new: bool = False) -> Question:
    """Put a question about this visit to its tenant; earlier open ones about it close (new:
    the visit was created in this transaction, so it has none)."""
    tenant = ticket.tenant
    if not new:
        close_about(appointment, "superseded")
    return Question.create(kind=kind, ticket=ticket, appointment=appointment, phone=tenant.phone,
                           role="tenant", person_id=tenant.id, asked_at=clock.now())


def open_for(phone: str, role: str | None = None) -> Question | None:
    """The newest question this phone has not answered (put to a tenant or a landlord, when
    role says)."""
    if role is None:
        return OPEN_FOR.first(phone=phone)
    return OPEN_FOR_ROLE.first(phone=phone, role=role)


def open_about(appointment: Appointment, kind: str) -> Question | None:
    """The open question of this kind about a visit, if there is one."""
    return OPEN_OF.first(appointment=appointment, kind=kind)


def answered(question: Question, answer: str) -> bool:
    """Close a question with its answer; False when it was already closed."""
    return CLOSE_ONE.execute(id=question.id, at=clock.now(), answer=answer[:40]) == 1


def close_about(appointment: Appointment, answer: str) -> None:
    """Close every open question about a visit (its time changed, or it ended)."""
    CLOSE_OF_APPOINTMENT.execute(appointment=appointment, at=clock.now(), answer=answer)


def close_of_ticket(ticket: Ticket, answer: str) -> None:
    """Close every open question about a ticket (it was cancelled or reopened)."""
    CLOSE_OF_TICKET.execute(ticket=ticket, at=clock.now(), answer=answer)
