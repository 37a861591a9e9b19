"""Indexes for choosing vendors: a landlord's vendors in asking order, active visits and
no-shows by vendor, offers by vendor and time (bench/selection.py measured them)."""
from peewee import PostgresqlDatabase

INDEXES = (
    "CREATE INDEX IF NOT EXISTS appointment_vendor_active_starts ON appointment "
    "(vendor_id, starts_at) WHERE status IN ('tentative', 'confirmed')",
    "CREATE INDEX IF NOT EXISTS appointment_vendor_no_show ON appointment "
    "(vendor_id, cancelled_at) WHERE status = 'no_show'",
    "CREATE INDEX IF NOT EXISTS ping_vendor_sent ON ping (vendor_id, sent_at)",
)
NAMES = ("vendor_landlord_asking_order", "ping_vendor_sent", "appointment_vendor_no_show",
         "appointment_vendor_active_starts")


def up(migrator, db):
    for statement in INDEXES:
        db.execute_sql(statement)
    # The ORDER BY is last_offered_at ASC NULLS FIRST: SQLite's order already; PostgreSQL's
    # index must say so to be walked in that order.
    nulls_first = " NULLS FIRST" if isinstance(db, PostgresqlDatabase) else ""
    db.execute_sql("CREATE INDEX IF NOT EXISTS vendor_landlord_asking_order ON vendor "
                   f"(landlord_id, priority, last_offered_at{nulls_first}, id)")


def down(migrator, db):
    for name in NAMES:
        db.execute_sql(f"DROP INDEX IF EXISTS {name}")
