"""Service-wide booking totals for Prometheus, read from the database so all processes agree."""

from __future__ import annotations

from peewee import Case, fn

from app.models import Appointment, Message, Ping, Ticket

TIME_TO_BOOK_BUCKETS = (0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 7200)


def seconds_between(later, earlier):
    """A SQL expression for later - earlier in seconds, on SQLite and PostgreSQL."""
    from app.db import is_sqlite

    if is_sqlite():
        return (fn.julianday(later) - fn.julianday(earlier)) * 86400.0
    return fn.date_part("epoch", later - earlier)


def pings_by_outcome() -> dict[str, int]:
    return {row.outcome: row.n for row in
            Ping.select(Ping.outcome, fn.COUNT(Ping.id).alias("n")).group_by(Ping.outcome)}


def replies_total() -> int:
    return Message.select().where(Message.direction == "inbound").count()


def bookings_total() -> int:
    return Appointment.select().count()


def escalations_total() -> int:
    return Ticket.select().where(Ticket.escalated_at.is_null(False)).count()


def time_to_book_histogram() -> tuple[list[tuple[float, int]], float, int]:
    """Cumulative (le, count) buckets, the sum and the count of created→booked seconds."""
    elapsed = seconds_between(Ticket.booked_at, Ticket.created_at)
    booked = Ticket.booked_at.is_null(False)
    columns = [fn.SUM(Case(None, [(elapsed <= bound, 1)], 0)).alias(f"b{i}")
               for i, bound in enumerate(TIME_TO_BOOK_BUCKETS)]
    row = (Ticket.select(fn.COUNT(Ticket.id).alias("n"), fn.SUM(elapsed).alias("total"), *columns)
           .where(booked).dicts().get())
    buckets = [(bound, int(row[f"b{i}"] or 0)) for i, bound in enumerate(TIME_TO_BOOK_BUCKETS)]
    return buckets, float(row["total"] or 0.0), int(row["n"] or 0)
