"""How many SQL statements one booking costs, phase by phase, on SQLite and PostgreSQL."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator

from app import clock, events
from app.db import db, is_sqlite, transaction
from app.messaging import outbound
from app.models import ApiKey, Appointment, Ping, Ticket
from tests.webhooks.conftest import FIXLINE_NUMBER, LOCAL, SMS, new_sid, sign

# Every statement of one booking, held so it can only go down: lower it when a change saves
# statements. Issue 12's target is 45, met; bench/README.md lists where they went. A delivery's
# claim returns what routing it needs (45 → 42). PostgreSQL has one more: dispatch locks the
# vendor it chose unless another dispatch holds them (SKIP LOCKED), so tickets rotate. Intake
# is counted as POST /api/tickets runs it, with its key's lookup; the answer describes the new
# ticket from what the request wrote, without reading its (absent) visits, offers and quotes.
MOST_STATEMENTS = {"sqlite": 43, "postgresql": 44}
# Each a turn of SQLite's one writer (bench/README.md, "Night"): the webhook's receipt joined
# the YES's own transaction (8 → 7); a booked handler's two notices are claimed, kept and
# recorded in one (outbound.deliver_all, 7 → 6).
MOST_TRANSACTIONS = 6


# Columns a partial index's WHERE names by value (models.py: ping_pending_expires_at, the visits'
# active and no-show indexes). SQLite plans a statement again on every run when it compares a
# bound value with one of them, or matches a bound LIKE pattern: ~10 µs a small statement,
# ~400 µs selection's (bench/README.md). Their words are written into the SQL (WordField).
PLANNED_BY_VALUE = {"ping": "outcome", "appointment": "status"}
BOUND = r"(?:\?|%s)"


def planned_again(sql: str) -> list[str]:
    """The comparisons in sql that make SQLite plan it again on every run."""
    tables = {alias: table for table, alias in re.findall(r'"(\w+)" AS "(\w+)"', sql)}
    tables.update({table: table for table in PLANNED_BY_VALUE})
    found = re.findall(rf"LIKE {BOUND}", sql)
    for alias, column in re.findall(rf'"(\w+)"\."(\w+)" (?:=|!=|<>|IN \(|NOT IN \() ?{BOUND}',
                                    sql):
        if PLANNED_BY_VALUE.get(tables.get(alias, "")) == column:
            found.append(f"{alias}.{column}")
    return found


class Counter:
    """The statements (db.execute_sql) and transactions (BEGIN) of each phase."""

    def __init__(self, monkeypatch) -> None:
        self.monkeypatch = monkeypatch
        self.statements: dict[str, list[str]] = {}
        self.transactions: dict[str, int] = {}

    @contextlib.contextmanager
    def phase(self, name: str) -> Iterator[None]:
        database = db.obj
        real_sql, real_begin = database.execute_sql, database.begin
        statements = self.statements[name] = []
        self.transactions[name] = 0

        def execute_sql(sql, params=None, *args, **kwargs):
            statements.append(sql)
            return real_sql(sql, params, *args, **kwargs)

        def begin(*args, **kwargs):  # peewee opens a transaction without execute_sql
            self.transactions[name] += 1
            return real_begin(*args, **kwargs)

        self.monkeypatch.setattr(database, "execute_sql", execute_sql)
        self.monkeypatch.setattr(database, "begin", begin)
        try:
            yield
        finally:
            self.monkeypatch.setattr(database, "execute_sql", real_sql)
            self.monkeypatch.setattr(database, "begin", real_begin)

    def report(self, backend: str) -> str:
        lines = [f"statements per booking ({backend}):"]
        for name, statements in self.statements.items():
            lines.append(f"  {name:<9} {len(statements):3d} statements in "
                         f"{self.transactions[name]} transaction(s)")
        lines.append(f"  {'total':<9} {self.total:3d} statements in "
                     f"{sum(self.transactions.values())} transaction(s)")
        return "\n".join(lines)

    @property
    def total(self) -> int:
        return sum(len(statements) for statements in self.statements.values())


def test_one_booking_stays_within_its_statements(make_vendor, home, config, bus, client, auth,
                                                 monkeypatch):
    """One emergency booked through the real path, as the worker and the web server run it:
    intake through POST /api/tickets; intake.completed's handler (dispatch starts, the
    first vendor is offered the job); the offer delivered; the vendor's signed "YES <code>"
    to the SMS webhook; appointment.confirmed's handler (tenant and landlord told); those two
    notices delivered. Every statement the database runs is counted, by phase.

    106 on both databases when this test was written, 45 after the cuts listed in
    bench/README.md: issue 12's target. MOST_STATEMENTS holds the count so it can only go down.
    No statement compares a bound value with a column SQLite plans by value (planned_again).
    """
    prop, tenant = home
    for name in ("Ace Plumbing", "Best Pipes", "Crest Drains"):
        make_vendor(name)
    counter = Counter(monkeypatch)
    with transaction():  # the client's key was used a moment ago (it is marked once a minute)
        ApiKey.update(last_used_at=clock.now()).execute()
    report = {"tenantId": tenant.id, "propertyId": prop.id, "category": "plumbing",
              "severity": "emergency", "window": "now"}

    def handle_events() -> None:
        published, bus.events[:] = list(bus.events), []
        for event_id in published:
            assert events.handle(event_id, config)

    def deliver() -> None:  # as the worker whose work queued them (outbound.delivered_here)
        queued, bus.queued[:] = list(bus.queued), []
        assert outbound.deliver_all(queued, config) == ["stored"] * len(queued)

    with counter.phase("intake"):
        created = client.post("/api/tickets", json=report,
                              headers={**auth, "Idempotency-Key": "k-1"})
    assert created.status_code == 201 and len(bus.events) == 1, created.json
    assert created.json["pings"] == [] and created.json["status"] == "new"
    ticket = Ticket.get_by_id(created.json["id"])
    with counter.phase("dispatch"):
        handle_events()
    assert len(bus.queued) == 1 and not bus.events
    with counter.phase("offer"):
        deliver()
    ping = Ping.get(Ping.ticket == ticket)
    form = {"MessageSid": new_sid(), "AccountSid": "AC" + "0" * 32, "From": ping.to_number,
            "To": FIXLINE_NUMBER, "Body": f"YES {ping.code}", "NumMedia": "0"}
    signature = sign(LOCAL + SMS, form, config.webhook_auth_token)
    with counter.phase("yes"):
        response = client.post(SMS, data=form, headers={"X-Twilio-Signature": signature})
    assert response.status_code == 200 and b"You have job" in response.data
    assert len(bus.events) == 1 and not bus.queued
    with counter.phase("booked"):
        handle_events()
    assert len(bus.queued) == 2 and not bus.events  # the tenant and the landlord
    with counter.phase("notices"):
        deliver()
    assert not bus.events and not bus.queued
    assert Ticket.get_by_id(ticket.id).status == "scheduled"
    assert Appointment.get(Appointment.ticket == ticket).vendor_id == ping.vendor_id

    print("\n" + counter.report(config.database_url.split(":")[0]))
    assert sum(counter.transactions.values()) <= MOST_TRANSACTIONS, counter.report("")
    replanned = {sql: planned_again(sql) for statements in counter.statements.values()
                 for sql in statements if planned_again(sql)}
    assert not replanned, replanned
    assert counter.total <= MOST_STATEMENTS["sqlite" if is_sqlite() else "postgresql"], "\n".join(
        f"{name}: {sql}" for name, statements in counter.statements.items()
        for sql in statements)
