"""Daily digests: each landlord's next digest moment (app/booking/digests.py)."""
from peewee import DateTimeField


def up(migrator, db):
    migrator.migrate(migrator.add_column('landlord', 'digest_at', DateTimeField(null=True)))


def down(migrator, db):
    migrator.migrate(migrator.drop_column('landlord', 'digest_at'))
