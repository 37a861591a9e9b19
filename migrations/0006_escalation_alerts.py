"""Issue 9: an emergency's escalation alert repeats until the landlord acknowledges it."""
from peewee import *


def up(migrator, db):
    migrator.migrate(
        migrator.add_column('ticket', 'alert_due_at', DateTimeField(null=True)),
        migrator.add_column('ticket', 'alert_repeats', IntegerField(default=0)),
        migrator.add_column('ticket', 'acknowledged_at', DateTimeField(null=True)),
    )
    db.execute_sql("CREATE INDEX ticket_alert_due_at_open ON ticket (alert_due_at) "
                   "WHERE alert_due_at IS NOT NULL")


def down(migrator, db):
    db.execute_sql("DROP INDEX IF EXISTS ticket_alert_due_at_open")
    migrator.migrate(
        migrator.drop_column('ticket', 'acknowledged_at'),
        migrator.drop_column('ticket', 'alert_repeats'),
        migrator.drop_column('ticket', 'alert_due_at'),
    )
