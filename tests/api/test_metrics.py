"""Metrics: every status counted (zeros too) and nearest-rank p50/p90/max in seconds."""

from datetime import datetime, timedelta

import pytest

from app.booking.metrics import nearest_rank, spread
from app.models import TICKET_STATUSES, Ticket
from tests.api.conftest import make_ticket

T0 = datetime(2030, 5, 1, 12, 0)


@pytest.mark.parametrize("values,percent,expected", [
    ([], 50, None),
    ([7.0], 50, 7.0),
    ([7.0], 90, 7.0),
    ([1, 2, 3, 4], 50, 2),
    ([1, 2, 3, 4], 90, 4),
    (list(range(1, 11)), 90, 9),
    (list(range(1, 11)), 50, 5),
    ([5, 1, 3], 50, 3),
    (list(range(1, 101)), 100, 100),
])
def test_nearest_rank(values, percent, expected):
    assert nearest_rank(values, percent) == expected


def test_spread_of_nothing():
    assert spread([]) == spread([]).__class__(p50=None, p90=None, max=None, count=0)


def test_empty_metrics_list_every_status(client, auth, landlord):
    metrics = client.get("/api/metrics", headers=auth).json
    assert metrics["tickets"] == {"byStatus": dict.fromkeys(TICKET_STATUSES, 0), "total": 0}
    empty = {"p50": None, "p90": None, "max": None, "count": 0}
    assert metrics["timeToFirstResponse"] == empty and metrics["timeToBook"] == empty


def test_metrics_over_my_tickets(client, auth, landlord, other_landlord):
    for i, (responded, booked) in enumerate([(10, 60), (20, 120), (30, None), (None, None)]):
        ticket = make_ticket(landlord, "scheduled" if booked else "dispatching")
        (Ticket.update(created_at=T0 + timedelta(hours=i),
                       first_response_at=responded and T0 + timedelta(hours=i, seconds=responded),
                       booked_at=booked and T0 + timedelta(hours=i, seconds=booked))
         .where(Ticket.id == ticket.id)
         .execute())
    make_ticket(landlord, "cancelled")
    other = make_ticket(other_landlord, "scheduled")
    Ticket.update(created_at=T0, booked_at=T0 + timedelta(days=9)).where(
        Ticket.id == other.id).execute()
    metrics = client.get("/api/metrics", headers=auth).json
    assert metrics["tickets"]["byStatus"] == {**dict.fromkeys(TICKET_STATUSES, 0),
                                              "scheduled": 2, "dispatching": 2, "cancelled": 1}
    assert metrics["tickets"]["total"] == 5
    assert metrics["timeToFirstResponse"] == {"p50": 20.0, "p90": 30.0, "max": 30.0, "count": 3}
    assert metrics["timeToBook"] == {"p50": 60.0, "p90": 120.0, "max": 120.0, "count": 2}
