"""The spend cap (CONTRACT.md §14): messages a landlord sends by hand (/api/notify, manual
pings) are counted in the database, so every web process shares one count."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta

from peewee import fn

from app import clock
from app.db import lock_row
from app.models import Landlord, Message

HOUR = timedelta(hours=1)


class OverLimit(Exception):
    """The landlord's hourly allowance is used up; retry_after seconds until one frees."""

    def __init__(self, limit: int, retry_after: int):
        super().__init__(f"at most {limit} messages an hour may be sent through the API; "
                         f"try again in {retry_after} s")
        self.limit, self.retry_after = limit, retry_after


@dataclass(frozen=True)
class HourlyUse:
    """What a landlord sent in the last hour: everything, and what counts to the cap."""

    sent: int
    capped: int
    limit: int


def reserve(landlord_id: int, limit: int) -> None:
    """Inside the transaction that queues a capped message: raise OverLimit when the last hour
    already holds limit of them. The landlord's row lock serialises concurrent senders."""
    lock_row(Landlord, landlord_id)
    since = clock.now() - HOUR
    count, oldest = (Message.select(fn.COUNT(Message.id), fn.MIN(Message.created_at))
                     .where(Message.landlord == landlord_id, Message.capped == True,  # noqa: E712
                            Message.created_at > since)
                     .tuples().get())
    if count >= limit:
        wait = (oldest + HOUR - clock.now()).total_seconds() if oldest else 1
        raise OverLimit(limit, max(1, math.ceil(wait)))


def hourly_use(landlord_id: int, limit: int) -> HourlyUse:
    """Outbound SMS and calls of the last hour, for the dashboard."""
    sent, capped = (Message.select(fn.COUNT(Message.id),
                                   fn.SUM(Message.capped.cast("integer")))
                    .where(Message.landlord == landlord_id, Message.direction == "outbound",
                           Message.channel.in_(("sms", "voice")),
                           Message.status.not_in(("replied", "opted_out")),
                           Message.created_at > clock.now() - HOUR)
                    .tuples().get())
    return HourlyUse(sent=sent or 0, capped=int(capped or 0), limit=limit)
