"""Issue 10: the visit after the YES — job-page tokens, visit times, tenant questions,
reminders, no-show checks, ratings, vendor photos; a property's postal code."""
import secrets

from peewee import *


def up(migrator, db):
    migrator.migrate(
        migrator.add_column('ping', 'token', CharField(null=True)),
        migrator.add_column('appointment', 'confirmed_at', DateTimeField(null=True)),
        migrator.add_column('appointment', 'completed_at', DateTimeField(null=True)),
        migrator.add_column('appointment', 'cancelled_at', DateTimeField(null=True)),
        migrator.add_column('appointment', 'remind_at', DateTimeField(null=True)),
        migrator.add_column('appointment', 'no_show_at', DateTimeField(null=True)),
        migrator.add_column('appointment', 'time_refused_at', DateTimeField(null=True)),
        migrator.add_column('appointment', 'rating', IntegerField(null=True)),
        migrator.add_column('appointment', 'rated_at', DateTimeField(null=True)),
        migrator.add_column('ticket_photo', 'source', CharField(default='tenant')),
        migrator.add_column('ticket_photo', 'source_url', CharField(null=True)),
        migrator.add_column('property', 'postal_code', CharField(null=True)),
    )
    # Offers sent before job pages existed get a token too (their SMS had no link).
    for (ping_id,) in db.execute_sql("SELECT id FROM ping WHERE token IS NULL").fetchall():
        db.execute_sql("UPDATE ping SET token = %s WHERE id = %s" % (
            db.param, db.param), (secrets.token_urlsafe(24), ping_id))
    db.execute_sql("CREATE UNIQUE INDEX ping_token ON ping (token)")
    db.execute_sql("CREATE UNIQUE INDEX ticket_photo_ticket_id_source_url ON ticket_photo "
                   "(ticket_id, source_url)")
    db.execute_sql("CREATE INDEX appointment_remind_at_open ON appointment (remind_at) "
                   "WHERE remind_at IS NOT NULL")
    db.execute_sql("CREATE INDEX appointment_no_show_at_open ON appointment (no_show_at) "
                   "WHERE no_show_at IS NOT NULL")

    class Ticket(Model):
        class Meta:
            database = db
            table_name = 'ticket'

    class Appointment(Model):
        class Meta:
            database = db
            table_name = 'appointment'

    class Question(Model):
        kind = CharField()
        ticket = ForeignKeyField(Ticket, on_delete='CASCADE')
        appointment = ForeignKeyField(Appointment, null=True, on_delete='CASCADE')
        phone = CharField()
        role = CharField()
        person_id = IntegerField(null=True)
        asked_at = DateTimeField()
        closed_at = DateTimeField(null=True)
        answer = CharField(null=True)

        class Meta:
            database = db
            table_name = 'question'
            indexes = ((('phone', 'closed_at', 'asked_at'), False),
                       (('ticket', 'kind'), False))

    db.create_tables([Question])


def down(migrator, db):
    db.execute_sql("DROP INDEX IF EXISTS appointment_no_show_at_open")
    db.execute_sql("DROP INDEX IF EXISTS appointment_remind_at_open")
    db.execute_sql("DROP INDEX IF EXISTS ticket_photo_ticket_id_source_url")
    db.execute_sql("DROP INDEX IF EXISTS ping_token")
    migrator.migrate(
        migrator.drop_table('question'),
        migrator.drop_column('property', 'postal_code'),
        migrator.drop_column('ticket_photo', 'source_url'),
        migrator.drop_column('ticket_photo', 'source'),
        migrator.drop_column('appointment', 'rated_at'),
        migrator.drop_column('appointment', 'rating'),
        migrator.drop_column('appointment', 'time_refused_at'),
        migrator.drop_column('appointment', 'no_show_at'),
        migrator.drop_column('appointment', 'remind_at'),
        migrator.drop_column('appointment', 'cancelled_at'),
        migrator.drop_column('appointment', 'completed_at'),
        migrator.drop_column('appointment', 'confirmed_at'),
        migrator.drop_column('ping', 'token'),
    )
