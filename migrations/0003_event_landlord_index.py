"""An index for the dashboard's "anything new for this landlord?" poll (MAX(event.id))."""
from peewee import *


def up(migrator, db):
    migrator.migrate(migrator.add_index('event', ('landlord_id', 'id'), False))


def down(migrator, db):
    migrator.migrate(migrator.drop_index('event', 'event_landlord_id_id'))
