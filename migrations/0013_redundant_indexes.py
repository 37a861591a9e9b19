"""Drop the one-column foreign-key indexes that a composite index of the same table leads with.

The composite index answers every lookup, join and cascade by the key alone, so the
one-column copy only cost writes: each insert of an event, message or offer updated it too.
One booking wrote 126 SQLite pages before, 102 after (issue 12, bench/README.md).
"""

# (index, table, column): each one's composite is named beside it
REDUNDANT = (
    ("property_landlord_id", "property", "landlord_id"),  # property_landlord_id_address
    ("vendor_landlord_id", "vendor", "landlord_id"),  # vendor_landlord_id_priority_...
    ("vendorphone_vendor_id", "vendor_phone", "vendor_id"),  # vendorphone_vendor_id_number
    ("ticket_landlord_id", "ticket", "landlord_id"),  # ticket_landlord_id_created_at
    ("ping_ticket_id", "ping", "ticket_id"),  # ping_ticket_id_sent_at
    ("ping_vendor_id", "ping", "vendor_id"),  # ping_vendor_id_outcome_sent_at
    ("appointment_vendor_id", "appointment", "vendor_id"),  # appointment_vendor_id_created_at
    ("message_landlord_id", "message", "landlord_id"),  # message_landlord_id_created_at
    ("message_ticket_id", "message", "ticket_id"),  # message_ticket_id_created_at
    ("event_ticket_id", "event", "ticket_id"),  # event_ticket_id_id
    ("event_landlord_id", "event", "landlord_id"),  # event_landlord_id_id
    ("fault_landlord_id", "fault", "landlord_id"),  # fault_landlord_id_failed_at
    ("question_ticket_id", "question", "ticket_id"),  # question_ticket_id_kind
    ("quote_ticket_id", "quote", "ticket_id"),  # quote_ticket_id_submitted_at
    ("webhookdelivery_endpoint_id", "webhook_delivery", "endpoint_id"),  # ..._endpoint_id_event_id
    ("webhookattempt_delivery_id", "webhook_attempt", "delivery_id"),  # ..._delivery_id_started_at
)


def up(migrator, db):
    for index, _table_name, _column in REDUNDANT:
        db.execute_sql(f'DROP INDEX IF EXISTS "{index}"')


def down(migrator, db):
    for index, table, column in REDUNDANT:
        db.execute_sql(f'CREATE INDEX IF NOT EXISTS "{index}" ON "{table}" ("{column}")')
