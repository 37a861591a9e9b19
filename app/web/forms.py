"""WTForms for the landlord pages: vendors, properties, tenants and a ticket's manual booking."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from flask_wtf import FlaskForm
from peewee import fn
from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    EmailField,
    Field,
    HiddenField,
    IntegerField,
    RadioField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    ValidationError,
    widgets,
)
from wtforms.validators import (
    DataRequired,
    Email,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    Regexp,
)

from app import money, phones
from app.api.schemas import POSTAL_CODE, valid_timezone
from app.booking import areas
from app.booking.hours import describe, parse_hours
from app.i18n import LANGUAGES
from app.models import CATEGORIES, Landlord, Property, Vendor, VendorPhone

MAX_PHONES = 5
CATEGORY_LABELS = {"hvac": "HVAC (heating and cooling)", "pest": "Pest control"}

LANGUAGE_CHOICES = [SelectChoice(code, name) for code, name in LANGUAGES.items()]


class CheckboxesField(SelectMultipleField):
    """A group of checkboxes, one per choice (rendered as a fieldset by the field macro)."""

    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


def strip(value):
    return value.strip() if isinstance(value, str) else value


def _phones(text: str) -> list[str]:
    """The numbers in a comma- or line-separated list, in E.164 (ValueError names the bad one)."""
    numbers = [phones.parse(part) for part in re.split(r"[,;\n]+", text or "") if part.strip()]
    return list(dict.fromkeys(numbers))


class MoneyField(StringField):
    """An amount typed as 250, 250.50 or $1,250.50; its data is an exact Decimal (None: empty)."""

    def _value(self) -> str:
        if self.raw_data:
            return self.raw_data[0]
        return "" if self.data is None else f"{money.exact(self.data):.2f}"

    def process_formdata(self, valuelist) -> None:
        self.data = None
        text = valuelist[0].strip() if valuelist else ""
        if text:
            try:
                self.data = money.parse_typed(text)
            except ValueError as exc:
                message = str(exc)
                raise ValueError(message if message[0].isupper()
                                 else f"The amount {message}.") from None


class PageForm(FlaskForm):
    """A form whose fields can be checked one at a time (inline validation on change)."""

    def check_field(self, name: str) -> Field | None:
        """Validate one field as the whole form would; None when the form has no such field."""
        field = self._fields.get(name)
        if field is None or name == "csrf_token":
            return None
        inline = getattr(self.__class__, f"validate_{name}", None)
        field.validate(self, [inline] if inline else [])
        return field


class VendorForm(PageForm):
    name = StringField("Name", filters=[strip], validators=[DataRequired(), Length(max=200)])
    phones = StringField("Phone numbers", filters=[strip], validators=[DataRequired()],
                         description="Separate numbers with commas; the first one is called. "
                                     "With area codes; one from another country with + and "
                                     "its country code.")
    specialties = CheckboxesField("Specialties",
                                  choices=[SelectChoice(c, CATEGORY_LABELS.get(c, c.capitalize()))
                                           for c in CATEGORIES],
                                  validators=[DataRequired("Pick at least one specialty.")])
    hours = StringField("Working hours", default="24/7", filters=[strip],
                        validators=[DataRequired(), Length(max=200)],
                        description="Like 'Mon-Fri 8AM-5PM', '9AM-6PM' or '24/7'.")
    priority = IntegerField("Priority", default=1,
                            validators=[InputRequired("Give a priority from 1 to 100."),
                                        NumberRange(1, 100)],
                            description="1 is asked first.")
    preferred_channel = RadioField("Reach them by", default="sms",
                                   choices=[SelectChoice("sms", "SMS"),
                                            SelectChoice("voice", "Phone call")])
    active = BooleanField("Active (offered jobs)", default=True)
    language = RadioField("Texts in", default="en", choices=LANGUAGE_CHOICES)
    service_areas = StringField("Service areas (optional)", filters=[strip],
                                description="Postal-code prefixes they cover, separated by "
                                            "commas, like 631, 63130. Empty: anywhere.")
    max_visits_per_day = IntegerField("Most visits a day (optional)",
                                      validators=[Optional(), NumberRange(1, 50)],
                                      description="From 1 to 50; at that many visits on a day "
                                                  "they are not asked for it. Empty: no limit.")
    insurance_expires_at = DateField("Insurance expires (optional)", validators=[Optional()],
                                     description="After this day they are not asked; you and "
                                                 "they are told 30 and 7 days before.")
    notes = TextAreaField("Notes", filters=[strip], validators=[Optional(), Length(max=5000)])

    def validate_phones(self, field: Field) -> None:
        try:
            numbers = _phones(field.data)
        except ValueError as exc:
            raise ValidationError(str(exc)) from None
        if not numbers:
            raise ValidationError("Give at least one phone number.")
        if len(numbers) > MAX_PHONES:
            raise ValidationError(f"At most {MAX_PHONES} phone numbers.")

    def validate_hours(self, field: Field) -> None:
        try:
            schedule = parse_hours(field.data)
        except ValueError as exc:
            raise ValidationError(str(exc)) from None
        field.description = f"Reads as: {describe(schedule)}."

    def validate_service_areas(self, field: Field) -> None:
        try:
            areas.parse(areas.split(field.data))
        except ValueError as exc:
            raise ValidationError(str(exc)[0].upper() + str(exc)[1:] + ".") from None

    def fields_for_vendor(self) -> dict:
        """The fields app.booking.vendors takes, from the validated form."""
        return dict(name=self.name.data, phones=_phones(self.phones.data),
                    specialties=list(self.specialties.data), hours=self.hours.data,
                    priority=self.priority.data, preferred_channel=self.preferred_channel.data,
                    active=self.active.data, notes=self.notes.data or None,
                    language=self.language.data,
                    service_areas=areas.split(self.service_areas.data),
                    max_visits_per_day=self.max_visits_per_day.data,
                    insurance_expires_at=self.insurance_expires_at.data)

    @classmethod
    def for_vendor(cls, vendor: Vendor) -> VendorForm:
        return cls(data=dict(name=vendor.name, phones=", ".join(vendor.phones),
                             specialties=vendor.specialties, hours=vendor.hours,
                             priority=vendor.priority, preferred_channel=vendor.preferred_channel,
                             active=vendor.active, notes=vendor.notes,
                             language=vendor.language,
                             service_areas=", ".join(vendor.service_areas or []),
                             max_visits_per_day=vendor.max_visits_per_day,
                             insurance_expires_at=vendor.insurance_expires_at))


class PropertyForm(PageForm):
    address = StringField("Address", filters=[strip],
                          validators=[DataRequired(), Length(min=3, max=254)],
                          render_kw={"autocomplete": "street-address"})
    timezone = StringField("Time zone", default="America/Chicago", filters=[strip],
                           validators=[DataRequired()],
                           render_kw={"list": "timezones", "autocomplete": "off"},
                           description="Vendor hours and times on tickets are read in it, "
                                       "like America/Chicago.")
    postal_code = StringField("Postal code (optional)", filters=[strip, lambda v: v or None],
                              validators=[Optional(), Length(max=16),
                                          Regexp(POSTAL_CODE, message="Use letters, digits, "
                                                 "spaces and hyphens, like 63130 or SW1A 1AA.")],
                              render_kw={"autocomplete": "postal-code"},
                              description="Vendors whose service areas cover it are asked.")
    approval_limit = MoneyField("Approval limit (optional)",
                                description="A quote at or under it is approved at once; "
                                            "over it you are asked. Empty: no limit.")
    emergency_approval_limit = MoneyField("Emergency approval limit (optional)",
                                          description="Used for emergencies instead, when "
                                                      "given: they may spend more before asking.")

    def __init__(self, *args, landlord: Landlord, current: Property | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.landlord, self.current = landlord, current

    def validate_address(self, field: Field) -> None:
        taken = (Property.select()
                 .where(Property.landlord == self.landlord,
                        fn.LOWER(Property.address) == (field.data or "").lower()))
        if self.current is not None:
            taken = taken.where(Property.id != self.current.id)
        if taken.exists():
            raise ValidationError("You already have a property at this address.")

    def validate_timezone(self, field: Field) -> None:
        try:
            valid_timezone(field.data)
        except ValueError as exc:
            raise ValidationError(str(exc)) from None


class TenantForm(PageForm):
    name = StringField("Name", filters=[strip], validators=[DataRequired(), Length(max=200)])
    phone = StringField("Phone", filters=[strip], validators=[DataRequired(), Length(max=32)],
                        description="With the area code; a number from another country "
                                    "with + and its country code.")
    email = EmailField("Email (optional)", filters=[strip, lambda v: v or None],
                       validators=[Optional(), Email(), Length(max=254)])
    property = SelectField("Property", coerce=int,
                           validators=[InputRequired("Pick the property they live at.")])
    language = RadioField("Texts and pages in", default="en", choices=LANGUAGE_CHOICES)

    def __init__(self, *args, landlord: Landlord, **kwargs):
        super().__init__(*args, **kwargs)
        self.property.choices = [SelectChoice(p.id, p.address) for p in (
            Property.select().where(Property.landlord == landlord).order_by(Property.address))]

    def validate_phone(self, field: Field) -> None:
        try:
            field.data = phones.parse(field.data or "")
        except ValueError as exc:
            raise ValidationError(str(exc)) from None


def _vendor_id(value) -> int | None:
    """A vendor choice's id; None for the placeholder (nothing chosen)."""
    return None if value in ("", None) else int(value)


def _vendor_choice(vendor: Vendor, phone: str | None, group: str) -> SelectChoice:
    label = " · ".join([vendor.name, phone or "no phone", vendor.hours])
    return SelectChoice(vendor.id, label, optgroup=group)


class AssignForm(PageForm):
    vendor = SelectField("Vendor", coerce=_vendor_id, validators=[InputRequired("Pick a vendor.")],
                         invalid_choice_message="Pick one of your active vendors.")
    starts_at = DateTimeLocalField("Starts at (optional)", format="%Y-%m-%dT%H:%M",
                                   validators=[Optional()])

    def __init__(self, *args, landlord: Landlord, timezone: str, category: str | None = None,
                 **kwargs):
        super().__init__(*args, **kwargs)
        self.timezone = timezone
        self.starts_at.description = f"Local time at the property ({timezone})."
        vendors = list(Vendor.select()
                       .where(Vendor.landlord == landlord, Vendor.active == True)  # noqa: E712
                       .order_by(Vendor.priority, Vendor.name))
        first_phones = {}
        for vendor_id, number in (VendorPhone.select(VendorPhone.vendor, VendorPhone.number)
                                  .where(VendorPhone.vendor.in_([v.id for v in vendors]))
                                  .order_by(VendorPhone.position.desc()).tuples()):
            first_phones[vendor_id] = number  # the lowest position wins
        matching = [v for v in vendors if category in v.specialties]
        others = [v for v in vendors if category not in v.specialties]
        match_group = f"For {category} jobs" if category else "Vendors"
        self.has_vendors = bool(vendors)
        self.vendor.choices = (
            [SelectChoice("", "Choose a vendor")]
            + [_vendor_choice(v, first_phones.get(v.id), match_group) for v in matching]
            + [_vendor_choice(v, first_phones.get(v.id), "Other vendors") for v in others])

    def starts_at_utc(self) -> datetime | None:
        """The start time as stored: naive UTC, read from the property's local time."""
        return local_to_utc(self.starts_at.data, self.timezone)


def local_to_utc(local: datetime | None, timezone: str) -> datetime | None:
    """A datetime-local input's value (the property's wall clock) as stored: naive UTC."""
    if local is None:
        return None
    aware = local.replace(tzinfo=ZoneInfo(timezone))
    return aware.astimezone(UTC).replace(tzinfo=None)


def utc_to_local(moment: datetime | None, timezone: str) -> datetime | None:
    """A stored (naive UTC) time as a datetime-local input shows it: the property's clock."""
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC).astimezone(ZoneInfo(timezone)).replace(tzinfo=None)


class RescheduleForm(PageForm):
    """The landlord sets or moves a visit's time (the property's local time)."""

    visit = HiddenField(id="visit_id")  # the visit the page showed: a stale page moves no other
    starts_at = DateTimeLocalField("New start", format="%Y-%m-%dT%H:%M", id="visit_starts_at",
                                   validators=[InputRequired("Give the new start time.")])
    ends_at = DateTimeLocalField("New end (optional)", format="%Y-%m-%dT%H:%M",
                                 id="visit_ends_at", validators=[Optional()])

    def __init__(self, *args, timezone: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.timezone = timezone
        self.starts_at.description = f"Local time at the property ({timezone})."
        self.ends_at.description = "Left empty: the end of the tenant's window, else two hours."

    def validate_ends_at(self, field: Field) -> None:
        if field.data is not None and self.starts_at.data is not None \
                and field.data <= self.starts_at.data:
            raise ValidationError("The visit must end after it starts.")

    @classmethod
    def for_visit(cls, visit, timezone: str) -> RescheduleForm:
        """The form showing a visit's current time, as the property's clock reads it."""
        return cls(timezone=timezone, formdata=None,
                   data={"visit": visit.id, "starts_at": utc_to_local(visit.starts_at, timezone),
                         "ends_at": utc_to_local(visit.ends_at, timezone)})

    def times_utc(self) -> tuple[datetime, datetime | None]:
        """(start, end or None) as stored: naive UTC."""
        return (local_to_utc(self.starts_at.data, self.timezone),
                local_to_utc(self.ends_at.data, self.timezone))
