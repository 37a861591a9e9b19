"""Peewee models: what each row means is in its docstring."""

from __future__ import annotations

import json

from peewee import (
    SQL,
    BooleanField,
    CharField,
    DateField,
    DateTimeField,
    DecimalField,
    Field,
    ForeignKeyAccessor,
    ForeignKeyField,
    IntegerField,
    Model,
    TextField,
)

from app import clock
from app.db import db
from app.prepared import Param, Prepared, per_shape

TICKET_STATUSES = ("new", "dispatching", "scheduled", "escalated", "completed", "cancelled")
CATEGORIES = ("plumbing", "electrical", "hvac", "lock", "appliance", "pest", "general")
SEVERITIES = ("emergency", "routine")
CHANNELS = ("sms", "voice", "email")
PING_OUTCOMES = ("pending", "accepted", "declined", "timed_out", "failed", "filled", "cancelled")
APPOINTMENT_STATUSES = ("tentative", "confirmed", "cancelled", "completed", "no_show")
ACTIVE_APPOINTMENT_STATUSES = ("tentative", "confirmed")
CONFIRMATION_METHODS = ("sms", "voice", "manual", "api")
BOOKING_METHODS = (*CONFIRMATION_METHODS, "web")  # "web": the vendor's Accept on the job page


class JSONField(TextField):
    """A JSON document stored as text (portable across SQLite and PostgreSQL)."""

    def db_value(self, value):
        return None if value is None else json.dumps(value, separators=(",", ":"), sort_keys=True)

    def python_value(self, value):
        return None if value is None else json.loads(value)


class WordField(CharField):
    """A column holding one of a few known words: a ping's outcome, a visit's status.

    Compared with those words, the words are written into the SQL rather than bound. SQLite
    plans a statement again, on every run, when it compares a bound value with a column that a
    partial index's WHERE names (the value decides whether that index may serve), and both
    columns have such indexes: ping_pending_expires_at, the visits' active and no-show ones.
    Anything else (a word not on the list, a Param) is bound as usual.
    """

    def __init__(self, words: tuple[str, ...], **kwargs):
        super().__init__(**kwargs)
        self.words = frozenset(words)

    def _written(self, value):
        return SQL(f"'{value}'") if isinstance(value, str) and value in self.words else value

    def _written_list(self, values):
        if (isinstance(values, (list, tuple, set, frozenset)) and values
                and all(isinstance(value, str) and value in self.words for value in values)):
            return SQL("(" + ", ".join(f"'{value}'" for value in values) + ")")
        return values

    def __eq__(self, rhs):
        return super().__eq__(self._written(rhs))

    def __ne__(self, rhs):
        return super().__ne__(self._written(rhs))

    __hash__ = CharField.__hash__

    def in_(self, rhs):
        return super().in_(self._written_list(rhs))

    def not_in(self, rhs):
        return super().not_in(self._written_list(rhs))


class BaseModel(Model):
    class Meta:
        database = db
        legacy_table_names = False

    @classmethod
    def create(cls, **values):
        """Insert one row and return it, as peewee's create(), with the INSERT rendered once
        per set of columns (defaults are filled in per row, as ever)."""
        return cls._insert_row(values, None)

    @classmethod
    def create_unless(cls, *taken: Field, **values):
        """create(), unless another row holds the same values of the unique field(s) taken:
        then None and nothing written (ON CONFLICT DO NOTHING: no savepoint to catch an error
        in)."""
        return cls._insert_row(values, taken)

    @classmethod
    def _insert_row(cls, values: dict, taken: tuple[Field, ...] | None):
        row = cls(**values)
        data = row.__data__.copy()
        row._populate_unsaved_relations(data)
        key = cls._meta.primary_key
        if row._pk is None:
            data.pop(key.name, None)
        fields = cls._meta.fields

        def build():
            insert = cls.insert({fields[name]: Param(name, fields[name]) for name in data})
            if taken is None:
                return insert
            return insert.on_conflict(action="NOTHING", conflict_target=list(taken)).returning(key)

        unique = taken and tuple(field.name for field in taken)
        insert = per_shape((cls, "insert", unique, tuple(data)), build)
        if taken is None:
            new_id = insert.execute(**data)
        else:
            new_id = insert.scalar(**data)
            if new_id is None:
                return None
        if row._pk is None and new_id is not None:
            row._pk = new_id
            row._dirty.discard(key.name)
        row._dirty -= set(data)
        return row

    @classmethod
    def find(cls, pk):
        """The row with this primary key, or None (its SQL rendered once: app.prepared)."""
        key = cls._meta.primary_key
        return per_shape((cls, "by id"), lambda: cls.select().where(
            key == Param("id")).limit(1)).first(id=pk)

    @classmethod
    def get_by_id(cls, pk):
        """The row with this primary key; DoesNotExist when there is none."""
        found = cls.find(pk)
        if found is None:
            raise cls.DoesNotExist(f"{cls.__name__} with id {pk} does not exist")
        return found


class _LazyRow(ForeignKeyAccessor):
    """Loads the referenced row on first access through its prepared primary-key lookup."""

    def get_rel_instance(self, instance):
        value = instance.__data__.get(self.name)
        if (value is not None and self.name not in instance.__rel__ and self.field.lazy_load
                and self.field.rel_field is self.rel_model._meta.primary_key):
            instance.__rel__[self.name] = self.rel_model.get_by_id(value)
        return super().get_rel_instance(instance)


class ForeignKey(ForeignKeyField):
    """A foreign key whose lazy loads skip peewee's per-call SQL rendering.

    index=False where a composite index of the table leads with the key: it serves the key's
    lookups and cascades, and a second index would only be written on every insert
    (migration 0013).
    """

    accessor_class = _LazyRow


class Landlord(BaseModel):
    """An account that owns properties, tenants and vendors, and logs in to the dashboard."""

    name = CharField()
    email = CharField(unique=True)
    phone = CharField()
    password_hash = CharField(null=True)
    session_generation = IntegerField(default=0)  # bumped by logout/password change: ends sessions
    digest_at = DateTimeField(null=True)  # the next daily digest email (digests.py)
    created_at = DateTimeField(default=clock.now)


class ApiKey(BaseModel):
    """A bearer key for the JSON API; only its SHA-256 hash is stored."""

    landlord = ForeignKey(Landlord, backref="api_keys", on_delete="CASCADE")
    prefix = CharField()
    key_hash = CharField(unique=True)
    created_at = DateTimeField(default=clock.now)
    last_used_at = DateTimeField(null=True)
    revoked_at = DateTimeField(null=True)


class Property(BaseModel):
    """A rental unit; its timezone is how vendor hours and times are read."""

    landlord = ForeignKey(Landlord, backref="properties", index=False, on_delete="CASCADE")
    address = CharField()
    timezone = CharField(default="America/Chicago")
    postal_code = CharField(null=True)
    approval_limit = DecimalField(max_digits=12, decimal_places=2, null=True)  # None: no limit
    emergency_approval_limit = DecimalField(max_digits=12, decimal_places=2, null=True)
    created_at = DateTimeField(default=clock.now)

    class Meta:
        indexes = ((("landlord", "address"), True),)


class Tenant(BaseModel):
    """A person living at a property; reports problems through a private intake link."""

    property = ForeignKey(Property, backref="tenants", on_delete="CASCADE")
    name = CharField()
    phone = CharField(index=True)
    email = CharField(null=True)
    intake_token = CharField(unique=True)
    language = CharField(default="en")  # what their texts and pages are in (CONTRACT §13)
    created_at = DateTimeField(default=clock.now)


class Vendor(BaseModel):
    """A business a landlord can send jobs to, reached by SMS or call."""

    landlord = ForeignKey(Landlord, backref="vendors", index=False, on_delete="CASCADE")
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
    service_areas = JSONField(default=list)  # postal-code prefixes; empty: anywhere
    max_visits_per_day = IntegerField(null=True)  # active visits a day; None: no limit
    insurance_expires_at = DateField(null=True)  # past it, the vendor is not asked
    insurance_notice_at = DateTimeField(null=True)  # the next insurance reminder's moment
    language = CharField(default="en")  # what their texts are in (CONTRACT §13)
    created_at = DateTimeField(default=clock.now)
    updated_at = DateTimeField(default=clock.now)

    class Meta:
        indexes = ((("landlord", "priority", "last_offered_at"), False),)

    @property
    def phones(self) -> list[str]:
        return [number for (number,) in _PHONES.rows(vendor=self.id)]


class VendorPhone(BaseModel):
    """One of a vendor's phone numbers; the first is the one pinged."""

    vendor = ForeignKey(Vendor, backref="phone_numbers", index=False, on_delete="CASCADE")
    number = CharField(index=True)
    position = IntegerField(default=0)

    class Meta:
        indexes = ((("vendor", "number"), True),)


_PHONES = Prepared(lambda: VendorPhone.select(VendorPhone.number).where(
    VendorPhone.vendor == Param("vendor")).order_by(VendorPhone.position).tuples())


class Ticket(BaseModel):
    """A reported problem at a property, from intake to booking (or escalation)."""

    landlord = ForeignKey(Landlord, backref="tickets", index=False, on_delete="CASCADE")
    property = ForeignKey(Property, backref="tickets", on_delete="CASCADE")
    tenant = ForeignKey(Tenant, backref="tickets", on_delete="CASCADE")
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
    alert_due_at = DateTimeField(null=True)  # an emergency escalation's next repeated alert
    alert_repeats = IntegerField(default=0)  # repeats of this escalation's alert sent so far
    acknowledged_at = DateTimeField(null=True)  # the landlord acknowledged this escalation
    dispatch_at = DateTimeField(null=True)  # ask again then: a vendor's hours open, a new round
    round = IntegerField(default=1)  # which round of asking (§10: up to DISPATCH_ROUNDS)

    class Meta:
        indexes = (
            (("landlord", "idempotency_key"), True),
            (("landlord", "created_at"), False),
            (("landlord", "status", "created_at"), False),
        )


class Ping(BaseModel):
    """One offer of a ticket to one vendor, open until answered or expired."""

    ticket = ForeignKey(Ticket, backref="pings", index=False, on_delete="CASCADE")
    vendor = ForeignKey(Vendor, backref="pings", index=False, on_delete="CASCADE")
    channel = CharField()
    code = CharField()  # the short job code the vendor can reply with
    to_number = CharField()
    sent_at = DateTimeField(default=clock.now)
    expires_at = DateTimeField()
    answered_at = DateTimeField(null=True)
    outcome = WordField(PING_OUTCOMES, default="pending")
    token = CharField(null=True, unique=True)  # the job page /j/<token>: 192 random bits

    class Meta:
        indexes = (
            (("ticket", "sent_at"), False),
            (("vendor", "outcome", "sent_at"), False),
            (("vendor", "code"), False),
        )


class Appointment(BaseModel):
    """A vendor's visit for a ticket; at most one active (tentative/confirmed) per ticket."""

    ticket = ForeignKey(Ticket, backref="appointments", on_delete="CASCADE")
    vendor = ForeignKey(Vendor, backref="appointments", index=False, on_delete="CASCADE")
    ping = ForeignKey(Ping, null=True, on_delete="SET NULL")
    starts_at = DateTimeField(null=True)
    ends_at = DateTimeField(null=True)
    status = WordField(APPOINTMENT_STATUSES, default="tentative")
    confirmation_method = CharField()
    created_at = DateTimeField(default=clock.now)
    confirmed_at = DateTimeField(null=True)  # the tenant confirmed the time
    completed_at = DateTimeField(null=True)
    cancelled_at = DateTimeField(null=True)  # handed back, cancelled, or a no-show
    remind_at = DateTimeField(null=True)  # the next visit reminder's moment
    no_show_at = DateTimeField(null=True)  # when to ask the tenant whether the vendor came
    time_refused_at = DateTimeField(null=True)  # the tenant said the time does not work
    rating = IntegerField(null=True)  # the tenant's 1-5
    rated_at = DateTimeField(null=True)

    class Meta:
        indexes = ((("vendor", "created_at"), False),)


Appointment.add_index(
    Appointment.index(Appointment.ticket, unique=True, name="appointment_one_active_per_ticket")
    .where(SQL("status IN ('tentative', 'confirmed')"))
)
Appointment.add_index(
    Appointment.index(Appointment.remind_at, name="appointment_remind_at_open")
    .where(SQL("remind_at IS NOT NULL"))
)
Appointment.add_index(
    Appointment.index(Appointment.no_show_at, name="appointment_no_show_at_open")
    .where(SQL("no_show_at IS NOT NULL"))
)
Ping.add_index(
    Ping.index(Ping.expires_at, name="ping_pending_expires_at").where(SQL("outcome = 'pending'"))
)
# Choosing vendors (selection): a vendor's active visits by start (busy, visits a day), its
# recent no-shows, its last offers; without them each lookup filters the vendor's whole history.
Appointment.add_index(
    Appointment.index(Appointment.vendor, Appointment.starts_at,
                      name="appointment_vendor_active_starts")
    .where(SQL("status IN ('tentative', 'confirmed')"))
)
Appointment.add_index(
    Appointment.index(Appointment.vendor, Appointment.cancelled_at,
                      name="appointment_vendor_no_show")
    .where(SQL("status = 'no_show'"))
)
Ping.add_index(Ping.index(Ping.vendor, Ping.sent_at, name="ping_vendor_sent"))
# A landlord's vendors in asking order (selection), so a statement with LIMIT stops early;
# PostgreSQL's has last_offered_at NULLS FIRST, as the ORDER BY (SQLite sorts NULLs first).
Vendor.add_index(Vendor.index(Vendor.landlord, Vendor.priority, Vendor.last_offered_at,
                              Vendor.id, name="vendor_landlord_asking_order"))
Ticket.add_index(
    Ticket.index(Ticket.escalate_at, name="ticket_escalate_at_open")
    .where(SQL("escalate_at IS NOT NULL"))
)
Ticket.add_index(
    Ticket.index(Ticket.dispatch_at, name="ticket_dispatch_at_open")
    .where(SQL("dispatch_at IS NOT NULL"))
)
Vendor.add_index(
    Vendor.index(Vendor.insurance_notice_at, name="vendor_insurance_notice_at_open")
    .where(SQL("insurance_notice_at IS NOT NULL"))
)
Ticket.add_index(
    Ticket.index(Ticket.alert_due_at, name="ticket_alert_due_at_open")
    .where(SQL("alert_due_at IS NOT NULL"))
)


class Message(BaseModel):
    """One SMS, call or email, in or out; provider_id is Twilio's SID (unique)."""

    landlord = ForeignKey(Landlord, null=True, backref="messages", index=False,
                          on_delete="CASCADE")
    ticket = ForeignKey(Ticket, null=True, backref="messages", index=False, on_delete="SET NULL")
    ping = ForeignKey(Ping, null=True, backref="messages", on_delete="SET NULL")
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
    capped = BooleanField(default=False)  # sent for /api/notify or a manual ping: counts to the cap
    send_after = DateTimeField(null=True)  # held until then (a landlord's quiet hours)
    created_at = DateTimeField(default=clock.now)
    updated_at = DateTimeField(default=clock.now)

    class Meta:
        indexes = (
            (("landlord", "created_at"), False),
            (("landlord", "to_number", "created_at"), False),
            (("ticket", "created_at"), False),
        )


Message.add_index(
    Message.index(Message.send_after, name="message_send_after_held")
    .where(SQL("send_after IS NOT NULL"))
)


class Event(BaseModel):
    """One recorded fact: the audit trail, and the outbox for handlers that act on it."""

    ticket = ForeignKey(Ticket, null=True, backref="events", index=False, on_delete="CASCADE")
    landlord = ForeignKey(Landlord, null=True, backref="events", index=False,
                          on_delete="CASCADE")
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
    """A photo of a ticket's problem (the tenant's report) or of the finished job (the
    vendor's DONE); the file lives under instance/uploads/."""

    ticket = ForeignKey(Ticket, backref="photos", on_delete="CASCADE")
    filename = CharField(unique=True)  # random name on disk, never the tenant's
    content_type = CharField()
    size = IntegerField()
    source = CharField(default="tenant")  # tenant | vendor
    source_url = CharField(null=True)  # an MMS photo's Twilio media URL: fetched once
    created_at = DateTimeField(default=clock.now)

    class Meta:
        indexes = ((("ticket", "source_url"), True),)


MODELS.append(TicketPhoto)


class Fault(BaseModel):
    """A row (ticket, event, message or ping) whose handling failed: retried with backoff
    until retry_at, and parked (failed_at set) after too many tries, until someone retries it."""

    kind = CharField()  # ticket | event | message | ping | alert (a ticket's repeated alert)
    row_id = IntegerField()
    ticket = ForeignKey(Ticket, null=True, backref="faults", on_delete="CASCADE")
    landlord = ForeignKey(Landlord, null=True, backref="faults", index=False,
                          on_delete="CASCADE")
    attempts = IntegerField(default=0)
    error = TextField()
    retry_at = DateTimeField(null=True)  # the next try; null once parked
    failed_at = DateTimeField(null=True)  # parked: no more automatic tries
    created_at = DateTimeField(default=clock.now)
    updated_at = DateTimeField(default=clock.now)

    class Meta:
        indexes = ((("kind", "row_id"), True), (("landlord", "failed_at"), False))


class OptOut(BaseModel):
    """A phone number that texted STOP: nothing is sent to it until it texts START."""

    phone = CharField(unique=True)
    word = CharField()  # the opt-out word it sent
    created_at = DateTimeField(default=clock.now)


class WebhookReceipt(BaseModel):
    """A signed webhook seen lately, by its idempotency token or signature, with a digest of
    its parameters: the same key with other parameters is a replay, not a retry."""

    key = CharField(unique=True)
    digest = CharField()
    created_at = DateTimeField(default=clock.now, index=True)


MODELS += [Fault, OptOut, WebhookReceipt]


class Question(BaseModel):
    """Something Fixline asked a tenant (or landlord) by SMS and waits for an answer to: a
    reply from that phone answers its newest open question (CONTRACT.md §9)."""

    kind = CharField()  # confirm (the visit time) | came (no-show check) | rate (after done)
    ticket = ForeignKey(Ticket, backref="questions", index=False, on_delete="CASCADE")
    appointment = ForeignKey(Appointment, null=True, backref="questions", on_delete="CASCADE")
    phone = CharField()
    role = CharField()  # tenant | landlord
    person_id = IntegerField(null=True)
    asked_at = DateTimeField(default=clock.now)
    closed_at = DateTimeField(null=True)  # answered, or overtaken by events
    answer = CharField(null=True)

    class Meta:
        indexes = ((("phone", "closed_at", "asked_at"), False), (("ticket", "kind"), False))


MODELS.append(Question)


class Quote(BaseModel):
    """A vendor's price for a job they hold (§11): approved at once within the property's
    limit, else asked of the landlord (APPROVE <id> / DENY <id>)."""

    ticket = ForeignKey(Ticket, backref="quotes", index=False, on_delete="CASCADE")
    appointment = ForeignKey(Appointment, null=True, on_delete="SET NULL")
    vendor = ForeignKey(Vendor, backref="quotes", on_delete="CASCADE")
    amount = DecimalField(max_digits=12, decimal_places=2)  # exact: never a float
    approval_limit = DecimalField(max_digits=12, decimal_places=2, null=True)  # the limit it met
    status = CharField()  # pending | approved | denied | replaced
    submitted_at = DateTimeField(default=clock.now)
    decided_at = DateTimeField(null=True)
    decided_by = CharField(null=True)  # an actor: auto, landlord:<id>, api

    class Meta:
        indexes = ((("ticket", "submitted_at"), False), (("status",), False))


MODELS.append(Quote)


class WebhookEndpoint(BaseModel):
    """A landlord's receiver of signed event POSTs (CONTRACT.md §12; app/hooks/)."""

    landlord = ForeignKey(Landlord, backref="webhook_endpoints", on_delete="CASCADE")
    url = TextField()
    secret = CharField()  # the HMAC key; shown once, in the 201 that created it
    events = JSONField(default=lambda: ["*"])  # event types to deliver, or ["*"]
    description = CharField(null=True)
    scan_from_id = IntegerField(default=0)  # events of the landlord up to this id are queued
    failing_since = DateTimeField(null=True)  # the first failure since the last success
    disabled_at = DateTimeField(null=True)  # after 24 hours of failures, or deleted
    created_at = DateTimeField(default=clock.now)


class WebhookDelivery(BaseModel):
    """One event for one endpoint: tried at next_attempt_at until a 2xx or retry_until."""

    endpoint = ForeignKey(WebhookEndpoint, backref="deliveries", index=False,
                          on_delete="CASCADE")
    event = ForeignKey(Event, on_delete="CASCADE")
    attempts = IntegerField(default=0)
    last_status = IntegerField(null=True)  # the last answer's HTTP status (null: none came)
    next_attempt_at = DateTimeField(null=True)  # the deadline the sweep acts on; null when done
    claimed_at = DateTimeField(null=True)  # a worker is sending it (a lease)
    retry_until = DateTimeField()  # 24 hours after it was queued (or redelivered)
    delivered_at = DateTimeField(null=True)
    gave_up_at = DateTimeField(null=True)
    created_at = DateTimeField(default=clock.now)

    class Meta:
        indexes = ((("endpoint", "event"), True), (("endpoint", "created_at"), False))


WebhookDelivery.add_index(
    WebhookDelivery.index(WebhookDelivery.next_attempt_at, name="webhook_delivery_due")
    .where(SQL("next_attempt_at IS NOT NULL"))
)


class WebhookAttempt(BaseModel):
    """One POST of a delivery: its HTTP status, how long it took, the answer's first bytes."""

    delivery = ForeignKey(WebhookDelivery, backref="attempt_rows", index=False,
                          on_delete="CASCADE")
    started_at = DateTimeField()
    status_code = IntegerField(null=True)  # null: no answer (timeout, refused, address rule)
    duration_ms = IntegerField()
    response_excerpt = TextField(default="")  # the first 500 bytes of the answer
    error = TextField(null=True)

    class Meta:
        indexes = ((("delivery", "started_at"), False),)


MODELS += [WebhookEndpoint, WebhookDelivery, WebhookAttempt]
