"""Issue 11: choosing vendors (service areas, day limits, insurance, rounds and quiet hours)
and quotes with approval limits."""
from peewee import *


def up(migrator, db):
    migrator.migrate(
        migrator.add_column('vendor', 'service_areas', TextField(default='[]')),
        migrator.add_column('vendor', 'max_visits_per_day', IntegerField(null=True)),
        migrator.add_column('vendor', 'insurance_expires_at', DateField(null=True)),
        migrator.add_column('vendor', 'insurance_notice_at', DateTimeField(null=True)),
        migrator.add_column('property', 'approval_limit',
                            DecimalField(max_digits=12, decimal_places=2, null=True)),
        migrator.add_column('property', 'emergency_approval_limit',
                            DecimalField(max_digits=12, decimal_places=2, null=True)),
        migrator.add_column('ticket', 'dispatch_at', DateTimeField(null=True)),
        migrator.add_column('ticket', 'round', IntegerField(default=1)),
        migrator.add_column('message', 'send_after', DateTimeField(null=True)),
    )
    db.execute_sql("CREATE INDEX vendor_insurance_notice_at_open ON vendor (insurance_notice_at) "
                   "WHERE insurance_notice_at IS NOT NULL")
    db.execute_sql("CREATE INDEX ticket_dispatch_at_open ON ticket (dispatch_at) "
                   "WHERE dispatch_at IS NOT NULL")
    db.execute_sql("CREATE INDEX message_send_after_held ON message (send_after) "
                   "WHERE send_after IS NOT NULL")

    class Ticket(Model):
        class Meta:
            database = db
            table_name = 'ticket'

    class Appointment(Model):
        class Meta:
            database = db
            table_name = 'appointment'

    class Vendor(Model):
        class Meta:
            database = db
            table_name = 'vendor'

    class Quote(Model):
        ticket = ForeignKeyField(Ticket, on_delete='CASCADE')
        appointment = ForeignKeyField(Appointment, null=True, on_delete='SET NULL')
        vendor = ForeignKeyField(Vendor, on_delete='CASCADE')
        amount = DecimalField(max_digits=12, decimal_places=2)
        approval_limit = DecimalField(max_digits=12, decimal_places=2, null=True)
        status = CharField()
        submitted_at = DateTimeField()
        decided_at = DateTimeField(null=True)
        decided_by = CharField(null=True)

        class Meta:
            database = db
            table_name = 'quote'
            indexes = ((('ticket', 'submitted_at'), False), (('status',), False))

    db.create_tables([Quote])


def down(migrator, db):
    db.execute_sql("DROP INDEX IF EXISTS message_send_after_held")
    db.execute_sql("DROP INDEX IF EXISTS ticket_dispatch_at_open")
    db.execute_sql("DROP INDEX IF EXISTS vendor_insurance_notice_at_open")
    migrator.migrate(
        migrator.drop_table('quote'),
        migrator.drop_column('message', 'send_after'),
        migrator.drop_column('ticket', 'round'),
        migrator.drop_column('ticket', 'dispatch_at'),
        migrator.drop_column('property', 'emergency_approval_limit'),
        migrator.drop_column('property', 'approval_limit'),
        migrator.drop_column('vendor', 'insurance_notice_at'),
        migrator.drop_column('vendor', 'insurance_expires_at'),
        migrator.drop_column('vendor', 'max_visits_per_day'),
        migrator.drop_column('vendor', 'service_areas'),
    )
