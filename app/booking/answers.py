"""What vendors answer: inbound SMS, keypresses and delivery statuses, each handled once."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from twilio.twiml.voice_response import VoiceResponse

from app import i18n
from app.booking import (
    alerts,
    dispatch,
    loop,
    questions,
    quote_replies,
    visit_replies,
    visit_times,
)
from app.booking.appointments import active_appointment
from app.config import Config
from app.db import transaction
from app.messaging import optouts, outbound, replies, senders, templates, voice
from app.messaging.senders import Sender
from app.models import (
    Appointment,
    Message,
    Ping,
    Property,
    Question,
    Tenant,
    Ticket,
    Vendor,
    VendorPhone,
)
from app.prepared import Param, Prepared

FAILED_DELIVERY = ("failed", "undelivered", "busy", "no-answer", "canceled")
FINAL = (*FAILED_DELIVERY, "delivered", "completed", "read")
WRONG_KEY = "Press 1 to take the job, or 2 to pass."


class Replayed(Exception):
    """A signed webhook seen lately with other parameters (app.messaging.receipts)."""


# A ticket with the property and tenant its answer texts name, in one statement.
TICKET_FOR_ANSWER = Prepared(lambda: Ticket.select(Ticket, Property, Tenant)
                             .join(Property, on=Ticket.property).switch(Ticket)
                             .join(Tenant, on=Ticket.tenant)
                             .where(Ticket.id == Param("id")).limit(1))
VENDORS_WITH = Prepared(lambda: Vendor.select().join(VendorPhone).where(
    VendorPhone.number == Param("number")).distinct())


def _newest_ping(*where) -> Prepared:
    """The newest ping to any vendor at a phone number that also matches where."""
    return Prepared(lambda: Ping.select().where(
        Ping.vendor.in_(VendorPhone.select(VendorPhone.vendor).where(
            VendorPhone.number == Param("number"))), *where)
        .order_by(Ping.sent_at.desc(), Ping.id.desc()).limit(1))


WITH_CODE = _newest_ping(Ping.code == Param("code"))
NEWEST_OPEN = _newest_ping(Ping.outcome.in_(loop.ANSWERABLE))
NEWEST_SETTLED = _newest_ping(Ping.outcome.in_(("filled", "accepted")))


def vendors_with(number: str) -> list[Vendor]:
    """Every vendor (of any landlord) reachable at this phone number."""
    return VENDORS_WITH.rows(number=number)


def answerable_ping(number: str, code: str | None, *, settled: bool = False) -> Ping | None:
    """The ping a reply from a phone number is about: the one with that job code, else the
    newest open one of the vendors at that number.

    With settled, a vendor without an open ping gets their newest filled or accepted one, so
    a YES or NO after booking is answered "already filled" (or "you have the job"), not
    "no job".
    """
    if code:
        return WITH_CODE.first(number=number, code=code)
    found = NEWEST_OPEN.first(number=number)
    if found is None and settled:
        found = NEWEST_SETTLED.first(number=number)
    return found


def _about(ping: Ping | None, sender: Sender, ticket_id: int | None = None) -> dict:
    """Whose a message to or from a phone is: the landlord of the offer (or ticket) it answers;
    else the one landlord who has that number (several share it: visible to each, senders.py)."""
    role = sender.role
    people = getattr(sender, role + "s", []) if role != "unknown" else []
    ticket = ping.ticket if ping else Ticket.find(ticket_id) if ticket_id else None
    return dict(landlord=ticket.landlord_id if ticket else sender.only_landlord,
                ticket=ticket.id if ticket else None, ping=ping,
                recipient_type=role if people else None,
                recipient_id=people[0].id if people else None)


def _record_inbound(sid: str, from_number: str, to_number: str, body: str,
                    sender: Sender, ping: Ping | None, channel: str = "sms",
                    dedupe_key: str | None = None, ticket_id: int | None = None) -> bool:
    """Store the inbound message; False when this delivery was already stored (a retry).

    With a ping, hold its ticket's lock (loop.lock) first: the row's foreign key share-locks
    the ticket, and two answers each holding that share lock while waiting for loop's FOR
    UPDATE on the same ticket deadlock on PostgreSQL.
    """
    stored = Message.create_unless(
        Message.provider_id if dedupe_key is None else Message.dedupe_key,
        direction="inbound", channel=channel, to_number=to_number, from_number=from_number,
        body=body, status="received", provider_id=sid if dedupe_key is None else None,
        dedupe_key=dedupe_key, **_about(ping, sender, ticket_id))
    return stored is not None


def _record_reply(sid: str, to: str, body: str, ping: Ping | None, sender: Sender,
                  ticket_id: int | None = None) -> None:
    """Keep the TwiML answer in the message log (it travels in the webhook response)."""
    Message.create(direction="outbound", channel="sms", to_number=to, body=body,
                   status="replied", dedupe_key=f"reply:{sid}",
                   **_about(ping, sender, ticket_id))


def _first_answer(sid: str) -> str | None:
    """What the first delivery of this inbound SMS was answered (a retry gets it again)."""
    first = outbound.BY_DEDUPE_KEY.first(key=f"reply:{sid}")
    return first.body if first else None


def on_sms(*, sid: str, from_number: str, to_number: str, body: str, config: Config,
           media: list[str] = (), admit: Callable[[], bool] | None = None) -> str | None:
    """Handle one inbound SMS once; returns the text to answer with (a repeat gets the same).

    Whose it is decides what it means: a vendor's answer to an offer, a vendor's word about
    the visit they hold (TIME, DONE, CANCEL, QUOTE), a landlord's APPROVE, DENY or AGAIN, a
    tenant's answer to their newest open question, or NOT FIXED; anything else gets a help
    text fitting who sent it, never an error.

    admit: the webhook's receipt (app.messaging.receipts), recorded first in the same
    transaction; when it refuses (a replay with other parameters) Replayed is raised and
    nothing is written.
    """
    reply = replies.parse(body)
    # Read before the write transaction, as PostgreSQL reads them before its row lock: what
    # the answer changes is read again under the lock (loop.locked), so SQLite's one writer
    # is not held while they are looked up.
    vendors = vendors_with(from_number)
    target = _target(reply, from_number, vendors)
    with transaction():  # the stored message and its effect commit together, or neither
        if admit is not None and not admit():
            raise Replayed(sid)
        ping, ticket = target.ping, None
        # lock before the inbound row: see _record_inbound (an offer's ticket, locked once)
        if ping is not None:
            fresh, ticket = loop.locked(ping.id, ping.ticket_id)
            ping = fresh or ping
            for vendor in vendors:  # the ping's vendor, read with the others at the number
                if vendor.id == ping.vendor_id:
                    ping.vendor = vendor
        elif target.ticket_id is not None:
            loop.lock(target.ticket_id)
        # An answer to an offer needs only its vendors; anything else, everyone at the number.
        sender = (Sender(vendors, [], []) if ping is not None
                  else senders.identify(from_number, vendors))
        if not _record_inbound(sid, from_number, to_number, body, sender, ping,
                               ticket_id=target.ticket_id):
            return _first_answer(sid)
        with i18n.speaking(sender.language):  # the answer is in the sender's language
            text = _answer(reply, body, from_number, sender, target, ping, ticket, config, media)
        if text:
            _record_reply(sid, from_number, text, ping, sender, ticket_id=target.ticket_id)
    return text


def _answer(reply: replies.Reply, body: str, number: str, sender: Sender, target: _Target,
            ping: Ping | None, ticket: Ticket | None, config: Config, media: list[str]) -> str:
    """Carry out what the message says and return the answer to it."""
    if reply.kind in quote_replies.WORDS:  # QUOTE; a landlord's APPROVE, DENY, AGAIN
        return quote_replies.word(reply, number, target.visit, sender, config)
    if target.visit is not None or reply.kind in visit_replies.VISIT_WORDS and sender.vendors:
        return visit_replies.vendor_word(reply, target.visit, config, media)
    if target.question is not None:
        return visit_replies.tenant_answer(target.question, reply, body, config)
    if target.reopen is not None:
        return visit_replies.reopen(target.reopen, f"tenant:{sender.tenants[0].id}", config)
    return _act(reply, body, number, sender, ping, ticket, config)


@dataclass
class _Target:
    """What an inbound SMS is about, found before anything is locked or written."""

    ping: Ping | None = None
    visit: Appointment | None = None
    question: Question | None = None
    reopen: int | None = None  # a ticket NOT FIXED reopens
    named: int | None = None  # the landlord's own ticket an APPROVE, DENY or AGAIN is about

    @property
    def ticket_id(self) -> int | None:
        for row in (self.ping, self.visit, self.question):
            if row is not None:
                return row.ticket_id
        return self.reopen if self.reopen is not None else self.named


def _target(reply: replies.Reply, number: str, vendors: list[Vendor]) -> _Target:
    """A vendor's visit word is about their visit; an offer's code, its ping; otherwise the
    newest of the vendors' open offer and the tenant's open question gets the answer."""
    if reply.kind in (*visit_replies.VISIT_WORDS, "quote"):
        return _Target(visit=visit_replies.visit_of(number, reply.code)) if vendors else _Target()
    if reply.kind in quote_replies.LANDLORD_WORDS:
        return _Target(named=quote_replies.ticket_named(reply, number))
    if reply.kind in ("stop", "start", "help", "ack"):
        return _Target()
    wants_ping = reply.kind in ("accept", "decline") and bool(vendors)
    ping = answerable_ping(number, reply.code, settled=True) if wants_ping else None
    if reply.code is None:
        question = questions.open_for(number, role="tenant")  # a landlord's: APPROVE, DENY
        if question is not None and (ping is None or ping.outcome not in loop.ANSWERABLE
                                     or question.asked_at >= ping.sent_at):
            return _Target(question=question)
        if reply.kind == "not_fixed" and ping is None:
            ticket = visit_replies.reopenable_ticket(number)
            return _Target(reopen=ticket.id if ticket is not None else None)
    return _Target(ping=ping)


def _act(reply: replies.Reply, body: str, number: str, sender: Sender, ping: Ping | None,
         ticket: Ticket | None, config: Config) -> str:
    """Carry out a reply; ping and ticket come from loop.locked()."""
    vendors = sender.vendors
    if reply.kind == "stop":  # from anyone: the number is in the opt-out register
        optouts.stop(number, body.strip().upper())
        ids = [v.id for v in vendors]
        for open_ping in Ping.select().where(Ping.vendor.in_(ids), Ping.outcome == "pending"):
            loop.decline(open_ping.id, config)
        return templates.reply_stopped(sender.role)
    if reply.kind == "start":
        optouts.start(number)
        return templates.reply_started(sender.role)
    if reply.kind == "ack":  # a landlord acknowledging an escalation: no more reminders
        return alerts.ack_by_sms(sender.landlords, reply.code)
    if reply.kind == "help" or not vendors:
        return templates.reply_help(sender.role)
    if reply.kind not in ("accept", "decline"):
        return templates.reply_unknown()
    if ping is None:
        return templates.reply_no_job(reply.code)
    if reply.kind == "accept":
        when, problem = _visit_time(reply.text, ticket)
        if problem is not None:  # "YES K7Q2 <not a time>" changes nothing
            return templates.reply_yes_unreadable(ping.code, problem) if reply.code else (
                templates.reply_unknown())
        _, visit = loop.take(ping, ticket, "sms", config, when)
        return answer(reply.kind, ping.id, config, held=(ping, ticket), visit=visit)
    loop.decline_locked(ping, ticket, config)
    return answer(reply.kind, ping.id, config, held=(ping, ticket))


def _visit_time(text: str, ticket: Ticket | None) -> tuple[tuple | None, str | None]:
    """The visit a YES names ("YES K7Q2 3pm"): (start, end) or None, and what to tell the
    vendor when the words are not a time."""
    if not text or ticket is None:
        return None, None
    try:
        return visit_replies.read_time(text, ticket), None
    except visit_times.UnreadableTime as exc:
        return None, str(exc)


def answer(kind: str, ping_id: int, config: Config | None = None, *,
           held: tuple[Ping, Ticket] | None = None, visit: Appointment | None = None) -> str:
    """What a YES ("accept") or NO ("decline") is told, read from the ping and its ticket as
    they are after it was carried out: it never claims an effect that did not happen.

    held: the ping and its ticket as a caller's transaction locked them and the engine's
    writes left them (their conditional updates keep the instances current), so they need no
    second read; without it both are read again. visit: the one this YES just booked.
    """
    if held is not None and held[1] is not None:
        ping, ticket = held
    else:
        ping = Ping.get_by_id(ping_id)
        ticket = TICKET_FOR_ANSWER.first(id=ping.ticket_id)  # once, for the texts
    if ticket is None:
        raise Ticket.DoesNotExist(f"Ticket with id {ping.ticket_id} does not exist")
    ping.ticket = ticket
    if ticket.status == "cancelled":
        return templates.reply_job_cancelled(ping.code)
    if ticket.status == "completed":
        return templates.reply_job_done(ping.code)
    held = (visit or active_appointment(ticket)) if ticket.status == "scheduled" else None
    if held is not None and held.vendor_id == ping.vendor_id:
        held.ticket = ticket
        if kind == "accept":
            link = dispatch.job_link(ping.token, config) if config and ping.token else None
            return templates.reply_booked(ping, held, link)
        return templates.reply_holding(ping.code, ticket.landlord)
    if kind == "decline" and ping.outcome == "declined":
        return templates.reply_declined(ping.code)
    if ticket.status == "scheduled":
        return templates.reply_filled(ping.code)
    return templates.reply_not_open(ping.code)


def offer_gather(response: VoiceResponse, ping_id: int, config: Config) -> None:
    """The offer read out again, with the keypad Gather (a call asking what to play)."""
    ping = Ping.get_or_none(Ping.id == ping_id)
    if ping is None:
        response.say(templates.reply_no_job(None))
        return
    language = ping.vendor.language
    spoken = templates.vendor_offer_spoken(ping.ticket, ping.code, lang=language)
    for verb in voice.offer(spoken, ping.id, config, language).verbs:
        response.append(verb)


def on_keypress(*, call_sid: str, ping_id: int, digits: str, config: Config) -> str:
    """A keypress on an offer call: 1 accepts, 2 declines; a repeat gets the same answer."""
    ping = Ping.get_or_none(Ping.id == ping_id)
    if ping is None:
        return templates.reply_no_job(None)
    reply = replies.parse_digits(digits)
    if reply.kind == "unknown":
        return WRONG_KEY
    with transaction():
        # lock before the inbound row: see _record_inbound
        fresh, ticket = loop.locked(ping.id, ping.ticket_id)
        ping = fresh or ping
        first = _record_inbound(call_sid, ping.to_number, "", f"pressed {digits}",
                                Sender([ping.vendor], [], []), ping, channel="voice",
                                dedupe_key=f"keypress:{call_sid}:{ping.id}")
        if first and reply.kind == "accept":
            loop.take(fresh, ticket, "voice", config)
        elif first:
            loop.decline_locked(fresh, ticket, config)
    with i18n.speaking(ping.vendor.language):
        return answer(reply.kind, ping.id)


def on_status(*, sid: str, status: str, error_code: str | None, config: Config) -> None:
    """Record a delivery status; a failed offer moves on to the next vendor at once."""
    message = Message.get_or_none(Message.provider_id == sid)
    if message is None:
        return
    error = f"Twilio error {error_code}" if error_code else Message.error
    query = Message.update(status=status, error=error).where(Message.id == message.id)
    if status not in FAILED_DELIVERY:  # a late "sent" never overwrites "delivered"
        query = query.where(Message.status.not_in(FINAL))
    with transaction():
        query.execute()
        if status in FAILED_DELIVERY and message.ping_id is not None:
            loop.lapse(message.ping_id, "failed", config)
