"""Request and response schemas of the JSON API (camelCase on the wire)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel

from app.clock import isoformat

Category = Literal["plumbing", "electrical", "hvac", "lock", "appliance", "pest", "general"]
Severity = Literal["emergency", "routine"]
TicketStatus = Literal["new", "dispatching", "scheduled", "escalated", "completed", "cancelled"]
PingMethod = Literal["sms", "voice"]
NotifyChannel = Literal["sms", "voice", "email"]
ConfirmationMethod = Literal["sms", "voice", "manual", "api"]
RecipientType = Literal["tenant", "landlord", "vendor"]

PHONE_RE = re.compile(r"^\+?[1-9]\d{6,14}$")


def normalize_phone(value: str) -> str:
    """E.164 (+ and digits) from common ways of writing a number; 10 bare digits are US/Canada."""
    cleaned = re.sub(r"[\s().-]", "", value)
    if not PHONE_RE.match(cleaned):
        raise ValueError("not a phone number; use international form like +13145550100")
    if cleaned.startswith("+"):
        return cleaned
    if len(cleaned) == 10:  # (314) 555-0100: a North American number without its country code
        return "+1" + cleaned
    return "+" + cleaned


def valid_timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown timezone {value!r}; use a name like America/Chicago") from None
    return value


Phone = Annotated[str, StringConstraints(strip_whitespace=True, max_length=32),
                  AfterValidator(normalize_phone)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
LongText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=5000)]
Timezone = Annotated[str, AfterValidator(valid_timezone)]
Address = Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=254)]


def _to_naive_utc(value: datetime) -> datetime:
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value


# Stored as naive UTC; read with or without an offset (none means UTC); written with a Z.
Instant = Annotated[datetime, AfterValidator(_to_naive_utc),
                    PlainSerializer(isoformat, return_type=str)]


class Schema(BaseModel):
    """camelCase aliases on the wire, snake_case in Python."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)


# ---- requests -------------------------------------------------------------------------------

class TicketCreate(Schema):
    tenant_id: int
    property_id: int
    category: Category
    severity: Severity
    window: Text
    notes: LongText | None = None
    description: LongText | None = None


class TicketListQuery(Schema):
    recent: bool = False
    status: TicketStatus | None = None
    page: int = Field(1, ge=1)
    per_page: int = Field(20, ge=1, le=100)


class AppointmentCreate(Schema):
    ticket_id: int
    vendor_id: int
    starts_at: Instant
    ends_at: Instant | None = None
    confirmation_method: ConfirmationMethod

    @field_validator("ends_at")
    @classmethod
    def _ends_after_start(cls, value, info: ValidationInfo):
        starts_at = info.data.get("starts_at")
        if value is not None and starts_at is not None and value <= starts_at:
            raise ValueError("endsAt must be after startsAt")
        return value


class PingCreate(Schema):
    ticket_id: int
    method: PingMethod = "sms"


class Recipient(Schema):
    type: RecipientType
    id: int


class NotifyCreate(Schema):
    channel: NotifyChannel = "sms"  # declared first: `to` is read according to it
    to: Address | None = None
    recipient: Recipient | None = None
    message: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1600)]

    @field_validator("to")
    @classmethod
    def _address_fits_channel(cls, value, info: ValidationInfo):
        channel = info.data.get("channel")
        if value is None or channel is None:
            return value
        if channel != "email":
            return normalize_phone(value)
        if not re.match(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", value):
            raise ValueError("'to' must be an email address for channel email")
        return value

    @model_validator(mode="after")
    def _one_destination(self):
        if (self.to is None) == (self.recipient is None):
            raise ValueError("give exactly one of 'to' or 'recipient'")
        return self


class VendorBase(Schema):
    notes: LongText | None = None

    @field_validator("hours", check_fields=False)
    @classmethod
    def _hours_parse(cls, value):
        if value is None:
            return value
        from app.booking.hours import parse_hours

        parse_hours(value)  # raises ValueError with a readable reason
        return value


class VendorCreate(VendorBase):
    name: Text
    phones: list[Phone] = Field(min_length=1, max_length=5)
    specialties: list[Category] = Field(min_length=1)
    hours: Text = "24/7"
    priority: int = Field(1, ge=1, le=100)
    active: bool = True
    preferred_channel: PingMethod = "sms"


class VendorUpdate(VendorBase):
    name: Text | None = None
    phones: list[Phone] | None = Field(None, min_length=1, max_length=5)
    specialties: list[Category] | None = Field(None, min_length=1)
    hours: Text | None = None
    priority: int | None = Field(None, ge=1, le=100)
    active: bool | None = None
    preferred_channel: PingMethod | None = None


class TenantCreate(Schema):
    name: Text
    phone: Phone
    property_id: int
    email: Annotated[str, StringConstraints(strip_whitespace=True, max_length=254,
                                            pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")] | None = None


class PropertyCreate(Schema):
    address: Text
    timezone: Timezone = "America/Chicago"


class MessageQuery(Schema):
    to: str | None = None
    ticket_id: int | None = None
    limit: int = Field(100, ge=1, le=500)


# ---- responses ------------------------------------------------------------------------------

class LandlordOut(Schema):
    id: int
    name: str
    email: str
    phone: str


class PropertyOut(Schema):
    id: int
    address: str
    timezone: str
    landlord_id: int
    created_at: Instant


class PropertyWithLandlord(PropertyOut):
    landlord: LandlordOut


class TenantOut(Schema):
    id: int
    name: str
    phone: str
    email: str | None
    property_id: int
    intake_url: str
    created_at: Instant


class VendorOut(Schema):
    id: int
    name: str
    phones: list[str]
    specialties: list[str]
    hours: str
    priority: int
    notes: str | None
    active: bool
    opted_out: bool
    preferred_channel: str
    last_offered_at: Instant | None
    created_at: Instant


class AppointmentOut(Schema):
    id: int
    ticket_id: int
    vendor_id: int
    vendor: VendorOut
    starts_at: Instant | None
    ends_at: Instant | None
    status: str
    confirmation_method: str
    created_at: Instant


class PingOut(Schema):
    id: int
    vendor_id: int
    vendor_name: str
    channel: str
    code: str
    sent_at: Instant
    expires_at: Instant
    answered_at: Instant | None
    outcome: str


class TicketOut(Schema):
    id: int
    status: TicketStatus
    category: str
    severity: str
    window: str
    notes: str | None
    description: str | None
    tenant_id: int
    property_id: int
    created_at: Instant
    updated_at: Instant
    first_response_at: Instant | None
    booked_at: Instant | None
    escalated_at: Instant | None
    completed_at: Instant | None
    cancelled_at: Instant | None
    escalate_at: Instant | None
    escalation_reason: str | None
    tenant: TenantOut
    property: PropertyWithLandlord
    appointments: list[AppointmentOut]
    pings: list[PingOut]


class TicketPage(Schema):
    items: list[TicketOut]
    page: int
    per_page: int
    total: int


class TimelineEntry(Schema):
    at: Instant
    type: str
    actor: str
    summary: str
    data: dict


class PingSent(Schema):
    id: int
    status: str
    sent_at: Instant
    expires_at: Instant
    code: str
    channel: str
    message_id: int


class Accepted(Schema):
    id: int
    status: str


class MessageOut(Schema):
    id: int
    direction: str
    channel: str
    to: str
    from_: str | None = Field(alias="from")
    body: str
    status: str
    provider_id: str | None
    ticket_id: int | None
    created_at: Instant


class Percentiles(Schema):
    p50: float | None
    p90: float | None
    max: float | None
    count: int


class TicketCounts(Schema):
    by_status: dict[str, int]
    total: int


class MetricsOut(Schema):
    tickets: TicketCounts
    time_to_first_response: Percentiles
    time_to_book: Percentiles
