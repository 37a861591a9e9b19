"""Photos a tenant attaches to a report."""
from peewee import *


def up(migrator, db):
    class Ticket(Model):
        class Meta:
            database = db
            table_name = 'ticket'

    class TicketPhoto(Model):
        ticket = ForeignKeyField(Ticket, on_delete='CASCADE')
        filename = CharField(unique=True)
        content_type = CharField()
        size = IntegerField()
        created_at = DateTimeField()
        class Meta:
            database = db
            table_name = 'ticket_photo'
    db.create_tables([TicketPhoto])


def down(migrator, db):
    migrator.migrate(migrator.drop_table('ticket_photo'))
