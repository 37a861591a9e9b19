"""Issue 13: the language tenants and vendors read (CONTRACT §13), English unless set."""
from peewee import CharField


def up(migrator, db):
    migrator.migrate(
        migrator.add_column('tenant', 'language', CharField(default='en')),
        migrator.add_column('vendor', 'language', CharField(default='en')),
    )


def down(migrator, db):
    migrator.migrate(
        migrator.drop_column('tenant', 'language'),
        migrator.drop_column('vendor', 'language'),
    )
