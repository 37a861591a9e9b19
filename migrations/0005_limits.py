"""Issue 8's hardening: parked faults, the opt-out register, the SMS cap, session generations,
webhook receipts."""
from peewee import *


def up(migrator, db):
    migrator.migrate(
        migrator.add_column('landlord', 'session_generation', IntegerField(default=0)),
        migrator.add_column('message', 'capped', BooleanField(default=False)),
    )

    class Landlord(Model):
        class Meta:
            database = db
            table_name = 'landlord'

    class Ticket(Model):
        class Meta:
            database = db
            table_name = 'ticket'

    class Fault(Model):
        kind = CharField()
        row_id = IntegerField()
        ticket = ForeignKeyField(Ticket, null=True, on_delete='CASCADE')
        landlord = ForeignKeyField(Landlord, null=True, on_delete='CASCADE')
        attempts = IntegerField(default=0)
        error = TextField()
        retry_at = DateTimeField(null=True)
        failed_at = DateTimeField(null=True)
        created_at = DateTimeField()
        updated_at = DateTimeField()

        class Meta:
            database = db
            table_name = 'fault'
            indexes = ((('kind', 'row_id'), True), (('landlord', 'failed_at'), False))

    class OptOut(Model):
        phone = CharField(unique=True)
        word = CharField()
        created_at = DateTimeField()

        class Meta:
            database = db
            table_name = 'opt_out'

    class WebhookReceipt(Model):
        key = CharField(unique=True)
        digest = CharField()
        created_at = DateTimeField(index=True)

        class Meta:
            database = db
            table_name = 'webhook_receipt'

    db.create_tables([Fault, OptOut, WebhookReceipt])
    # Numbers that opted out before the register existed keep their opt-out.
    db.execute_sql(
        "INSERT INTO opt_out (phone, word, created_at) "
        "SELECT DISTINCT vendor_phone.number, 'STOP', CURRENT_TIMESTAMP FROM vendor_phone "
        "JOIN vendor ON vendor.id = vendor_phone.vendor_id WHERE vendor.opted_out")


def down(migrator, db):
    migrator.migrate(
        migrator.drop_table('webhook_receipt'),
        migrator.drop_table('opt_out'),
        migrator.drop_table('fault'),
        migrator.drop_column('message', 'capped'),
        migrator.drop_column('landlord', 'session_generation'),
    )
