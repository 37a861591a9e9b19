"""Metrics: how the landlord's tickets are doing, in numbers."""

from __future__ import annotations

from dataclasses import asdict

from app.api import route
from app.api import schemas as s
from app.booking.metrics import ticket_metrics
from app.models import Landlord


@route("/metrics", "GET",
       summary="Tickets by status; time to first vendor answer and to booking (p50/p90/max, "
               "seconds, nearest-rank percentiles)",
       response=s.MetricsOut)
def get_metrics(landlord: Landlord):
    found = ticket_metrics(landlord)
    return s.MetricsOut(
        tickets=s.TicketCounts(by_status=found.by_status, total=found.total),
        time_to_first_response=s.Percentiles(**asdict(found.time_to_first_response)),
        time_to_book=s.Percentiles(**asdict(found.time_to_book)),
    )
