"""Daily digests (CONTRACT §12): each morning a landlord with a mail server configured gets one
email of what happened in the last day and what waits on them; the next one's moment is the
landlord row's digest_at (a deadline the sweep acts on, like every other).

Days are the landlord's (insurance.landlord_zone): DIGEST_HOUR on that clock. A landlord whose
digest_at is still NULL is armed for the next morning without a digest; a day with nothing to
report sends nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from app import clock
from app.booking.insurance import landlord_zone
from app.config import Config
from app.db import transaction
from app.messaging import outbound, templates
from app.models import Appointment, Landlord, Quote, Ticket

DIGEST_HOUR = time(8)  # when quiet hours (default 21:00-08:00) are over
BATCH = 200


@dataclass(frozen=True)
class Digest:
    """One landlord's day in numbers."""

    reported: int  # tickets reported in the last 24 hours
    booked: int  # of all tickets, booked in the last 24 hours
    escalated_open: int  # escalated and still not booked or closed
    quotes_waiting: int  # quotes over the limit waiting for APPROVE or DENY
    visits_today: int  # active visits starting in the next 24 hours

    @property
    def empty(self) -> bool:
        return not any((self.reported, self.booked, self.escalated_open, self.quotes_waiting,
                        self.visits_today))


def next_morning(landlord_id: int, after: datetime) -> datetime:
    """The first DIGEST_HOUR on the landlord's clock after `after` (naive UTC)."""
    zone = landlord_zone(landlord_id)
    local = after.replace(tzinfo=UTC).astimezone(zone)
    day = local.date() if local.time() < DIGEST_HOUR else local.date() + timedelta(days=1)
    return datetime.combine(day, DIGEST_HOUR, tzinfo=zone).astimezone(UTC).replace(tzinfo=None)


def summary(landlord_id: int, now: datetime) -> Digest:
    """What the digest at now tells the landlord."""
    since, until = now - timedelta(days=1), now + timedelta(days=1)
    mine = Ticket.landlord == landlord_id
    return Digest(
        reported=Ticket.select().where(mine, Ticket.created_at > since).count(),
        booked=Ticket.select().where(mine, Ticket.booked_at > since).count(),
        escalated_open=Ticket.select().where(mine, Ticket.status == "escalated").count(),
        quotes_waiting=(Quote.select().join(Ticket)
                        .where(mine, Quote.status == "pending").count()),
        visits_today=(Appointment.select().join(Ticket)
                      .where(mine, Appointment.status.in_(("tentative", "confirmed")),
                             Appointment.starts_at >= now, Appointment.starts_at < until)
                      .count()),
    )


def send(landlord_id: int, config: Config) -> bool:
    """The landlord's digest is due: email it (when there is something to say) and arm the next
    morning, in one transaction; True when one was queued."""
    now = clock.now()
    with transaction():
        landlord = Landlord.get_or_none(Landlord.id == landlord_id)
        if landlord is None or (landlord.digest_at is not None and landlord.digest_at > now):
            return False
        due = landlord.digest_at
        (Landlord.update(digest_at=next_morning(landlord_id, now))
         .where(Landlord.id == landlord_id).execute())
        if due is None or not config.smtp_url:  # just armed, or no mail server: nothing to send
            return False
        digest = summary(landlord_id, now)
        if digest.empty:
            return False
        day = due.replace(tzinfo=UTC).astimezone(landlord_zone(landlord_id)).date()
        outbound.queue(landlord=landlord_id, to=landlord.email, channel="email",
                       body=templates.daily_digest(landlord, digest, config.link_base),
                       recipient=("landlord", landlord_id),
                       dedupe_key=f"digest:{landlord_id}:{day}")
    return True


def unarmed() -> list[int]:
    """Landlords whose first digest moment is not set yet (a bounded batch)."""
    return [row.id for row in Landlord.select(Landlord.id).where(Landlord.digest_at.is_null())
            .order_by(Landlord.id).limit(BATCH)]
