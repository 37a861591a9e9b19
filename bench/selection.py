"""Candidate selection: how long selection.next_up() and candidates() take per ticket.

Fills a fresh database with --vendors vendors shared by --landlords landlords (specialties,
hours, priorities, service areas, visit limits, insurance dates, phones), --appointments visits
spread over the last 30 and next 14 days and --pings past offers, then times candidates() once
per ticket for --tickets new tickets (categories, severities and windows mixed) and prints
median/p90/p99 in ms of wall and CPU time of next_up() (the one vendor to ask now, what the
booking loop calls per offer) and candidates() (the whole list). SQLite by default;
PostgreSQL with --backend postgres (BENCH_DATABASE_URL, a fresh schema made and dropped).
--without-indexes drops migration 0009's indexes first. See bench/README.md.

    .venv/bin/python bench/selection.py --backend both --landlords 20
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import math
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from app import clock, create_app
from app.booking import selection
from app.booking.hours import parse_hours
from app.config import Config
from app.db import db, transaction
from app.migrate import upgrade
from app.models import (
    CATEGORIES,
    Appointment,
    Landlord,
    Ping,
    Property,
    Tenant,
    Ticket,
    Vendor,
    VendorPhone,
)

POSTGRES_URL = os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
HOURS = ("24/7", "9AM-6PM", "Mon-Fri 8AM-5PM", "7AM-7PM", "Mon-Sat 8AM-6PM", "8AM-8PM",
         "Mon-Fri 9AM-5PM, Sat 9AM-1PM", "5PM-10PM")
AREAS = ("631", "632", "630", "6310", "6313", "63130", "63105", "620")
POSTAL_CODES = ("63130", "63105", "63101", "63117", "63021", "62025", None)
WINDOWS = {"emergency": ("now",),
           "routine": ("tomorrow 9-11am", "today 2-5pm", "tomorrow morning", "Friday 1-4pm",
                       "anytime", "next Tuesday afternoon")}
OUTCOMES = ("accepted", "declined", "timed_out", "timed_out", "filled", "declined")
BATCH = 500
# Migration 0009's indexes for the busy, visits-a-day and reliability lookups
# (--without-indexes drops them to measure what they change).
SELECTION_INDEXES = ("appointment_vendor_active_starts", "appointment_vendor_no_show",
                     "ping_vendor_sent", "vendor_landlord_asking_order")


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def insert(model, rows: list[dict]) -> None:
    """Insert rows in batches (the bench's setup, not what it measures)."""
    for start in range(0, len(rows), BATCH):
        model.insert_many(rows[start:start + BATCH]).execute()


def fill(args: argparse.Namespace, rng: random.Random) -> list[int]:
    """Landlords, properties, vendors, visits and offers; the ids of the tickets to time."""
    now = clock.now()
    with transaction():
        landlords = [Landlord.create(name=f"Landlord {n}", email=f"l{n}@example.com",
                                     phone=f"+1555000{n:04d}") for n in range(args.landlords)]
        properties = []
        for n in range(args.properties * args.landlords):
            landlord = landlords[n % args.landlords]
            prop = Property.create(landlord=landlord, address=f"{n} Bench Street",
                                   timezone="America/Chicago",
                                   postal_code=rng.choice(POSTAL_CODES))
            tenant = Tenant.create(property=prop, name=f"Tenant {n}", phone=f"+1555100{n:04d}",
                                   intake_token=uuid.uuid4().hex)
            properties.append((landlord, prop, tenant))
        schedules = {hours: parse_hours(hours) for hours in HOURS}
        vendors = []
        for n in range(args.vendors):
            hours = rng.choice(HOURS)
            lapsed = rng.random() < 0.1
            vendors.append(dict(
                landlord=landlords[n % args.landlords], name=f"Vendor {n}",
                specialties=rng.sample(CATEGORIES, rng.randint(1, 3)), hours=hours,
                schedule=schedules[hours], priority=rng.randint(1, 3),
                active=rng.random() > 0.05, opted_out=rng.random() < 0.02,
                last_offered_at=now - timedelta(minutes=rng.randint(0, 60 * 24 * 30)),
                service_areas=[] if rng.random() < 0.4 else rng.sample(AREAS, rng.randint(1, 2)),
                max_visits_per_day=rng.choice((None, None, 2, 3, 5)),
                insurance_expires_at=None if rng.random() < 0.2 else (
                    now.date() + timedelta(days=-rng.randint(1, 60) if lapsed
                                           else rng.randint(1, 400))),
                created_at=now, updated_at=now))
        insert(Vendor, vendors)
        vendor_ids = [v.id for v in Vendor.select(Vendor.id).order_by(Vendor.id)]
        insert(VendorPhone, [dict(vendor=vid, number=f"+1556{vid:07d}", position=0)
                             for vid in vendor_ids if rng.random() > 0.02])
        owner = {v.id: v.landlord_id for v in Vendor.select(Vendor.id, Vendor.landlord)}
        by_landlord = {}
        for landlord, prop, tenant in properties:
            by_landlord.setdefault(landlord.id, []).append((prop, tenant))

        def ticket_row(vendor_id: int, status: str, **fields) -> dict:
            prop, tenant = rng.choice(by_landlord[owner[vendor_id]])
            return dict(landlord=owner[vendor_id], property=prop.id, tenant=tenant.id,
                        status=status, category=rng.choice(CATEGORIES), severity="routine",
                        window="tomorrow 9-11am", created_at=now, updated_at=now, **fields)

        # One ticket per visit (at most one active visit per ticket), then the visits.
        visits = []
        for _ in range(args.appointments):
            vendor_id = rng.choice(vendor_ids)
            day = rng.randint(-30, 14)
            starts = (now.replace(hour=0, minute=0, second=0, microsecond=0)
                      + timedelta(days=day, hours=rng.randint(12, 24), minutes=rng.choice((0, 30))))
            ends = starts + timedelta(hours=rng.randint(1, 3))
            if starts > now:
                status = rng.choice(("tentative", "confirmed", "confirmed", "cancelled"))
            else:
                status = rng.choice(("completed",) * 8 + ("cancelled", "no_show"))
            visits.append((vendor_id, starts, ends, status))
        insert(Ticket, [ticket_row(v, "scheduled" if s in ("tentative", "confirmed")
                                   else "completed") for v, _, _, s in visits])
        holders = [t.id for t in Ticket.select(Ticket.id).order_by(Ticket.id)]
        insert(Appointment, [dict(
            ticket=holder, vendor=vendor_id, starts_at=starts, ends_at=ends, status=status,
            confirmation_method="sms", created_at=starts - timedelta(days=1),
            cancelled_at=ends if status in ("cancelled", "no_show") else None)
            for holder, (vendor_id, starts, ends, status) in zip(holders, visits, strict=True)])
        offers = []
        for n in range(args.pings):
            vendor_id = rng.choice(vendor_ids)
            sent = now - timedelta(minutes=rng.randint(1, 60 * 24 * 60))
            offers.append(dict(ticket=rng.choice(holders), vendor=vendor_id, channel="sms",
                               code=f"B{n:05d}", to_number=f"+1556{vendor_id:07d}",
                               sent_at=sent, expires_at=sent + timedelta(seconds=30),
                               outcome=rng.choice(OUTCOMES)))
        insert(Ping, offers)
        timed = []
        for n in range(args.tickets):
            landlord = landlords[n % args.landlords]
            prop, tenant = rng.choice(by_landlord[landlord.id])
            severity = "emergency" if n % 3 == 0 else "routine"
            timed.append(dict(landlord=landlord, property=prop, tenant=tenant, status="new",
                              category=CATEGORIES[n % len(CATEGORIES)], severity=severity,
                              window=rng.choice(WINDOWS[severity]), created_at=now,
                              updated_at=now))
        first = Ticket.select(Ticket.id).order_by(Ticket.id.desc()).scalar()
        insert(Ticket, timed)
    return [t.id for t in Ticket.select(Ticket.id).where(Ticket.id > first).order_by(Ticket.id)]


@dataclass
class Timings:
    """Per ticket: next_up() (the vendor to ask now, what the booking loop calls per offer) and
    candidates() (the whole list: the status page's "asking 2 of 5") in wall and CPU ms,
    vendors of the landlord and vendors to ask."""

    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    outcome: list[str] = field(default_factory=list)  # asks now | waits for hours | nobody
    list_wall: list[float] = field(default_factory=list)
    list_cpu: list[float] = field(default_factory=list)
    vendors: list[int] = field(default_factory=list)
    to_ask: list[int] = field(default_factory=list)


def _timed(call) -> tuple[object, float, float]:
    """call()'s result, wall ms, CPU ms."""
    started, cpu = time.perf_counter(), time.process_time()
    found = call()
    return found, (time.perf_counter() - started) * 1000, (time.process_time() - cpu) * 1000


def timed_run(ticket_ids: list[int]) -> Timings:
    """next_up() then candidates() once per ticket, on a fresh ticket row each time as the
    loop reads it."""
    timings = Timings()
    for ticket_id in ticket_ids:
        ticket = Ticket.get_by_id(ticket_id)
        up, wall, cpu = _timed(lambda t=ticket: selection.next_up(t))
        timings.wall.append(wall)
        timings.cpu.append(cpu)
        timings.outcome.append("asks now" if up.vendor else
                               "waits for hours" if up.opens_at else "nobody")
        ticket = Ticket.get_by_id(ticket_id)
        found, wall, cpu = _timed(lambda t=ticket: selection.candidates(t))
        timings.list_wall.append(wall)
        timings.list_cpu.append(cpu)
        timings.vendors.append(
            Vendor.select().where(Vendor.landlord == ticket.landlord_id).count())
        timings.to_ask.append(len(found))
    return timings


def explain(ticket_id: int) -> str:
    """The database's plan for the vendor statement of one ticket."""
    ticket = Ticket.get_by_id(ticket_id)
    job = selection._Job.of(ticket, clock.now())
    query = selection.NOT_YET_ASKED._build()
    sql, params = query.sql()
    values = {**job.params(), "limit": selection.FIRST_PAGE, "offset": 0}  # next_up's first page
    bound = [p.bind(values) if hasattr(p, "bind") else p for p in params]
    prefix = "EXPLAIN QUERY PLAN " if db.obj.__class__.__name__.startswith("Sqlite") else (
        "EXPLAIN (ANALYZE, COSTS OFF) ")
    return "\n".join(" | ".join(map(str, row)) for row in db.obj.execute_sql(prefix + sql, bound))


@contextlib.contextmanager
def database(backend: str, url: str) -> Iterator[str]:
    """A fresh database URL: a SQLite file in a temporary directory, or a PostgreSQL schema."""
    if backend == "sqlite":
        with tempfile.TemporaryDirectory(prefix="fixline-bench-") as tmp:
            yield f"sqlite:///{tmp}/bench.db"
        return
    import psycopg2

    schema = "bench_" + uuid.uuid4().hex[:12]
    conn = psycopg2.connect(url)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f"CREATE SCHEMA {schema}")
    try:
        sep = "&" if "?" in url else "?"
        yield f"{url}{sep}options=-csearch_path%3D{schema}"
    finally:
        if not db.is_closed():
            db.close()
        with conn.cursor() as cur:
            cur.execute(f"DROP SCHEMA {schema} CASCADE")
        conn.close()


def run(backend: str, args: argparse.Namespace) -> str:
    """Fill one backend, time every ticket twice (the first pass warms caches); the report."""
    clock.set_fake(args.at)
    with database(backend, args.database_url) as url, \
            tempfile.TemporaryDirectory(prefix="fixline-bench-inst-") as instance:
        config = Config.from_env({"DATABASE_URL": url, "REDIS_URL": "stub://",
                                  "FIXLINE_INSTANCE_PATH": instance,
                                  "SLOW_QUERY_MS": "60000"}, testing=True)  # not the fill
        create_app(config)
        with db.connection_context():
            upgrade()
            started = time.perf_counter()
            ticket_ids = fill(args, random.Random(args.seed))
            filled = time.perf_counter() - started
            if args.without_indexes:
                for name in SELECTION_INDEXES:
                    db.obj.execute_sql(f"DROP INDEX {name}")
            db.obj.execute_sql("ANALYZE")  # statistics for the planner, as a live database has
            timed_run(ticket_ids)  # warm: SQL rendered once, pages cached
            load = os.getloadavg()[0]
            timings = timed_run(ticket_ids)
            plan = explain(ticket_ids[0]) if args.explain else None
        if not db.is_closed():
            db.close()

    def line(name: str, values: list[float]) -> str:
        return (f"  {name:<34} median {statistics.median(values):6.2f}  p90 "
                f"{percentile(values, 90):6.2f}  p99 {percentile(values, 99):6.2f}  max "
                f"{max(values):6.2f} ms")

    lines = [
        f"== {backend}: {args.vendors} vendors of {args.landlords} landlord(s), "
        f"{args.appointments} appointments, {args.pings} past offers (filled in {filled:.1f} s)"
        + (", WITHOUT the selection indexes" if args.without_indexes else ""),
        f"  {len(timings.wall)} tickets; vendors of the ticket's landlord "
        f"{statistics.mean(timings.vendors):.0f}, to ask {statistics.mean(timings.to_ask):.1f} "
        f"on average; load average {load:.2f} on {os.cpu_count()} cores when timing began",
        line("next_up() wall", timings.wall),
        line("next_up() CPU", timings.cpu)
        + (" (this process; the server's is not counted)" if backend == "postgres" else ""),
        *(line(f"  next_up() wall, {kind} ({timings.outcome.count(kind)})",
               [w for w, o in zip(timings.wall, timings.outcome, strict=True) if o == kind])
          for kind in ("asks now", "waits for hours", "nobody") if kind in timings.outcome),
        line("candidates() wall", timings.list_wall),
        line("candidates() CPU", timings.list_cpu),
    ]
    if plan:
        lines += ["  plan:", *("    " + row for row in plan.splitlines())]
    return "\n".join(lines)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add = parser.add_argument
    add("--backend", choices=("sqlite", "postgres", "both"), default="sqlite",
        help="sqlite: a temporary file; postgres: a fresh schema on --database-url; both "
             "(%(default)s)")
    add("--vendors", type=int, default=1000, help="vendors in all (%(default)s)")
    add("--landlords", type=int, default=1,
        help="landlords sharing the vendors, properties and tickets evenly (%(default)s: "
             "every vendor is considered for every ticket)")
    add("--properties", type=int, default=20, help="properties per landlord (%(default)s)")
    add("--appointments", type=int, default=10000, help="visits in all (%(default)s)")
    add("--pings", type=int, default=10000, help="past offers in all (%(default)s)")
    add("--tickets", type=int, default=300, help="tickets to time (%(default)s)")
    add("--at", type=datetime.fromisoformat, default=datetime(2026, 3, 4, 16, 0),
        help="the clock, naive UTC (%(default)s: a Wednesday 10am in Chicago, vendors at work; "
             "at night routine jobs wait for hours and next_up() reads every candidate)")
    add("--seed", type=int, default=11, help="random seed of the data (%(default)s)")
    add("--explain", action="store_true", help="print the vendor statement's query plan")
    add("--without-indexes", action="store_true",
        help="drop migration 0009's SELECTION_INDEXES first, to measure what they change")
    add("--database-url", default=POSTGRES_URL,
        help="PostgreSQL for --backend postgres (env BENCH_DATABASE_URL; %(default)s)")
    args = parser.parse_args(argv)
    if min(args.vendors, args.landlords, args.properties, args.tickets) < 1:
        parser.error("--vendors, --landlords, --properties and --tickets must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.disable(logging.INFO)  # the migrations' progress lines
    backends = ("sqlite", "postgres") if args.backend == "both" else (args.backend,)
    print("\n\n".join(run(backend, args) for backend in backends))
    return 0


if __name__ == "__main__":
    sys.exit(main())
