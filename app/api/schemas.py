"""Request and response schemas of the JSON API (camelCase on the wire)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import cache
from typing import Annotated, Literal
from zoneinfo import available_timezones

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    PlainValidator,
    StringConstraints,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel

from app import money, phones
from app.booking import areas
from app.bounds import INT64_MAX
from app.clock import isoformat

Category = Literal["plumbing", "electrical", "hvac", "lock", "appliance", "pest", "general"]
Severity = Literal["emergency", "routine"]
TicketStatus = Literal["new", "dispatching", "scheduled", "escalated", "completed", "cancelled"]
PingMethod = Literal["sms", "voice"]
NotifyChannel = Literal["sms", "voice", "email"]
ConfirmationMethod = Literal["sms", "voice", "manual", "api"]
BookingMethod = Literal["sms", "voice", "manual", "api", "web"]  # web: the job page's Accept
AppointmentStatus = Literal["tentative", "confirmed", "completed", "cancelled", "no_show"]
QuoteStatus = Literal["pending", "approved", "denied", "replaced", "withdrawn"]
RecipientType = Literal["tenant", "landlord", "vendor"]
Language = Annotated[Literal["en", "es"], Field(
    description="what their texts (and a tenant's pages) are in: en English, es Spanish "
                "(CONTRACT §13)")]

# Whitespace as Python reads it (str.strip, re's \s), spelled out in app/phones.py: the patterns
# below go into the OpenAPI document, where \s would mean ECMAScript's slightly different set.
SPACE = phones.SPACE
PHONE_PATTERN = phones.PATTERN  # a first check only; app.phones.parse decides
PHONE_DESCRIPTION = (
    "A phone number. The pattern is only a first check: digits, with spaces, dots, dashes and "
    "parentheses between them, and + before an international number. The number is then parsed "
    "with libphonenumber -- one without + as a number of the server's DEFAULT_PHONE_REGION "
    "(default US) -- and refused (422, naming the field and why) unless its length is possible "
    "for its country; a local number without its area code is refused. Stored and answered in "
    "E.164 (+ and digits).")


@cache
def timezone_names() -> frozenset[str]:
    """The IANA time zone names this machine's tz database has; the only ones accepted."""
    return frozenset(available_timezones())


def valid_timezone(value: str) -> str:
    if value not in timezone_names():
        raise ValueError(f"unknown timezone {value!r}; use a name like America/Chicago")
    return value


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


def _not_blank(value: str) -> str:
    if not value:
        raise ValueError("must not be blank")
    return value


_EMAIL_PART = rf"[^@{SPACE}\x00]+"
EMAIL_PATTERN = rf"^[{SPACE}]*{_EMAIL_PART}@{_EMAIL_PART}\.{_EMAIL_PART}[{SPACE}]*$"
NO_NUL = r"^[^\x00]*$"
NOT_BLANK = rf"^[^\x00]*[^{SPACE}\x00][^\x00]*$"  # some character besides whitespace, no NUL


def text(max_length: int, *, required: bool = True):
    """A string of at most max_length characters as sent, stored with its ends stripped."""
    checks = [AfterValidator(_no_nul), AfterValidator(str.strip)]
    if required:
        checks.append(AfterValidator(_not_blank))
    return Annotated[str, StringConstraints(max_length=max_length), *checks,
                     Field(json_schema_extra={"pattern": NOT_BLANK if required else NO_NUL})]


Phone = Annotated[
    str, StringConstraints(max_length=phones.MAX_LENGTH), AfterValidator(phones.parse),
    Field(json_schema_extra={
        "pattern": PHONE_PATTERN,
        "description": PHONE_DESCRIPTION,
        "examples": ["+13145550100", "(314) 555-0100"],
    })]
Text = text(200)
LongText = text(5000, required=False)
Address = text(254)
Timezone = Annotated[
    str, AfterValidator(valid_timezone),
    WithJsonSchema({
        "type": "string", "enum": sorted(timezone_names()),
        "description": "An IANA time zone name from the server's tz database "
                       "(Python's zoneinfo.available_timezones()), like America/Chicago.",
    })]


def _whole(value):
    """JSON Schema counts 3.0 as an integer, so the API does too; 3.5 stays refused."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


# An id or any integer the database stores: 64 bits (CONTRACT.md §14); ids start at 1.
Id = Annotated[int, Field(ge=1, le=INT64_MAX), BeforeValidator(_whole)]
Priority = Annotated[int, Field(ge=1, le=100), BeforeValidator(_whole)]


def omittable(**constraints):
    """A field that may be left out (it then stays as it is) but, when sent, is not null."""
    return Field(default_factory=lambda: None, **constraints)  # a factory: no "default": null


def reference(what: str):
    """An id that must name one of the key's landlord's objects: else a 422 naming it."""
    return Field(description=f"the id of one of your {what}; another id is a 422 naming "
                             "this field")


# A page far enough that its offset (page - 1) * perPage would not fit 64 bits is refused.
MAX_PAGE = INT64_MAX // 100


def _to_naive_utc(value: datetime) -> datetime:
    if value.tzinfo is not None:
        try:
            value = value.astimezone(UTC).replace(tzinfo=None)
        except OverflowError:  # 0001-01-01T00:00+01:00 is before the first representable time
            raise ValueError("out of range") from None
    return value


def _iso_date(value):
    """A date written YYYY-MM-DD and nothing else (as JSON Schema's format "date" reads it)."""
    if not isinstance(value, str) or not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
        raise ValueError("must be a date written YYYY-MM-DD")
    return date.fromisoformat(value)  # its ValueError names an impossible day


IsoDate = Annotated[date, PlainValidator(_iso_date),
                    WithJsonSchema({"type": "string", "format": "date"})]
ServiceArea = Annotated[str, StringConstraints(max_length=areas.MAX_LENGTH,
                                               pattern=areas.PATTERN),
                        AfterValidator(areas.normalize)]
ServiceAreas = Annotated[list[ServiceArea], Field(max_length=areas.MAX_AREAS),
                         AfterValidator(areas.dedupe)]
SERVICE_AREAS = ("postal-code prefixes the vendor covers (631 covers 63130): letters, digits, "
                 "spaces and hyphens, stored trimmed and upper case, repeats dropped; [] means "
                 "anywhere")
VisitsPerDay = Annotated[int, Field(ge=1, le=50), BeforeValidator(_whole)]
MONEY = ("an amount of money: a JSON number or a numeric string ('250.50'), 0 to "
         "1,000,000,000, at most 2 decimals (more is a 422 naming the field); kept as an exact "
         "decimal, answered as a number")
# In: a JSON number or a numeric string, read as an exact Decimal (app.money); out: a number.
Money = Annotated[Decimal, PlainValidator(money.parse), WithJsonSchema({"anyOf": [
    {"type": "number", "minimum": 0, "maximum": int(money.MAX)},
    {"type": "string", "pattern": money.PATTERN}]})]
MoneyOut = Annotated[Decimal, PlainSerializer(money.as_json, return_type=float),
                     WithJsonSchema({"type": "number", "minimum": 0})]


# Stored as naive UTC; read with or without an offset (none means UTC); written with a Z.
Instant = Annotated[datetime, AfterValidator(_to_naive_utc),
                    PlainSerializer(isoformat, return_type=str)]


class Schema(BaseModel):
    """camelCase aliases on the wire, snake_case in Python."""

    # Patterns read as Python reads them, as the validators and the test generators do.
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True,
                              regex_engine="python-re")


# ---- requests -------------------------------------------------------------------------------

class TicketCreate(Schema):
    tenant_id: Id = reference("tenants, living at propertyId")
    property_id: Id = reference("properties")
    category: Category
    severity: Severity
    window: Text = Field(description="when someone can come, in the tenant's words: 'today "
                                     "2-5pm', 'any time'; a day it names more than a year "
                                     "away is a 422 saying so")
    notes: LongText | None = None
    description: LongText | None = None


class TicketListQuery(Schema):
    recent: bool = False
    status: TicketStatus | None = None
    page: int = Field(1, ge=1, le=MAX_PAGE)
    per_page: int = Field(20, ge=1, le=100)


def _ends_after_start(cls, value, info: ValidationInfo):
    starts_at = info.data.get("starts_at")
    if value is not None and starts_at is not None and value <= starts_at:
        raise ValueError("endsAt must be after startsAt")
    return value


class AppointmentCreate(Schema):
    ticket_id: Id = reference("tickets")
    vendor_id: Id = reference("vendors")
    starts_at: Instant = Field(description="ISO 8601; a time so late that the visit would end "
                                           "after the year 9999 is a 422")
    ends_at: Instant | None = Field(None, description="after startsAt, else a 422")
    confirmation_method: ConfirmationMethod

    _check_end = field_validator("ends_at")(_ends_after_start)


class AppointmentReschedule(Schema):
    starts_at: Instant = Field(description="the new start, ISO 8601 (an offset, or UTC without "
                                           "one); a time already past or more than a year "
                                           "ahead is a 422 naming this field")
    ends_at: Instant | None = Field(None, description="after startsAt and at most a year ahead, "
                                                      "else a 422; left out: the end of the "
                                                      "tenant's window, else two hours on")

    _check_end = field_validator("ends_at")(_ends_after_start)


class AppointmentCancel(Schema):
    reason: text(500, required=False) = omittable(
        description="why, told to the vendor and kept in the appointment.cancelled event; "
                    "optional, as is the whole body")


class PingCreate(Schema):
    ticket_id: Id = reference("tickets")
    method: PingMethod = "sms"


class TicketCancel(Schema):
    reason: text(500, required=False) = omittable(
        description="why, told to the tenant and the vendors involved, and kept in the "
                    "ticket.cancelled event; optional, as is the whole body")


class Recipient(Schema):
    """One of your tenants, vendors, or yourself; someone else, or nobody, is a 422."""

    type: RecipientType
    id: Id


class NotifyCreate(Schema):
    """Exactly one of `to` (a phone number, or an email address for channel email) or
    `recipient`. A phone number in `to` is read as every phone field is: parsed with
    libphonenumber in the server's DEFAULT_PHONE_REGION, refused unless possible, sent to in
    E.164."""

    model_config = ConfigDict(json_schema_extra={
        "oneOf": [{"required": ["to"]}, {"required": ["recipient"]}],
        "if": {"properties": {"channel": {"const": "email"}}, "required": ["channel"]},
        "then": {"properties": {"to": {"pattern": EMAIL_PATTERN}}},
        "else": {"properties": {"to": {"pattern": PHONE_PATTERN}}},
    })

    channel: NotifyChannel = "sms"  # declared first: `to` is read according to it
    to: Address = omittable()
    recipient: Recipient = omittable()
    message: text(1600)

    @field_validator("to")
    @classmethod
    def _address_fits_channel(cls, value, info: ValidationInfo):
        channel = info.data.get("channel")
        if value is None or channel is None:
            return value
        if channel != "email":
            return phones.parse(value)
        if not re.match(EMAIL_PATTERN, value):
            raise ValueError("'to' must be an email address for channel email")
        return value

    @model_validator(mode="after")
    def _one_destination(self):
        if (self.to is None) == (self.recipient is None):
            raise ValueError("give exactly one of 'to' or 'recipient'")
        return self


class VendorBase(Schema):
    notes: LongText | None = None
    max_visits_per_day: VisitsPerDay | None = Field(
        None, description="at most this many active visits a day (the property's day), 1-50; "
                          "null: no limit")
    insurance_expires_at: IsoDate | None = Field(
        None, description="the day the insurance on file expires (YYYY-MM-DD); after it the "
                          "vendor is not asked, and 30 and 7 days before it vendor and landlord "
                          "are told; null: none on file")

    @field_validator("hours", check_fields=False)
    @classmethod
    def _hours_parse(cls, value):
        if value is None:
            return value
        from app.booking.hours import parse_hours

        parse_hours(value)  # raises ValueError with a readable reason
        return value


HOURS = ("working hours as a person writes them: 'Mon-Fri 8AM-5PM', '9AM-6PM', '24/7'; "
         "hours that cannot be read are a 422 saying which part")


class VendorCreate(VendorBase):
    name: Text
    phones: list[Phone] = Field(min_length=1, max_length=5)
    specialties: list[Category] = Field(min_length=1)
    hours: Text = Field("24/7", description=HOURS)
    priority: Priority = 1
    active: bool = True
    preferred_channel: PingMethod = "sms"
    service_areas: ServiceAreas = Field(default_factory=list, description=SERVICE_AREAS)
    language: Language = "en"


class VendorUpdate(VendorBase):
    name: Text = omittable()
    phones: list[Phone] = omittable(min_length=1, max_length=5)
    specialties: list[Category] = omittable(min_length=1)
    hours: Text = omittable(description=HOURS)
    priority: Priority = omittable()
    active: bool = omittable()
    preferred_channel: PingMethod = omittable()
    service_areas: ServiceAreas = omittable(description=SERVICE_AREAS)
    language: Language = omittable()


class TenantCreate(Schema):
    name: Text
    phone: Annotated[Phone, Field(json_schema_extra={
        "description": PHONE_DESCRIPTION + " One that another tenant of that property already "
                                           "has is a 422 naming this field."})]
    property_id: Id = reference("properties")
    email: Annotated[str, StringConstraints(max_length=254, pattern=EMAIL_PATTERN),
                     AfterValidator(str.strip)] | None = None
    language: Language = "en"


POSTAL_CODE = r"^[A-Za-z0-9 -]*[A-Za-z0-9][A-Za-z0-9 -]*$"  # some letter or digit


class PropertyCreate(Schema):
    address: Text
    timezone: Timezone = "America/Chicago"
    postal_code: Annotated[str, StringConstraints(max_length=16, pattern=POSTAL_CODE),
                           AfterValidator(str.strip)] | None = Field(
        None, description="letters, digits, spaces and hyphens (63130, SW1A 1AA, 63130-1234); "
                          "shown to vendors on the job page")
    approval_limit: Money | None = Field(
        None, description=MONEY + "; a quote at or under it is approved at once; null: no limit")
    emergency_approval_limit: Money | None = Field(
        None, description=MONEY + "; the limit for emergencies instead of approvalLimit; null: "
                                  "approvalLimit applies")


class MessageQuery(Schema):
    to: text(254, required=False) | None = None
    ticket_id: Id | None = None
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
    postal_code: str | None
    approval_limit: MoneyOut | None
    emergency_approval_limit: MoneyOut | None
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
    language: str
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
    language: str
    service_areas: list[str]
    max_visits_per_day: int | None
    insurance_expires_at: date | None
    last_offered_at: Instant | None
    created_at: Instant


class ScorecardOut(Schema):
    period_days: int = Field(description="the figures cover this many days up to now")
    offers: int = Field(description="offers sent (sends that failed aside)")
    accepted: int
    declined: int
    timed_out: int
    acceptance_rate: float | None = Field(description="accepted / offers, 0 to 1; null "
                                                      "without offers")
    median_response_seconds: float | None = Field(description="median time from an offer to "
                                                              "its YES or NO; null without any")
    completed: int = Field(description="visits completed in the period")
    cancelled: int = Field(description="visits cancelled or handed back in the period")
    no_shows: int
    ratings: int = Field(description="tenants' 1-5 ratings given in the period")
    average_rating: float | None = Field(description="their mean; null without ratings")


class AppointmentOut(Schema):
    id: int
    ticket_id: int
    vendor_id: int
    vendor: VendorOut
    starts_at: Instant | None
    ends_at: Instant | None
    status: AppointmentStatus
    confirmation_method: BookingMethod
    created_at: Instant
    confirmed_at: Instant | None = Field(description="when the tenant confirmed the time")
    completed_at: Instant | None
    cancelled_at: Instant | None = Field(description="when it was cancelled, handed back or "
                                                     "found a no-show")
    rating: int | None = Field(description="the tenant's 1-5 after the visit")
    time_refused: bool = Field(description="the tenant said the time does not work (until a "
                                           "new time is set or they confirm)")


class AppointmentBooked(AppointmentOut):
    warnings: list[str] = Field(description="why the engine would not have asked this vendor "
                                            "(opted out, insurance lapsed, out of area, another "
                                            "trade, no phone); booked all the same")


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


class TicketQuote(Schema):
    """A quote as a ticket carries it (CONTRACT.md §11)."""

    id: int
    amount: MoneyOut
    status: QuoteStatus = Field(description="pending (the landlord is asked), approved (at "
                                            "once within the limit, or by the landlord), "
                                            "denied, replaced by a newer quote, or "
                                            "withdrawn (the vendor gave the job up, or the "
                                            "ticket was cancelled, before a decision)")
    submitted_at: Instant
    decided_at: Instant | None


class QuoteOut(Schema):
    id: int
    ticket_id: int
    vendor_id: int
    amount: MoneyOut
    status: QuoteStatus
    submitted_at: Instant
    decided_at: Instant | None


class TicketOut(Schema):
    id: int
    status: TicketStatus
    category: str
    severity: str
    window: str
    notes: str | None
    description: str | None
    tenant_id: Id
    property_id: Id
    created_at: Instant
    updated_at: Instant
    first_response_at: Instant | None
    booked_at: Instant | None
    escalated_at: Instant | None
    acknowledged_at: Instant | None = Field(
        description="when the landlord acknowledged an emergency's escalation (ACK by text, "
                    "1 on the alert call, or any action on the ticket); null until then")
    completed_at: Instant | None
    cancelled_at: Instant | None
    escalate_at: Instant | None
    escalation_reason: str | None
    tenant: TenantOut
    property: PropertyWithLandlord
    appointments: list[AppointmentOut]
    pings: list[PingOut]
    quotes: list[TicketQuote] = Field(description="the vendors' quotes, oldest first")


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
    segments: int | None = Field(
        description="SMS segments the body is sent as (GSM-7: 160, then 153 a part; UCS-2 "
                    "when any character is outside GSM-7: 70, then 67); null for calls and email")
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
