"""Outbound messages: queue one in the caller's transaction, deliver it from a worker."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from peewee import fn

from app import clock, events, faults
from app.config import Config
from app.db import after_commit, transaction
from app.joined import joined
from app.messaging import optouts, quiet, spend
from app.messaging.channels import SendError, channel_for
from app.models import Fault, Landlord, Message, OptOut, Ping, Property, Tenant, Ticket, Vendor
from app.prepared import Param, Prepared

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 3
# Messages whose dedupe key starts so are sent at most once: one a worker died while sending
# is marked failed, never sent again (a visit reminder twice is worse than none).
AT_MOST_ONCE = "remind:"
RETRY_DELAYS_MS = (500, 2000)  # after the 1st and 2nd failed attempt

Sender = Callable[[int, int], None]  # (message_id, delay_ms)
_sender: Sender | None = None



def _landlords_zone():
    """The zone of the message's landlord's first property (insurance.landlord_zone's clock),
    for a message about no ticket."""
    first = Property.alias("first_property")
    return (first.select(first.timezone).where(first.landlord == Message.landlord)
            .order_by(first.id).limit(1))


def _routing() -> tuple:
    """What deciding a delivery needs beside the message, read in its claim's own statement:
    its fault, if it has one; whether its number opted out since it was queued; the ticket's
    severity and the zone of its quiet hours (the property's, else the landlord's)."""
    fault, opt_out = Fault.alias("own_fault"), OptOut.alias("stopped_number")
    ticket, place = Ticket.alias("about_ticket"), Property.alias("about_place")
    return (
        fault.select(fault.id).where(fault.kind == "message", fault.row_id == Message.id)
        .alias("fault_id"),
        opt_out.select(opt_out.id).where(opt_out.phone == Message.to_number).limit(1)
        .alias("opt_out_id"),
        ticket.select(ticket.severity).where(ticket.id == Message.ticket).alias("severity"),
        fn.COALESCE(place.select(place.timezone).join(ticket, on=(ticket.property == place.id))
                    .where(ticket.id == Message.ticket), _landlords_zone()).alias("timezone"),
    )


# A message handed back to the queue by its claim's own transaction: quiet hours (or a
# send_after) say it waits; the sweep hands it over again once they end.
HOLD = Prepared(lambda: Message.update(
    status="queued", attempts=Message.attempts - 1, send_after=Param("until", Message.send_after),
    updated_at=Param("at", Message.updated_at))
    .where(Message.id == Param("id"), Message.status == "sending"))
BY_DEDUPE_KEY = Prepared(lambda: Message.select().where(Message.dedupe_key == Param("key"))
                         .limit(1))


def _offer(name: str):
    """A job offer's (ping's) column, read in the claim's own statement as offer_<name>."""
    offer = Ping.alias("offer")
    return (offer.select(getattr(offer, name)).where(offer.id == Message.ping)
            .alias(f"offer_{name}"))


# Twilio reports an accepted message as "queued" too; its provider_id tells them apart. The
# claimed row comes back as it now is, with its offer's outcome and expiry (_offer_closed)
# and what routing it needs (_routing): one statement.
CLAIM = Prepared(lambda: Message.update(status="sending", attempts=Message.attempts + 1,
                                        updated_at=Param("at", Message.updated_at))
                 .where(Message.id == Param("id"), Message.status == "queued",
                        Message.provider_id.is_null())
                 .returning(Message, _offer("outcome"), _offer("expires_at"), *_routing()))
UNCLAIM = Prepared(lambda: Message.update(
    status="queued", updated_at=Param("at", Message.updated_at)).where(
    Message.id == Param("id"), Message.status == "sending"))
SENT = Prepared(lambda: Message.update(
    status=Param("status", Message.status), provider_id=Param("provider_id", Message.provider_id),
    from_number=Param("from_number", Message.from_number), error=None,
    updated_at=Param("at", Message.updated_at)).where(Message.id == Param("id")))


class UnknownRecipient(LookupError):
    """The recipient does not exist, is not the landlord's, or has no address for the channel."""


def set_sender(sender: Sender | None) -> None:
    """Install how a queued message reaches a worker (the send_message actor)."""
    global _sender
    _sender = sender


_here = threading.local()


@contextmanager
def delivered_here(config: Config) -> Iterator[None]:
    """Messages queued in this block for now are delivered by this thread once it ends, not
    handed to another worker: a worker's own offers and notices skip the broker's round trips.
    Should the block raise, what it had committed goes to the broker as usual."""
    if getattr(_here, "held", None) is not None:  # inside another such block: it delivers
        yield
        return
    held: list[int] = []
    _here.held = held
    try:
        yield
    except BaseException:
        _here.held = None
        for message_id in held:
            enqueue(message_id)
        raise
    _here.held = None
    deliver_all(held, config)


def enqueue(message_id: int, delay_ms: int = 0) -> None:
    """Hand a queued message to a worker; a broker failure leaves it for the sweep."""
    held = getattr(_here, "held", None)
    if held is not None and not delay_ms:
        held.append(message_id)
        return
    if _sender is None:
        return
    try:
        _sender(message_id, delay_ms)
    except Exception:  # the sweep re-sends queued messages the broker never got
        log.warning("could not enqueue message %s", message_id, exc_info=True)


def queue(
    *,
    landlord: Landlord | int,
    to: str,
    body: str,
    channel: str = "sms",
    ticket: Ticket | None = None,
    ping: Ping | None = None,
    recipient: tuple[str, int] | None = None,
    from_number: str | None = None,
    dedupe_key: str | None = None,
    cap: int | None = None,
) -> Message:
    """Record an outbound message (queued) and hand it to a worker after commit.

    With a dedupe_key (the engine's notices; a capped message has none), queueing the same key
    again returns the first message instead. With cap (the landlord's hourly limit, for
    messages a person sends by hand) it is refused up front: optouts.OptedOut for a number
    that opted out, spend.OverLimit past the cap. Every other message meets the opt-out
    register in deliver(), which every message goes through.
    """
    if cap is not None:
        optouts.check(to, channel)
    # A capped message may be refused midway (OverLimit) and the refusal caught; any other is
    # one INSERT, part of the caller's transaction when there is one.
    with transaction() if cap is not None else joined():
        if cap is not None:
            spend.reserve(landlord if isinstance(landlord, int) else landlord.id, cap)
        row = dict(landlord=landlord, ticket=ticket, ping=ping, direction="outbound",
                   channel=channel, to_number=to, from_number=from_number, body=body,
                   status="queued", recipient_type=recipient[0] if recipient else None,
                   recipient_id=recipient[1] if recipient else None, dedupe_key=dedupe_key,
                   capped=cap is not None)
        if dedupe_key is None:
            message = Message.create(**row)
        else:  # one INSERT that yields to a message queued before under the same key
            message = Message.create_unless(Message.dedupe_key, **row)
            if message is None:
                return BY_DEDUPE_KEY.first(key=dedupe_key)
        after_commit(lambda: enqueue(message.id))
    return message


def resolve_recipient(landlord: Landlord, kind: str, object_id: int, channel: str) -> str:
    """The address of one of the landlord's tenants, vendors, or the landlord themself."""
    if kind == "landlord":
        person = landlord if object_id == landlord.id else None
    elif kind == "tenant":
        person = (Tenant.select().join(Tenant.property.rel_model)
                  .where(Tenant.id == object_id, Tenant.property.rel_model.landlord == landlord)
                  .first())
    elif kind == "vendor":
        person = Vendor.get_or_none(Vendor.id == object_id, Vendor.landlord == landlord)
    else:
        raise UnknownRecipient(f"unknown recipient type {kind!r}")
    if person is None:
        raise UnknownRecipient(f"{kind} {object_id} not found")
    if channel == "email":
        address = getattr(person, "email", None)
    elif kind == "vendor":
        address = next(iter(person.phones), None)
    else:
        address = person.phone
    if not address:
        raise UnknownRecipient(f"{kind} {object_id} has no address for {channel}")
    return address


def deliver(message_id: int, config: Config) -> str:
    """Send one queued message; safe to run twice (only a queued, never-sent one is claimed).

    A send that raises (a bug, bad data: not a provider's refusal, which _failed handles)
    puts the message back in the queue and is retried with backoff, then parked (app.faults).
    """
    claimed: list[Message] = []
    return _settled(message_id, claimed, lambda: _deliver(message_id, config, claimed))


def deliver_all(message_ids: list[int], config: Config) -> list[str]:
    """Send several queued messages (one piece of work's): their claims share one write, and
    so do a local channel's keeping and records; a remote channel's sends follow, each
    recorded as it goes. Should one row's handling raise, that write is undone and every
    message is delivered on its own, so the failure stays with its row."""
    if len(message_ids) > 1:
        claims: list[list[Message]] = [[] for _ in message_ids]
        try:
            with transaction():
                taken = [_take(message_id, config, claimed)
                         for message_id, claimed in zip(message_ids, claims, strict=True)]
        except Exception:
            log.warning("delivering messages %s together failed; each goes on its own",
                        message_ids, exc_info=True)
        else:
            return [_settled(message_id, claimed, lambda step=step: _sent(step, config))
                    for message_id, claimed, step in zip(message_ids, claims, taken,
                                                         strict=True)]
    return [deliver(message_id, config) for message_id in message_ids]


def _settled(message_id: int, claimed: list[Message], work: Callable[[], str]) -> str:
    """Run one message's delivery; a failure is recorded against it and the message goes back
    to the queue; a fault it had is forgotten once it is handled."""
    try:
        done = work()
    except Exception as exc:  # as faults.attempt, knowing the row only once it is claimed
        faults.record_row("message", message_id, exc, claimed[0] if claimed else None)
        with transaction():
            UNCLAIM.execute(id=message_id, at=clock.now())
        return "error"
    if claimed and done != "held" and claimed[0].fault_id is not None:
        faults.forget("message", message_id)  # handled at last: no retry is due
    return done


def _deliver(message_id: int, config: Config, claimed: list[Message]) -> str:
    """Claim the message and, unless it must wait, send it: a local channel's claim, keeping
    and record are one write; a remote channel's claim commits before the send, which never
    runs inside a transaction."""
    with transaction():
        step = _take(message_id, config, claimed)
    return _sent(step, config)


def _take(message_id: int, config: Config, claimed: list[Message]) -> str | Message:
    """In the caller's transaction: claim the message and settle what needs no remote send
    (gone, held for quiet hours, opted out, a local channel's keeping); how that went, or the
    claimed message a remote channel must send once the claim has committed."""
    message = CLAIM.first(id=message_id, at=clock.now())
    if message is None:
        return "skipped"
    claimed.append(message)
    now = clock.now()
    until = quiet.hold(message.recipient_type, message.severity, message.timezone, now, config)
    if until is not None or (message.send_after is not None and message.send_after > now):
        HOLD.execute(id=message_id, until=max(until or now, message.send_after or now), at=now)
        return "held"
    stopped = message.opt_out_id is not None and message.channel in optouts.PHONE_CHANNELS
    if stopped or not channel_for(config, message.channel).remote:
        return _send(message, config, stopped=stopped)
    return message


def _sent(step: str | Message, config: Config) -> str:
    """What _take settled, or the remote send it left (outside any transaction)."""
    return step if isinstance(step, str) else _send(step, config)


def _send(message: Message, config: Config, *, stopped: bool = False) -> str:
    """Send a claimed message and record how it went (in the caller's transaction, if any)."""
    if stopped:  # texted STOP after this was queued: an offer then goes to the next vendor
        return _failed(message, "not sent: the number opted out (texted STOP)", retry=False)
    if message.ping_id is not None:  # a job offer: only while it is open, never late
        stale = _offer_closed(message)
        if stale:
            return _failed(message, stale, retry=False)
    if not message.from_number:
        message.from_number = (config.mail_from if message.channel == "email"
                               else config.twilio_from_number)
    try:
        sent = channel_for(config, message.channel).send(message, config)
    except SendError as exc:
        return _failed(message, str(exc), retry=exc.retryable and message.attempts < MAX_ATTEMPTS)
    with joined():  # a local channel's: _deliver's transaction (claim, keep and record)
        SENT.execute(id=message.id, status=sent.status, provider_id=sent.provider_id,
                     from_number=message.from_number, at=clock.now())
        _record(message, "notification.sent", status=sent.status)
    return sent.status


def _offer_closed(message: Message) -> str | None:
    """Why an offer must not be sent now (answered, filled, expired), or None; an open one
    gets valid_for, the seconds it has left (Twilio's ValidityPeriod). The offer's outcome and
    expiry come with the claimed message (CLAIM)."""
    outcome = message.offer_outcome
    if outcome != "pending":
        return f"not sent: the offer was already {outcome or 'gone'}"
    expires_at = Ping.expires_at.python_value(message.offer_expires_at)
    left = (expires_at - clock.now()).total_seconds()
    if left <= 0:
        return "not sent: the offer expired before it could be delivered"
    message.valid_for = left
    return None


def _failed(message: Message, error: str, *, retry: bool) -> str:
    """Put a failed send back in the queue with a backoff, or give up and record it."""
    if retry:
        delay = RETRY_DELAYS_MS[min(message.attempts, len(RETRY_DELAYS_MS)) - 1]
        with joined():
            (Message.update(status="queued", error=error, updated_at=clock.now())
             .where(Message.id == message.id)
             .execute())
        enqueue(message.id, delay)
        return "retrying"
    with transaction():
        (Message.update(status="failed", error=error, updated_at=clock.now())
         .where(Message.id == message.id)
         .execute())
        _record(message, "notification.failed", error=error)
    return "failed"


def _record(message: Message, event_type: str, **data) -> None:
    events.emit(
        event_type,
        ticket=message.ticket_id,
        landlord=message.landlord_id,
        messageId=message.id,
        channel=message.channel,
        to=message.to_number,
        body=message.body,
        recipientType=message.recipient_type,
        pingId=message.ping_id,
        **data,
    )
