"""Vendor scorecards (CONTRACT.md §10): offers, answers, visits and ratings of the last 90 days.

One SQL statement answers one vendor's scorecard, or every scorecard of a landlord (the vendors
page): three grouped subqueries (offers, visits, answer times) joined to the vendor rows. The
median answer time is in the same statement, from window functions (ROW_NUMBER and COUNT over
each vendor's answers) that SQLite and PostgreSQL both have; only the seconds between two times
is written per database (app.booking.totals.seconds_between).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from peewee import JOIN, Case, fn

from app import clock
from app.booking.totals import seconds_between
from app.models import Appointment, Ping, Vendor

PERIOD_DAYS = 90
ANSWERED = ("accepted", "declined")
NEVER_REACHED = "failed"  # a ping that could not be sent is no offer


@dataclass(frozen=True)
class Scorecard:
    """One vendor's figures over the last PERIOD_DAYS days (each event by its own time)."""

    vendor_id: int
    offers: int = 0  # pings sent (failed sends aside)
    accepted: int = 0
    declined: int = 0
    timed_out: int = 0
    median_response_seconds: float | None = None  # from sending to a YES or NO
    completed: int = 0  # visits completed in the period
    cancelled: int = 0  # visits cancelled or handed back in the period
    no_shows: int = 0
    ratings: int = 0  # tenants' ratings given in the period
    rating_total: int = 0
    period_days: int = PERIOD_DAYS

    @property
    def acceptance_rate(self) -> float | None:
        """accepted / offers, 0 to 1; None without offers."""
        return round(self.accepted / self.offers, 4) if self.offers else None

    @property
    def average_rating(self) -> float | None:
        return round(self.rating_total / self.ratings, 2) if self.ratings else None


def _count(condition):
    return fn.SUM(Case(None, [(condition, 1)], 0))


def _query(landlord_id: int, vendor_id: int | None, since: datetime):
    """The statement: one row per vendor of the landlord (or just vendor_id)."""
    if vendor_id is not None:
        def of_vendors(field):
            return field == vendor_id
    else:
        own = Vendor.alias("own")

        def of_vendors(field):
            return field.in_(own.select(own.id).where(own.landlord == landlord_id))

    offers = (Ping.select(Ping.vendor.alias("vendor_ref"),
                          fn.COUNT(Ping.id).alias("offers"),
                          _count(Ping.outcome == "accepted").alias("accepted"),
                          _count(Ping.outcome == "declined").alias("declined"),
                          _count(Ping.outcome == "timed_out").alias("timed_out"))
              .where(of_vendors(Ping.vendor), Ping.sent_at >= since,
                     Ping.outcome != NEVER_REACHED)
              .group_by(Ping.vendor)).alias("offer_counts")
    rated = Appointment.rating.is_null(False) & (Appointment.rated_at >= since)
    visits = (Appointment.select(
        Appointment.vendor.alias("vendor_ref"),
        _count((Appointment.status == "completed")
               & (Appointment.completed_at >= since)).alias("completed"),
        _count((Appointment.status == "cancelled")
               & (Appointment.cancelled_at >= since)).alias("cancelled"),
        _count((Appointment.status == "no_show")
               & (Appointment.cancelled_at >= since)).alias("no_shows"),
        _count(rated).alias("ratings"),
        fn.SUM(Case(None, [(rated, Appointment.rating)], 0)).alias("rating_total"))
        .where(of_vendors(Appointment.vendor),
               (Appointment.completed_at >= since) | (Appointment.cancelled_at >= since)
               | (Appointment.rated_at >= since))
        .group_by(Appointment.vendor)).alias("visit_counts")
    seconds = seconds_between(Ping.answered_at, Ping.sent_at)
    answers = (Ping.select(Ping.vendor.alias("vendor_ref"), seconds.alias("seconds"),
                           fn.ROW_NUMBER().over(partition_by=[Ping.vendor],
                                                order_by=[seconds]).alias("position"),
                           fn.COUNT(Ping.id).over(partition_by=[Ping.vendor]).alias("answers"))
               .where(of_vendors(Ping.vendor), Ping.sent_at >= since,
                      Ping.outcome.in_(ANSWERED), Ping.answered_at.is_null(False))
               ).alias("answer_times")
    middle = ((answers.c.position == (answers.c.answers + 1) / 2)  # integer division: the
              | (answers.c.position == (answers.c.answers + 2) / 2))  # one or two middle ones
    medians = (answers.select_from(answers.c.vendor_ref,
                                   fn.AVG(answers.c.seconds).alias("median"))
               .where(middle)
               .group_by(answers.c.vendor_ref)).alias("medians")
    mine = Vendor.landlord == landlord_id
    if vendor_id is not None:
        mine &= Vendor.id == vendor_id
    return (Vendor.select(Vendor.id.alias("vendor_id"), offers.c.offers, offers.c.accepted,
                          offers.c.declined, offers.c.timed_out, visits.c.completed,
                          visits.c.cancelled, visits.c.no_shows, visits.c.ratings,
                          visits.c.rating_total, medians.c.median)
            .join(offers, JOIN.LEFT_OUTER, on=offers.c.vendor_ref == Vendor.id).switch(Vendor)
            .join(visits, JOIN.LEFT_OUTER, on=visits.c.vendor_ref == Vendor.id).switch(Vendor)
            .join(medians, JOIN.LEFT_OUTER, on=medians.c.vendor_ref == Vendor.id)
            .where(mine)
            .dicts())


def _card(row: dict) -> Scorecard:
    median = row.pop("median")
    counts = {name: int(value or 0) for name, value in row.items()}
    return Scorecard(**counts, median_response_seconds=None if median is None
                     else round(float(median), 1))


def _since(now: datetime | None) -> datetime:
    return (now or clock.now()) - timedelta(days=PERIOD_DAYS)


def scorecard(landlord_id: int, vendor_id: int, now: datetime | None = None) -> Scorecard | None:
    """The landlord's vendor's scorecard (one statement); None when not the landlord's."""
    rows = list(_query(landlord_id, vendor_id, _since(now)))
    return _card(rows[0]) if rows else None


def scorecards(landlord_id: int, now: datetime | None = None) -> dict[int, Scorecard]:
    """Every scorecard of the landlord's vendors by vendor id (one statement)."""
    return {card.vendor_id: card
            for card in map(_card, _query(landlord_id, None, _since(now)))}
