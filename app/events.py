"""The event store: audit trail, handler table and transactional outbox."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from app import clock, faults, feed
from app.config import Config
from app.db import after_commit, transaction
from app.models import Event, Fault, Landlord, Ticket
from app.prepared import Param, Prepared

log = logging.getLogger(__name__)

Handler = Callable[[Event, Config], None]
REPUBLISH_AFTER_SECONDS = 15.0
HANDLERS: dict[str, Handler] = {}
_publisher: Callable[[int], None] | None = None

MARK_HANDLED = Prepared(lambda: Event.update(handled_at=Param("at", Event.handled_at))
                        .where(Event.id == Param("id"), Event.handled_at.is_null()))
# The worker's claim: marks the event handled and reads it in one statement; its handler's
# effects commit with the mark or roll back with it.
CLAIM = Prepared(lambda: Event.update(handled_at=Param("at", Event.handled_at))
                 .where(Event.id == Param("id"), Event.handled_at.is_null())
                 .returning(Event))

SUMMARIES = {
    "intake.completed": "Ticket reported: {category}, {severity}",
    "ticket.status_changed": "Status {from} → {to}",
    "ticket.escalated": "Escalated to landlord: {reason}",
    "ticket.cancelled": "Ticket cancelled",
    "ticket.completed": "Job marked completed",
    "vendor.pinged": "Asked {vendor} by {channel} (code {code})",
    "vendor.declined": "{vendor} declined",
    "vendor.timed_out": "{vendor} did not answer in time",
    "vendor.confirmed": "{vendor} said YES",
    "dispatch.waiting": "Every vendor to ask is off work: the first is asked {when}",
    "dispatch.round": "Round {round}: vendors who did not answer are asked again {when}",
    "dispatch.exhausted": "Asking ended, still not booked: {reason}",
    "appointment.confirmed": "Tentative appointment with {vendor}",
    "notification.sent": "{channel} to {to}: {preview}",
    "notification.failed": "{channel} to {to} failed: {error}",
    "fault.parked": "Stopped retrying {kind} {rowId} after {attempts} tries: {error}",
    "fault.retried": "Trying {kind} {rowId} again",
    "visit.time_set": "Visit time set: {when}; the tenant is asked to confirm",
    "visit.confirmed": "Tenant confirmed the visit time",
    "visit.time_refused": "Tenant cannot make the visit time; the vendor is asked for another",
    "visit.reminded": "Visit reminder sent to tenant and vendor, {before} before",
    "visit.check": "Tenant asked whether the vendor came",
    "appointment.completed": "Visit done by {vendor}{photoNote}",
    "photos.received": "Vendor sent {photoCount}",
    "feedback.received": "Tenant rated the visit {rating}/5",
    "ticket.reopened": "Reopened: the tenant says it is not fixed",
    "appointment.cancelled": "Visit with {vendor} cancelled by {byWhom}",
    "vendor.no_show": "{vendor} did not come (no-show)",
    "vendor.insurance_expiring": "{vendor}'s insurance expires {expiresAt} (in {daysLeft} days)",
}


# A field whose value, when an event carries one, is added to its summary (": <value>").
DETAILS = {"ticket.cancelled": "reason", "appointment.cancelled": "reason"}
CANCELLED_BY = {"vendor": "the vendor (handed back)", "landlord": "the landlord",
                "api": "the landlord (API)", "system": "Fixline"}


def handles(event_type: str) -> Callable[[Handler], Handler]:
    """Register the handler that acts on events of one type (one per type)."""

    def register(fn: Handler) -> Handler:
        HANDLERS[event_type] = fn
        return fn

    return register


def set_publisher(publisher: Callable[[int], None] | None) -> None:
    """Install how an event id reaches a worker (the Dramatiq actor's send)."""
    global _publisher
    _publisher = publisher


def emit(
    event_type: str,
    *,
    ticket: Ticket | int | None = None,
    landlord: Landlord | int | None = None,
    actor: str = "system",
    **data,
) -> Event:
    """Record an event in the caller's transaction; hand it to its handler after commit.

    A ticket given by id needs its landlord given too.
    """
    if landlord is None and isinstance(ticket, Ticket):
        landlord = ticket.landlord_id
    handled = event_type in HANDLERS
    now = clock.now()
    event = Event.create(
        ticket=ticket,
        landlord=landlord,
        type=event_type,
        actor=actor,
        data=data,
        created_at=now,
        dispatched_at=now,  # handed over right after commit; the sweep retries if unhandled
        handled_at=None if handled else now,
    )
    if handled:
        after_commit(lambda: publish(event.id))
    if event_type not in UNSEEN_ON_PAGES:
        _tell_pages(landlord, ticket)
    return event


# Events no live page shows: a message's delivery mark (the message itself was counted when
# queued). Without them a booking wakes each open dashboard about once instead of once per SMS.
UNSEEN_ON_PAGES = frozenset({"notification.sent"})


def _tell_pages(landlord: Landlord | int | None, ticket: Ticket | int | None) -> None:
    """Once committed, open pages of this landlord and ticket learn of it (app/feed.py)."""
    landlord_id = landlord.id if isinstance(landlord, Landlord) else landlord
    ticket_id = ticket.id if isinstance(ticket, Ticket) else ticket
    if landlord_id is not None and feed.current().configured:
        after_commit(lambda: feed.changed(landlord_id, ticket_id))


def publish(event_id: int) -> bool:
    """Hand one event to the broker; False (broker down) leaves it for the sweep to retry."""
    if _publisher is None:
        return False
    try:
        _publisher(event_id)
    except Exception:  # broker down: the sweep re-publishes from the outbox
        log.warning("could not publish event %s; it stays in the outbox", event_id, exc_info=True)
        return False
    return True


def handle(event_id: int, config: Config) -> bool:
    """Run the handler for one event (called by the worker) in the transaction that marks it
    handled; False when it has no handler, was handled already (a second delivery) or
    failed (then it is retried with backoff by the sweep, and parked after a few tries)."""
    claimed: list[Event] = []

    def work() -> bool:
        with transaction():
            event = CLAIM.first(id=event_id, at=clock.now())
            if event is None:
                return False
            claimed.append(event)
            HANDLERS[event.type](event, config)
        return True

    try:
        ran = work()
    except Exception as exc:  # as faults.attempt, knowing the row only once it is claimed
        faults.record_row("event", event_id, exc, claimed[0] if claimed else Event.find(event_id))
        return False
    # Only an event handed over again (the sweep's retry) can have a fault to forget.
    if ran and _handed_over_again(claimed[0]):
        faults.forget("event", event_id)
    return ran


def _handed_over_again(event: Event) -> bool:
    return event.dispatched_at is not None and event.dispatched_at > event.created_at


def _attempt(event: Event, config: Config, *, clear: bool) -> bool:
    done = faults.attempt("event", event.id, lambda: _run(event, config), clear=clear,
                          ticket=event.ticket_id, landlord=event.landlord_id)
    return done is not faults.FAILED


def _run(event: Event, config: Config) -> None:
    """The handler's effects and the handled mark, in one transaction."""
    with transaction():
        HANDLERS[event.type](event, config)
        MARK_HANDLED.execute(id=event.id, at=clock.now())


# Rendered once: the sweep asks every second. A failed one goes again once its backoff is over
# (once per try), or if the broker lost that hand-over too.
UNHANDLED = Prepared(lambda: (
    faults.due_join(Event.select(Event.id), "event", Event.id, now=Param("now"))
    .where(Event.handled_at.is_null(),
           (Event.dispatched_at <= Param("cutoff")) | (Event.dispatched_at < Fault.retry_at))
    .order_by(Event.id)
    .limit(Param("limit"))))


def unhandled(older_than_seconds: float = REPUBLISH_AFTER_SECONDS, limit: int = 500) -> list[int]:
    """Handled-type events whose handler has not run this long after the last hand-over.

    The broker may have refused them, or lost them (a Redis restart, a killed worker): the
    sweep hands them over again and restarts their clock. Handlers are idempotent.
    """
    now = clock.now()
    ids = [row.id for row in UNHANDLED.rows(
        now=now, cutoff=now - timedelta(seconds=older_than_seconds), limit=limit)]
    if ids:
        with transaction():
            Event.update(dispatched_at=clock.now()).where(Event.id.in_(ids)).execute()
    return ids


def replay(config: Config, ticket_id: int | None = None) -> int:
    """Re-deliver recorded events of handled types to their handlers, oldest first; parked
    rows of other kinds get another try from the sweep. A failing event is recorded as a
    fault (see app.faults) and the replay goes on."""
    query = Event.select().where(Event.type.in_(list(HANDLERS))).order_by(Event.id)
    if ticket_id is not None:
        query = query.where(Event.ticket == ticket_id)
    faults.retry_all(ticket=ticket_id, actor="system")
    count = 0
    for event in list(query):
        _attempt(event, config, clear=True)
        count += 1
    return count


def summarize(event: Event, tz: str = "UTC") -> str:
    """A one-line human summary of an event for the timeline (times on tz's clock)."""
    template = SUMMARIES.get(event.type)
    if template is None:
        return event.type.replace(".", " ").replace("_", " ").capitalize()
    fields = {"from": "", "to": "", "reason": "", "preview": "", "error": "", **event.data,
              **_visit_words(event.data, tz)}
    if "body" in fields and not fields["preview"]:
        body = str(fields["body"])
        fields["preview"] = body if len(body) <= 60 else body[:57] + "…"
    try:
        summary = template.format(**fields)
    except (KeyError, IndexError, ValueError):
        return event.type
    detail = event.data.get(DETAILS.get(event.type, ""))
    return f"{summary}: {detail}" if detail else summary


def _visit_words(data: dict, tz: str) -> dict[str, str]:
    """The words a visit event's summary needs that its data holds as numbers or ISO times."""
    words = {"when": _span(data.get("startsAt"), data.get("endsAt"), tz)}
    before = data.get("secondsBefore")
    if isinstance(before, int):
        hours, minutes = divmod(before // 60, 60)
        words["before"] = (f"{hours} hour{'s' * (hours != 1)}" if hours and not minutes
                           else f"{before // 60} minutes")
    urls, photos = data.get("urls"), data.get("photos")
    if isinstance(urls, list):
        words["photoCount"] = f"{len(urls)} photo{'s' * (len(urls) != 1)}"
    words["photoNote"] = f", {photos} photo{'s' * (photos != 1)}" \
        if isinstance(photos, int) and photos > 0 else ""
    by = str(data.get("by") or "")
    words["byWhom"] = CANCELLED_BY.get(by, by or "someone")
    return words


def _span(start: object, end: object, tz: str) -> str:
    """'Wed Mar 4, 2 PM – 4 PM CST' from the ISO times an event carries."""
    def local(value: object) -> datetime | None:
        try:
            moment = datetime.fromisoformat(str(value))
        except (TypeError, ValueError):
            return None
        return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(ZoneInfo(tz))

    first, last = local(start), local(end) if end else None
    if first is None:
        return "no time"
    text = first.strftime("%a %b %-d, %-I:%M %p")
    if last is not None:
        day = "" if last.date() == first.date() else last.strftime("%a %b %-d, ")
        text += " – " + day + last.strftime("%-I:%M %p")
    return f"{text} {first.strftime('%Z')}".replace(":00 ", " ")


def timeline(ticket: Ticket) -> list[Event]:
    """Every event of a ticket, oldest first."""
    return list(Event.select().where(Event.ticket == ticket).order_by(Event.id))
