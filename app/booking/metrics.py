"""Ticket metrics for a landlord: counts by status and how fast vendors answer and book."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from app.models import TICKET_STATUSES, Landlord, Ticket


@dataclass(frozen=True)
class Spread:
    """p50, p90 and max of some durations in seconds (None when there are none)."""

    p50: float | None
    p90: float | None
    max: float | None
    count: int


@dataclass(frozen=True)
class TicketMetrics:
    """A landlord's tickets by status, and how long answering and booking took."""

    by_status: dict[str, int]
    total: int
    time_to_first_response: Spread
    time_to_book: Spread


def nearest_rank(values: list[float], percent: float) -> float | None:
    """The nearest-rank percentile: the smallest value with at least percent% at or below it."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(percent / 100 * len(ordered)))
    return ordered[rank - 1]


def spread(values: list[float]) -> Spread:
    """p50/p90 by nearest rank (always an observed value), max and count."""
    return Spread(p50=nearest_rank(values, 50), p90=nearest_rank(values, 90),
                  max=max(values) if values else None, count=len(values))


def _seconds(start: datetime, end: datetime | None) -> float | None:
    return None if end is None else round((end - start).total_seconds(), 3)


def ticket_metrics(landlord: Landlord) -> TicketMetrics:
    """Counts by status (every status, zeros too) and response/booking times over all tickets."""
    by_status = dict.fromkeys(TICKET_STATUSES, 0)
    first_response: list[float] = []
    booked: list[float] = []
    rows = (Ticket.select(Ticket.status, Ticket.created_at, Ticket.first_response_at,
                          Ticket.booked_at)
            .where(Ticket.landlord == landlord)
            .tuples())
    for status, created_at, first_response_at, booked_at in rows:
        by_status[status] = by_status.get(status, 0) + 1
        if (seconds := _seconds(created_at, first_response_at)) is not None:
            first_response.append(seconds)
        if (seconds := _seconds(created_at, booked_at)) is not None:
            booked.append(seconds)
    return TicketMetrics(by_status=by_status, total=sum(by_status.values()),
                         time_to_first_response=spread(first_response),
                         time_to_book=spread(booked))
