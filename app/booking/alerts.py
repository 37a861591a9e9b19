"""An emergency's escalation alert: besides the SMS the landlord is called, and the SMS is sent
again every five minutes (three times at most) until the landlord acknowledges it: ACK by text,
1 on the call, or any action of theirs on the ticket. A routine escalation gets the SMS only."""

from __future__ import annotations

from datetime import timedelta

from peewee import IntegrityError
from twilio.twiml.voice_response import VoiceResponse

from app import clock, events
from app.bounds import positive_int
from app.config import Config
from app.db import transaction
from app.messaging import notices, outbound, templates, voice
from app.models import Event, Landlord, Message, Ticket
from app.prepared import Param, Prepared

REPEAT_SECONDS = 300
MAX_REPEATS = 3
WRONG_KEY = "Press 1 to acknowledge."
events.SUMMARIES.setdefault("ticket.acknowledged", "Landlord acknowledged the escalation ({by})")

ESCALATION_EVENT = Prepared(lambda: Event.select(Event.id).where(
    Event.ticket == Param("ticket"), Event.type == "ticket.escalated")
    .order_by(Event.id.desc()).limit(1))
# An escalation is acknowledged once: the UPDATE decides races (callers check the status).
ACKNOWLEDGE = Prepared(lambda: Ticket.update(
    acknowledged_at=Param("at", Ticket.acknowledged_at), alert_due_at=None).where(
    Ticket.id == Param("id"), Ticket.escalated_at.is_null(False),
    Ticket.acknowledged_at.is_null()))
SILENCE = Prepared(lambda: Ticket.update(alert_due_at=None).where(
    Ticket.id == Param("id"), Ticket.alert_due_at.is_null(False)))
REPEATED = Prepared(lambda: Ticket.update(
    alert_repeats=Param("repeats", Ticket.alert_repeats),
    alert_due_at=Param("due", Ticket.alert_due_at)).where(Ticket.id == Param("id")))


def armed(ticket: Ticket) -> dict:
    """The alert columns a ticket escalating now gets (change_status's extra changes): an
    emergency's first repeat is due in five minutes; a routine one has none."""
    due = (clock.now() + timedelta(seconds=REPEAT_SECONDS) if ticket.severity == "emergency"
           else None)
    return {"alert_due_at": due, "alert_repeats": 0, "acknowledged_at": None}


def call(ticket: Ticket, reason: str, event: Event, config: Config) -> None:
    """An emergency's escalation also rings the landlord (queued once per escalation event)."""
    if ticket.severity != "emergency":
        return
    landlord = ticket.landlord
    outbound.queue(landlord=ticket.landlord_id, to=landlord.phone, channel="voice",
                   body=templates.escalated_landlord_spoken(ticket, reason), ticket=ticket,
                   recipient=("landlord", landlord.id), dedupe_key=voice.alert_key(event.id))


def repeat(ticket: Ticket, config: Config) -> bool:
    """Send the escalation SMS again if its repeat is due; call holding the ticket's lock.

    Each repeat has its own dedupe key (escalation event and repeat number), so a repeat whose
    deadline was not moved on (a crash) is not sent twice. After the last one the deadline goes.
    """
    now = clock.now()
    if ticket.alert_due_at is None or ticket.alert_due_at > now:
        return False
    if (ticket.status != "escalated" or ticket.acknowledged_at is not None
            or ticket.severity != "emergency" or ticket.alert_repeats >= MAX_REPEATS):
        SILENCE.execute(id=ticket.id)
        return False
    number = ticket.alert_repeats + 1
    event_id = ESCALATION_EVENT.scalar(ticket=ticket.id)
    landlord = ticket.landlord
    body = templates.escalated_landlord(ticket, ticket.escalation_reason or "escalated",
                                        notices.ticket_link(ticket, config))
    outbound.queue(landlord=ticket.landlord_id, to=landlord.phone, body=body, ticket=ticket,
                   recipient=("landlord", landlord.id),
                   dedupe_key=f"event:{event_id}:landlord-repeat:{number}")
    due = now + timedelta(seconds=REPEAT_SECONDS) if number < MAX_REPEATS else None
    REPEATED.execute(id=ticket.id, repeats=number, due=due)
    return True


def acknowledge(ticket: Ticket, by: str, actor: str) -> bool:
    """The landlord has seen the escalation: no more repeats, event `ticket.acknowledged`.
    True when this call acknowledged it (an escalation is acknowledged once)."""
    now = clock.now()
    if ACKNOWLEDGE.execute(id=ticket.id, at=now) != 1:
        return False
    ticket.acknowledged_at, ticket.alert_due_at = now, None
    events.emit("ticket.acknowledged", ticket=ticket, actor=actor, by=by)
    return True


def is_person(actor: str) -> bool:
    """Whether an actor is the landlord (dashboard or API), not Fixline or a vendor."""
    return actor == "api" or actor.startswith("landlord:")


def landlord_acted(ticket: Ticket, action: str, actor: str) -> None:
    """A landlord's action on an escalated ticket acknowledges its escalation."""
    if ticket.status == "escalated" and is_person(actor):
        acknowledge(ticket, action, actor)


def left_escalation(ticket: Ticket, actor: str) -> None:
    """The ticket left the escalated state (change_status): its alert stops; when the
    landlord moved it, that acknowledged the escalation."""
    if not (is_person(actor) and acknowledge(ticket, "status change", actor)):
        SILENCE.execute(id=ticket.id)
        ticket.alert_due_at = None


def _waiting(landlords: list[Landlord], number: str | None) -> Ticket | None:
    """The escalation an ACK answers: the ticket it names, else the newest unacknowledged
    escalation of the landlord(s) at that phone, emergencies first."""
    query = Ticket.select().where(Ticket.landlord.in_([lord.id for lord in landlords]),
                                  Ticket.status == "escalated", Ticket.acknowledged_at.is_null())
    if number is not None:
        ticket_id = positive_int(number)
        return query.where(Ticket.id == ticket_id).first() if ticket_id is not None else None
    return (query.order_by((Ticket.severity == "emergency").desc(), Ticket.escalated_at.desc(),
                           Ticket.id.desc())
            .first())


def ack_by_sms(landlords: list[Landlord], number: str | None) -> str:
    """An ACK texted from a landlord's phone; returns the answer. Call inside a transaction."""
    ticket = _waiting(landlords, number) if landlords else None
    if ticket is None or not acknowledge(ticket, "sms", f"landlord:{ticket.landlord_id}"):
        return templates.reply_nothing_to_acknowledge(number)
    return templates.reply_acknowledged(ticket)


def on_call(response: VoiceResponse, *, ticket_id: int, call_sid: str, digits: str | None,
            config: Config) -> None:
    """The landlord's escalation call: without digits it reads the alert (a call asking what
    to play); 1 acknowledges; another key asks again."""
    ticket = Ticket.find(ticket_id)
    if ticket is None:
        response.say(templates.reply_nothing_to_acknowledge())
        return
    if digits is None or (digits or "").strip()[:1] != "1":
        if digits is not None:
            response.say(WRONG_KEY)
        spoken = templates.escalated_landlord_spoken(ticket,
                                                     ticket.escalation_reason or "escalated")
        for verb in voice.alert(spoken, ticket.id, config).verbs:
            response.append(verb)
        return
    landlord = ticket.landlord
    with transaction():
        ticket = Ticket.find(ticket_id)  # as it is now, in this transaction
        try:
            with transaction():
                Message.create(direction="inbound", channel="voice", to_number="",
                               from_number=landlord.phone, body=f"pressed {digits}",
                               status="received", landlord=ticket.landlord_id, ticket=ticket,
                               recipient_type="landlord", recipient_id=landlord.id,
                               dedupe_key=f"keypress:{call_sid}:ticket:{ticket.id}")
        except IntegrityError:  # Twilio's retry of the same keypress: answer as before
            pass
        if ticket.status == "escalated":
            acknowledge(ticket, "call", f"landlord:{landlord.id}")
    ticket = Ticket.get_by_id(ticket.id)
    response.say(templates.reply_acknowledged(ticket) if ticket.acknowledged_at is not None
                 else templates.reply_nothing_to_acknowledge(str(ticket.id)))
