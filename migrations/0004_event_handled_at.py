"""Events record when their handler ran, so the sweep can re-deliver ones the broker lost."""
from peewee import *


def up(migrator, db):
    migrator.migrate(migrator.add_column('event', 'handled_at', DateTimeField(null=True)))
    # Before this, an event counted as done once handed to the broker.
    db.execute_sql("UPDATE event SET handled_at = dispatched_at WHERE dispatched_at IS NOT NULL")
    db.execute_sql("UPDATE event SET dispatched_at = created_at WHERE dispatched_at IS NULL")
    db.execute_sql("DROP INDEX IF EXISTS event_undispatched")
    db.execute_sql("CREATE INDEX event_unhandled ON event (dispatched_at) "
                   "WHERE handled_at IS NULL")


def down(migrator, db):
    db.execute_sql("DROP INDEX IF EXISTS event_unhandled")
    migrator.migrate(migrator.drop_column('event', 'handled_at'))
    db.execute_sql("CREATE INDEX event_undispatched ON event (created_at) "
                   "WHERE dispatched_at IS NULL")
