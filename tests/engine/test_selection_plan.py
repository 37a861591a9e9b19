"""The vendor statement of selection walks its indexes (issue 11: "one indexed statement per
candidate list"): a stretch of the landlord's vendors in asking order through an index (no
sort; only the stretch's own rows are then sorted, by primary key lookups), and each
vendor's busy visits, visits that day, recent no-shows and last offers through migration
0009's indexes, never a scan of the appointment or ping table (which grow with every job).

The statements are the ones next_up() and candidates() really run (NOT_YET_ASKED: next_up's
first page and candidates' one page), recorded at the database's execute_sql as they ran,
with the values they were run with; the plans are the database's own (SQLite: EXPLAIN QUERY
PLAN; PostgreSQL: plain EXPLAIN, no planner settings changed) on 1,000 vendors, 5,000 visits
and 5,000 offers with fresh statistics (ANALYZE), so the planner chooses as it would on a
live database of that size.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

import pytest

from app import clock
from app.booking import selection
from app.booking.hours import parse_hours
from app.db import db, is_postgres, shown_sql, transaction
from app.models import Appointment, Landlord, Ping, Property, Tenant, Ticket, Vendor, VendorPhone

WEDNESDAY_10AM = datetime(2026, 3, 4, 16, 0)  # Wed 4 Mar 2026, 10:00 in Chicago: vendors at work
VENDORS, VISITS, OFFERS = 1000, 5000, 5000
BATCH = 500
CATEGORIES = ("plumbing", "electrical", "hvac", "lock")
HOURS = ("24/7", "Mon-Fri 8AM-5PM", "9AM-6PM", "Mon-Sat 7AM-7PM")
ASKING_ORDER = "vendor_landlord_asking_order"  # migration 0009: (landlord_id, priority,
# last_offered_at NULLS FIRST, id). SQLite ends every index with the rowid (the id), so there
# the model's older (landlord_id, priority, last_offered_at) index gives the same order and
# its planner takes either; PostgreSQL's older one cannot (NULLS LAST).
SQLITE_ASKING_ORDER = (ASKING_ORDER, "vendor_landlord_id_priority_last_offered_at")
# Each per-vendor lookup of the statement (its table alias) and migration 0009's index for it.
LOOKUPS = {
    "busy_visit": ("appointment", "appointment_vendor_active_starts"),  # busy then
    "day_visit": ("appointment", "appointment_vendor_active_starts"),  # visits that day
    "missed_visit": ("appointment", "appointment_vendor_no_show"),  # no-shows (demotion)
    "recent_offer": ("ping", "ping_vendor_sent"),  # the last offers (demotion)
}


def insert(model, rows: list[dict]) -> None:
    for start in range(0, len(rows), BATCH):
        model.insert_many(rows[start:start + BATCH]).execute()


def fill(rng: random.Random, landlords: int) -> list[Ticket]:
    """VENDORS vendors shared evenly by `landlords` landlords, VISITS visits over the last 60
    and next 14 days (future ones mostly active, past ones mostly completed, some no-shows),
    OFFERS past offers; then a routine and an emergency ticket of the first landlord."""
    now = clock.now()
    with transaction():
        homes = []
        for n in range(landlords):
            landlord = Landlord.create(name=f"Landlord {n}", email=f"plan{n}@example.com",
                                       phone=f"+1555200{n:04d}")
            prop = Property.create(landlord=landlord, address=f"{n} Plan Street",
                                   timezone="America/Chicago", postal_code="63101")
            tenant = Tenant.create(property=prop, name=f"Tenant {n}", phone=f"+1555300{n:04d}",
                                   intake_token=f"plan-token-{n}")
            homes.append((landlord.id, prop.id, tenant.id))
        schedules = {hours: parse_hours(hours) for hours in HOURS}
        vendors = []
        for n in range(VENDORS):
            hours = rng.choice(HOURS)
            vendors.append(dict(
                landlord=homes[n % landlords][0], name=f"Vendor {n}",
                specialties=rng.sample(CATEGORIES, rng.randint(1, 3)), hours=hours,
                schedule=schedules[hours], priority=rng.randint(1, 3),
                active=rng.random() > 0.05, opted_out=rng.random() < 0.02,
                last_offered_at=None if rng.random() < 0.1 else
                now - timedelta(minutes=rng.randint(0, 60 * 24 * 30)),
                service_areas=[] if rng.random() < 0.5 else [rng.choice(("631", "630"))],
                max_visits_per_day=rng.choice((None, None, 2, 3)),
                insurance_expires_at=None if rng.random() < 0.3 else
                now.date() + timedelta(days=rng.randint(-30, 300)),
                created_at=now, updated_at=now))
        insert(Vendor, vendors)
        owner = dict(Vendor.select(Vendor.id, Vendor.landlord).tuples())
        vendor_ids = sorted(owner)
        insert(VendorPhone, [dict(vendor=vid, number=f"+1556{vid:07d}", position=0)
                             for vid in vendor_ids if rng.random() > 0.02])
        home_of = {landlord: (prop, tenant) for landlord, prop, tenant in homes}
        visits = []
        for _ in range(VISITS):
            vendor_id = rng.choice(vendor_ids)
            starts = now.replace(hour=0, minute=0) + timedelta(days=rng.randint(-60, 14),
                                                               hours=rng.randint(12, 24))
            if starts > now:
                status = rng.choice(("tentative", "confirmed", "confirmed", "cancelled"))
            else:
                status = rng.choice(("completed",) * 8 + ("cancelled", "no_show"))
            visits.append((vendor_id, starts, starts + timedelta(hours=2), status))
        # One ticket per visit (at most one active visit per ticket), then the visits.
        insert(Ticket, [dict(landlord=owner[v], property=home_of[owner[v]][0],
                             tenant=home_of[owner[v]][1], category="plumbing",
                             severity="routine", window="tomorrow 9-11am", created_at=now,
                             updated_at=now, status="scheduled" if s in ("tentative", "confirmed")
                             else "completed") for v, _, _, s in visits])
        holders = [t for t, in Ticket.select(Ticket.id).order_by(Ticket.id).tuples()]
        insert(Appointment, [dict(
            ticket=holder, vendor=vendor_id, starts_at=starts, ends_at=ends, status=status,
            confirmation_method="sms", created_at=starts - timedelta(days=1),
            cancelled_at=ends if status in ("cancelled", "no_show") else None)
            for holder, (vendor_id, starts, ends, status) in zip(holders, visits, strict=True)])
        offers = []
        for n in range(OFFERS):
            vendor_id = rng.choice(vendor_ids)
            sent = now - timedelta(minutes=rng.randint(1, 60 * 24 * 60))
            offers.append(dict(ticket=rng.choice(holders), vendor=vendor_id, channel="sms",
                               code=f"P{n:05d}", to_number=f"+1556{vendor_id:07d}",
                               sent_at=sent, expires_at=sent + timedelta(seconds=30),
                               outcome=rng.choice(("accepted", "declined", "timed_out",
                                                   "timed_out", "filled"))))
        insert(Ping, offers)
        landlord, prop, tenant = homes[0]
        tickets = [Ticket.create(landlord=landlord, property=prop, tenant=tenant, status="new",
                                 category=category, severity=severity, window=window,
                                 created_at=now, updated_at=now)
                   for category, severity, window in (("plumbing", "routine", "tomorrow 9-11am"),
                                                      ("hvac", "emergency", "now"))]
    # Statistics, as a live database has them (PostgreSQL's autovacuum; on SQLite the planner
    # chooses the same with or without them). These tables only: a bare ANALYZE would walk
    # every other test's schema on the PostgreSQL server.
    for model in (Vendor, VendorPhone, Appointment, Ping, Ticket):
        db.obj.execute_sql(f"ANALYZE {model._meta.table_name}")
    return tickets


def vendor_lists(monkeypatch, tickets: list[Ticket]) -> list[tuple[str, list]]:
    """(sql, values) of each vendor statement next_up() and candidates() ran for the tickets,
    recorded as the database executed them."""
    seen = []
    database = db.obj
    execute = database.execute_sql

    def recording(sql, params=None, *args, **kwargs):
        seen.append((shown_sql(sql), list(params or ())))  # a prepared one's own SQL
        return execute(sql, params, *args, **kwargs)

    monkeypatch.setattr(database, "execute_sql", recording)
    for ticket in tickets:
        assert selection.next_up(Ticket.get_by_id(ticket.id)).vendor is not None
        assert selection.candidates(Ticket.get_by_id(ticket.id))
    monkeypatch.undo()
    found = [(sql, params) for sql, params in seen if "recent_timeouts" in sql]
    # next_up's first stretch and candidates' single one of each ticket: the stretch's
    # landlord, LIMIT and OFFSET follow each other.
    assert [stretch(sql, params) for sql, params in found] == [
        [selection.FIRST_PAGE, 0], [selection.ALL, 0]] * len(tickets)
    return found


def stretch(sql: str, params: list) -> list:
    """The LIMIT and OFFSET of the statement's stretch of vendors (its only OFFSET)."""
    placeholder = "%s" if is_postgres() else "?"
    at = sql[:sql.index("OFFSET")].count(placeholder)  # placeholders before OFFSET's own
    return params[at - 1:at + 1]


def plan(sql: str, params: list) -> list[str]:
    """The database's plan for the statement with those values, a node a line."""
    if is_postgres():
        return [row[0] for row in db.obj.execute_sql("EXPLAIN " + sql, params)]
    return [row[-1] for row in db.obj.execute_sql("EXPLAIN QUERY PLAN " + sql, params)]


def index_of(lines: list[str], table: str, alias: str) -> str:
    """The PostgreSQL plan's way into `table AS alias`: "seq", or the index it goes through."""
    for n, line in enumerate(lines):
        if f" on {table} {alias} " not in line and not line.endswith(f" on {table} {alias}"):
            continue
        if "Seq Scan" in line:
            return "seq"
        if "Bitmap Heap Scan" in line:  # the index is in the Bitmap Index Scan below it
            below = next(b for b in lines[n + 1:] if "Bitmap Index Scan on " in b)
            return below.split("Bitmap Index Scan on ")[1].split()[0]
        return line.split(" using ")[1].split()[0]
    raise AssertionError(f"{table} {alias} is not in the plan:\n" + "\n".join(lines))


def assert_indexed(lines: list[str], whole: bool = False) -> None:
    """The plan reads a stretch of the vendors in asking order by index (not checked for the
    whole list, which every vendor is read for) and each lookup by 0009's index."""
    text = "\n".join(lines)
    if is_postgres() and whole:
        for alias, (table, index) in LOOKUPS.items():
            assert index_of(lines, table, alias) == index, f"{alias}:\n{text}"
        assert "Seq Scan on appointment" not in text and "Seq Scan on ping" not in text, text
        return
    if is_postgres():
        assert index_of(lines, "vendor", "t1_1") == ASKING_ORDER, text  # the stretch
        [walk] = [n for n, line in enumerate(lines) if f"using {ASKING_ORDER} on vendor" in line]
        assert "Limit" in lines[walk - 1], text  # it stops at the stretch's end: no sort
        assert index_of(lines, "vendor", "t1") == "vendor_pkey", text  # then by id
        for alias, (table, index) in LOOKUPS.items():
            assert index_of(lines, table, alias) == index, f"{alias}:\n{text}"
        assert "Seq Scan on appointment" not in text and "Seq Scan on ping" not in text, text
        return
    stretches, by_id = [], []
    for line in lines:
        if line.startswith(("SEARCH t1 ", "SCAN t1")):
            (stretches if "(landlord_id=?)" in line else by_id).append(line)
    [vendors] = stretches
    assert vendors.split(" INDEX ")[1].split()[0] in SQLITE_ASKING_ORDER, text
    assert by_id == ["SEARCH t1 USING INTEGER PRIMARY KEY (rowid=?)"], text
    # One sort at most: the stretch's own rows (the index gives the stretch its order).
    assert text.count("TEMP B-TREE") <= 1, text
    for alias, (_, index) in LOOKUPS.items():
        [lookup] = [line for line in lines if line.split()[1:2] == [alias]]
        assert lookup.startswith("SEARCH ") and f"INDEX {index} (vendor_id=?" in lookup, text
    # Nothing is read whole but the three last offers of one vendor (a subquery's rows).
    assert [line for line in lines if line.startswith("SCAN ")] == ["SCAN last_offers"], text


@pytest.fixture
def at_work(app):
    clock.set_fake(WEDNESDAY_10AM)
    yield
    clock.set_fake(None)


def test_one_landlord_s_vendors_are_read_by_index(at_work, monkeypatch):
    """1,000 vendors of one landlord (bench/selection.py's case)."""
    tickets = fill(random.Random(11), landlords=1)
    for sql, params in vendor_lists(monkeypatch, tickets):
        assert_indexed(plan(sql, params), whole=stretch(sql, params)[0] == selection.ALL)


def test_many_landlords_vendors_are_read_by_index(at_work, monkeypatch):
    """The same 1,000 vendors shared by four landlords. On PostgreSQL the planner expects
    almost no vendor to pass the rules (it multiplies their selectivities): when the rules
    and the order were on one list, it read the landlord's 250 vendors through
    vendor_landlord_id and sorted them, so next_up's first page no longer stopped early."""
    tickets = fill(random.Random(11), landlords=4)
    for sql, params in vendor_lists(monkeypatch, tickets):
        assert_indexed(plan(sql, params), whole=stretch(sql, params)[0] == selection.ALL)
