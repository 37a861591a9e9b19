"""Issue 13: signed outbound webhooks — endpoints, deliveries and their attempts (app/hooks/)."""
import json

from peewee import CharField, DateTimeField, ForeignKeyField, IntegerField, Model, TextField


def up(migrator, db):
    class Landlord(Model):
        class Meta:
            database = db
            table_name = 'landlord'

    class Event(Model):
        class Meta:
            database = db
            table_name = 'event'

    class WebhookEndpoint(Model):
        landlord = ForeignKeyField(Landlord, on_delete='CASCADE')
        url = TextField()
        secret = CharField()
        events = TextField(default=json.dumps(["*"]))
        description = CharField(null=True)
        scan_from_id = IntegerField(default=0)
        failing_since = DateTimeField(null=True)
        disabled_at = DateTimeField(null=True)
        created_at = DateTimeField()

        class Meta:
            database = db
            table_name = 'webhook_endpoint'

    class WebhookDelivery(Model):
        endpoint = ForeignKeyField(WebhookEndpoint, on_delete='CASCADE')
        event = ForeignKeyField(Event, on_delete='CASCADE')
        attempts = IntegerField(default=0)
        last_status = IntegerField(null=True)
        next_attempt_at = DateTimeField(null=True)
        claimed_at = DateTimeField(null=True)
        retry_until = DateTimeField()
        delivered_at = DateTimeField(null=True)
        gave_up_at = DateTimeField(null=True)
        created_at = DateTimeField()

        class Meta:
            database = db
            table_name = 'webhook_delivery'
            indexes = ((('endpoint', 'event'), True), (('endpoint', 'created_at'), False))

    class WebhookAttempt(Model):
        delivery = ForeignKeyField(WebhookDelivery, on_delete='CASCADE')
        started_at = DateTimeField()
        status_code = IntegerField(null=True)
        duration_ms = IntegerField()
        response_excerpt = TextField(default='')
        error = TextField(null=True)

        class Meta:
            database = db
            table_name = 'webhook_attempt'
            indexes = ((('delivery', 'started_at'), False),)

    db.create_tables([WebhookEndpoint, WebhookDelivery, WebhookAttempt])
    db.execute_sql("CREATE INDEX webhook_delivery_due ON webhook_delivery (next_attempt_at) "
                   "WHERE next_attempt_at IS NOT NULL")


def down(migrator, db):
    db.execute_sql("DROP INDEX IF EXISTS webhook_delivery_due")
    migrator.migrate(
        migrator.drop_table('webhook_attempt'),
        migrator.drop_table('webhook_delivery'),
        migrator.drop_table('webhook_endpoint'),
    )
