"""Many tickets waiting on vendors at once: how long a sweep tick takes, how late deadlines fire,
and the worker's memory, at --tickets 1,000, 10,000 and 50,000 (issue 12, item 4).

Fills a fresh database with N dispatching tickets, each with one pending offer whose expiry
falls uniformly over the next --spread seconds (after the fill), shared by --vendors 24/7
vendors. Then, in real time, runs the sweep once a second for --seconds, as the scheduler and a
worker do (the broker is the stub: what the sweep enqueues is not carried further): each
expired offer times out, its vendor is told and the next vendor is asked, a new offer with its
own deadline. Prints, per N: tick duration p50/p90/p99/max, lateness of fired deadlines (when
the sweep timed an offer out minus its expiry) p50/p90/p99/max, offers timed out, and the
process's peak RSS (this process plays the worker that runs the sweep).

    .venv/bin/python bench/waiting.py                      # SQLite; 1,000, 10,000, 50,000
    .venv/bin/python bench/waiting.py --backend postgres --sizes 10000
"""

from __future__ import annotations

import argparse
import logging
import os
import random
import resource
import statistics
import sys
import tempfile
import time
import uuid
from datetime import timedelta

from selection import BATCH, POSTGRES_URL, database, insert, percentile

from app import clock, create_app, events
from app.booking import sweep
from app.booking.hours import parse_hours
from app.config import Config
from app.db import db, transaction
from app.messaging import outbound
from app.migrate import upgrade
from app.models import Event, Landlord, Ping, Property, Tenant, Ticket, Vendor, VendorPhone


def fill(tickets: int, vendors: int, spread: float, lead: float, rng: random.Random) -> None:
    """One landlord, property and tenant; the vendors; the tickets, each with a pending offer."""
    now = clock.now()
    with transaction():
        landlord = Landlord.create(name="Bench", email="bench@example.com", phone="+15550000001")
        prop = Property.create(landlord=landlord, address="1 Bench St", timezone="America/Chicago",
                               postal_code="63130")
        tenant = Tenant.create(property=prop, name="Tenant", phone="+15550000002",
                               intake_token=uuid.uuid4().hex)
        always = parse_hours("24/7")
        insert(Vendor, [dict(landlord=landlord, name=f"Vendor {n}", specialties=["plumbing"],
                             hours="24/7", schedule=always, priority=1, created_at=now,
                             updated_at=now) for n in range(vendors)])
        vendor_ids = [v.id for v in Vendor.select(Vendor.id).order_by(Vendor.id)]
        insert(VendorPhone, [dict(vendor=vid, number=f"+1556{vid:07d}", position=0)
                             for vid in vendor_ids])
        insert(Ticket, [dict(landlord=landlord, property=prop, tenant=tenant, status="dispatching",
                             category="plumbing", severity="routine", window="anytime",
                             created_at=now, updated_at=now,
                             escalate_at=now + timedelta(days=1)) for _ in range(tickets)])
        ticket_ids = [t.id for t in Ticket.select(Ticket.id).order_by(Ticket.id)]
        codes = iter(range(10**6))
        insert(Ping, [dict(ticket=tid, vendor=rng.choice(vendor_ids), channel="sms",
                           code=f"B{next(codes):05d}", to_number="+15560000000", sent_at=now,
                           token=uuid.uuid4().hex, outcome="pending",
                           expires_at=now + timedelta(seconds=lead + rng.uniform(0, spread)))
                      for tid in ticket_ids])


def run(size: int, args: argparse.Namespace) -> str:
    """Fill a fresh database with size tickets, sweep for args.seconds; the report line."""
    with database(args.backend, args.database_url) as url, \
            tempfile.TemporaryDirectory(prefix="fixline-bench-inst-") as instance:
        config = Config.from_env({"DATABASE_URL": url, "REDIS_URL": "stub://",
                                  "FIXLINE_INSTANCE_PATH": instance, "SLOW_QUERY_MS": "60000",
                                  "VENDOR_REPLY_TIMEOUT_SECONDS": str(int(args.spread))},
                                 testing=True, landlord_quiet_hours=None)
        create_app(config)
        events.set_publisher(lambda event_id: None)  # the stub: handlers are not the subject
        outbound._sender = lambda message_id, delay_ms: None
        with db.connection_context():
            upgrade()
            started = time.perf_counter()
            fill(size, args.vendors, args.spread, args.lead, random.Random(args.seed))
            filled = time.perf_counter() - started
            db.obj.execute_sql("ANALYZE")
            ticks: list[float] = []
            load = os.getloadavg()[0]
            begin = time.monotonic()
            while (elapsed := time.monotonic() - begin) < args.seconds:
                tick = time.perf_counter()
                sweep.run(config)
                ticks.append((time.perf_counter() - tick) * 1000)
                time.sleep(max(0.0, 1.0 - (time.monotonic() - begin - elapsed)))
            late = [(event.created_at - ping.expires_at).total_seconds()
                    for event, ping in _timed_out()]
        if not db.is_closed():
            db.close()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    late = late or [0.0]
    return (f"| {size:,} | {args.backend} | {filled:.0f} s | {len(ticks)} | "
            f"{statistics.median(ticks):.1f} / {percentile(ticks, 90):.1f} / "
            f"{percentile(ticks, 99):.1f} / {max(ticks):.1f} | "
            f"{len(late) if late != [0.0] else 0:,} | "
            f"{statistics.median(late):.2f} / {percentile(late, 90):.2f} / "
            f"{percentile(late, 99):.2f} / {max(late):.2f} | {rss:.0f} MB | {load:.1f} |")


def _timed_out():
    """(vendor.timed_out event, its ping) for every offer the sweep timed out."""
    found = list(Event.select().where(Event.type == "vendor.timed_out"))
    pings = {p.id: p for p in Ping.select().where(
        Ping.id.in_([e.data["pingId"] for e in found]))} if found else {}
    return [(e, pings[e.data["pingId"]]) for e in found]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add = parser.add_argument
    add("--backend", choices=("sqlite", "postgres"), default="sqlite")
    add("--sizes", default="1000,10000,50000", help="tickets waiting, comma-separated")
    add("--vendors", type=int, default=200, help="24/7 vendors sharing the offers")
    add("--spread", type=float, default=600.0,
        help="offers expire uniformly over this many seconds; also the reply window of the "
             "offers the sweep makes (%(default)s)")
    add("--lead", type=float, default=5.0, help="seconds after the fill the first may expire")
    add("--seconds", type=float, default=60.0, help="how long to sweep (%(default)s)")
    add("--seed", type=int, default=7)
    add("--database-url", default=POSTGRES_URL)
    args = parser.parse_args(argv)
    logging.disable(logging.WARNING)
    print(f"commit {os.popen('git rev-parse --short HEAD').read().strip()}, "
          f"{os.cpu_count()} cores; sweep BATCH {sweep.BATCH} rows a kind a tick; offers expire "
          f"over {args.spread:g} s; {args.seconds:g} s of ticks")
    print("| tickets waiting | db | fill | ticks | tick ms p50 / p90 / p99 / max | timed out | "
          "lateness s p50 / p90 / p99 / max | peak RSS | load avg |")
    print("| ---: | --- | ---: | ---: | --- | ---: | --- | ---: | ---: |")
    for size in (int(s) for s in args.sizes.split(",")):
        print(run(size, args), flush=True)
    return 0


if __name__ == "__main__":
    assert BATCH  # the fill's batch size comes from selection.py
    sys.exit(main())
