"""Peewee models: what each row means is in its docstring."""

from __future__ import annotations

import json

from peewee import (
    SQL,
    BooleanField,
    CharField,
    DateTimeField,
    ForeignKeyField,
    IntegerField,
    Model,
    TextField,
)

from app import clock
from app.db import db

TICKET_STATUSES = ("new", "dispatching", "scheduled", "escalated", "completed", "cancelled")
CATEGORIES = ("plumbing", "electrical", "hvac", "lock", "appliance", "pest", "general")
SEVERITIES = ("emergency", "routine")
CHANNELS = ("sms", "voice", "email")
PING_OUTCOMES = ("pending", "accepted", "declined", "timed_out", "failed", "filled", "cancelled")
APPOINTMENT_STATUSES = ("tentative", "confirmed", "cancelled", "completed")
ACTIVE_APPOINTMENT_STATUSES = ("tentative", "confirmed")
CONFIRMATION_METHODS = ("sms", "voice", "manual", "api")


class JSONField(TextField):
    """A JSON document stored as text (portable across SQLite and PostgreSQL)."""

    def db_value(self, value):
        return None if value is None else json.dumps(value, separators=(",", ":"), sort_keys=True)

    def python_value(self, value):
        return None if value is None else json.loads(value)


class BaseModel(Model):
    class Meta:
        database = db
        legacy_table_names = False


class Landlord(BaseModel):
    """An account that owns properties, tenants and vendors, and logs in to the dashboard."""

    name = CharField()
    email = CharField(unique=True)
    phone = CharField()
    password_hash = CharField(null=True)
    created_at = DateTimeField(default=clock.now)


class ApiKey(BaseModel):
    """A bearer key for the JSON API; only its SHA-256 hash is stored."""

    landlord = ForeignKeyField(Landlord, backref="api_keys", on_delete="CASCADE")
    prefix = CharField()
    key_hash = CharField(unique=True)
    created_at = DateTimeField(default=clock.now)
    last_used_at = DateTimeField(null=True)
    revoked_at = DateTimeField(null=True)


class Property(BaseModel):
    """A rental unit; its timezone is how vendor hours and times are read."""

    landlord = ForeignKeyField(Landlord, backref="properties", on_delete="CASCADE")
    address = CharField()
    timezone = CharField(default="America/Chicago")
    created_at = DateTimeField(default=clock.now)

    class Meta:
        indexes = ((("landlord", "address"), True),)


class Tenant(BaseModel):
    """A person living at a property; reports problems through a private intake link."""

    property = ForeignKeyField(Property, backref="tenants", on_delete="CASCADE")
    name = CharField()
    phone = CharField(index=True)
    email = CharField(null=True)
    intake_token = CharField(unique=True)
    created_at = DateTimeField(default=clock.now)


class Vendor(BaseModel):
    """A business a landlord can send jobs to, reached by SMS or call."""

    landlord = ForeignKeyField(Landlord, backref="vendors", on_delete="CASCADE")
    name = CharField()
    specialties = JSONField(default=list)
    hours = CharField(default="24/7")  # as written, e.g. "Mon-Fri 8AM-5PM"
    schedule = JSONField(default=list)  # hours parsed: [[weekday, start_minute, end_minute], ...]
    priority = IntegerField(default=1)  # 1 is asked first
    notes = TextField(null=True)
    active = BooleanField(default=True)
    preferred_channel = CharField(default="sms")
    opted_out = BooleanField(default=False)
    last_offered_at = DateTimeField(null=True)  # fair rotation: least recently offered first
    created_at = DateTimeField(default=clock.now)
    updated_at = DateTimeField(default=clock.now)

    class Meta:
        indexes = ((("landlord", "priority", "last_offered_at"), False),)

    @property
    def phones(self) -> list[str]:
        return [p.number for p in self.phone_numbers.order_by(VendorPhone.position)]


class VendorPhone(BaseModel):
    """One of a vendor's phone numbers; the first is the one pinged."""

    vendor = ForeignKeyField(Vendor, backref="phone_numbers", on_delete="CASCADE")
    number = CharField(index=True)
    position = IntegerField(default=0)

    class Meta:
        indexes = ((("vendor", "number"), True),)


class Ticket(BaseModel):
    """A reported problem at a property, from intake to booking (or escalation)."""

    landlord = ForeignKeyField(Landlord, backref="tickets", on_delete="CASCADE")
    property = ForeignKeyField(Property, backref="tickets", on_delete="CASCADE")
    tenant = ForeignKeyField(Tenant, backref="tickets", on_delete="CASCADE")
    status = CharField(default="new")
    category = CharField()
    severity = CharField()
    window = CharField()  # when the tenant is available, as they said it
    notes = TextField(null=True)
    description = TextField(null=True)
    idempotency_key = CharField(null=True)
    created_at = DateTimeField(default=clock.now)
    updated_at = DateTimeField(default=clock.now)
    first_response_at = DateTimeField(null=True)
    booked_at = DateTimeField(null=True)
    escalated_at = DateTimeField(null=True)
    completed_at = DateTimeField(null=True)
    cancelled_at = DateTimeField(null=True)
    escalate_at = DateTimeField(null=True)  # SLA deadline while unbooked
    escalation_reason = CharField(null=True)

    class Meta:
        indexes = (
            (("landlord", "idempotency_key"), True),
            (("landlord", "created_at"), False),
            (("landlord", "status", "created_at"), False),
        )


class Ping(BaseModel):
    """One offer of a ticket to one vendor, open until answered or expired."""

    ticket = ForeignKeyField(Ticket, backref="pings", on_delete="CASCADE")
    vendor = ForeignKeyField(Vendor, backref="pings", on_delete="CASCADE")
    channel = CharField()
    code = CharField()  # the short job code the vendor can reply with
    to_number = CharField()
    sent_at = DateTimeField(default=clock.now)
    expires_at = DateTimeField()
    answered_at = DateTimeField(null=True)
    outcome = CharField(default="pending")

    class Meta:
        indexes = (
            (("ticket", "sent_at"), False),
            (("vendor", "outcome", "sent_at"), False),
            (("vendor", "code"), False),
        )


class Appointment(BaseModel):
    """A vendor's visit for a ticket; at most one active (tentative/confirmed) per ticket."""

    ticket = ForeignKeyField(Ticket, backref="appointments", on_delete="CASCADE")
    vendor = ForeignKeyField(Vendor, backref="appointments", on_delete="CASCADE")
    ping = ForeignKeyField(Ping, null=True, on_delete="SET NULL")
    starts_at = DateTimeField(null=True)
    ends_at = DateTimeField(null=True)
    status = CharField(default="tentative")
    confirmation_method = CharField()
    created_at = DateTimeField(default=clock.now)

    class Meta:
        indexes = ((("vendor", "created_at"), False),)


Appointment.add_index(
    Appointment.index(Appointment.ticket, unique=True, name="appointment_one_active_per_ticket")
    .where(SQL("status IN ('tentative', 'confirmed')"))
)
Ping.add_index(
    Ping.index(Ping.expires_at, name="ping_pending_expires_at").where(SQL("outcome = 'pending'"))
)
Ticket.add_index(
    Ticket.index(Ticket.escalate_at, name="ticket_escalate_at_open")
    .where(SQL("escalate_at IS NOT NULL"))
)


class Message(BaseModel):
    """One SMS, call or email, in or out; provider_id is Twilio's SID (unique)."""

    landlord = ForeignKeyField(Landlord, null=True, backref="messages", on_delete="CASCADE")
    ticket = ForeignKeyField(Ticket, null=True, backref="messages", on_delete="SET NULL")
    ping = ForeignKeyField(Ping, null=True, backref="messages", on_delete="SET NULL")
    direction = CharField()  # outbound | inbound
    channel = CharField()  # sms | voice | email
    to_number = CharField()
    from_number = CharField(null=True)
    body = TextField()
    status = CharField(default="queued")  # queued, stored, sent, delivered, failed, received...
    provider_id = CharField(null=True, unique=True)
    dedupe_key = CharField(null=True, unique=True)  # one effect per (event, recipient) or answer
    recipient_type = CharField(null=True)  # tenant | landlord | vendor
    recipient_id = IntegerField(null=True)
    error = TextField(null=True)
    attempts = IntegerField(default=0)
    created_at = DateTimeField(default=clock.now)
    updated_at = DateTimeField(default=clock.now)

    class Meta:
        indexes = (
            (("landlord", "created_at"), False),
            (("landlord", "to_number", "created_at"), False),
            (("ticket", "created_at"), False),
        )


class Event(BaseModel):
    """One recorded fact: the audit trail, and the outbox for handlers that act on it."""

    ticket = ForeignKeyField(Ticket, null=True, backref="events", on_delete="CASCADE")
    landlord = ForeignKeyField(Landlord, null=True, backref="events", on_delete="CASCADE")
    type = CharField()
    actor = CharField()  # who caused it: system, api, tenant, landlord:<id>, vendor:<id>
    data = JSONField(default=dict)
    created_at = DateTimeField(default=clock.now)
    dispatched_at = DateTimeField(null=True)  # last handed to the broker
    handled_at = DateTimeField(null=True)  # its handler ran (set at once for types without one)

    class Meta:
        indexes = ((("ticket", "id"), False), (("landlord", "id"), False))


Event.add_index(
    Event.index(Event.dispatched_at, name="event_unhandled").where(SQL("handled_at IS NULL"))
)

MODELS = [Landlord, ApiKey, Property, Tenant, Vendor, VendorPhone, Ticket, Ping, Appointment,
          Message, Event]


class TicketPhoto(BaseModel):
    """A photo the tenant attached to a report; the file lives under instance/uploads/."""

    ticket = ForeignKeyField(Ticket, backref="photos", on_delete="CASCADE")
    filename = CharField(unique=True)  # random name on disk, never the tenant's
    content_type = CharField()
    size = IntegerField()
    created_at = DateTimeField(default=clock.now)


MODELS.append(TicketPhoto)
