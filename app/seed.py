"""The demo data of CONTRACT.md §4, loaded idempotently."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import click
from flask import current_app, has_app_context
from werkzeug.security import generate_password_hash

from app import clock
from app.booking.hours import parse_hours
from app.db import transaction
from app.models import (
    ACTIVE_APPOINTMENT_STATUSES,
    Appointment,
    Landlord,
    Property,
    Tenant,
    Ticket,
    Vendor,
    VendorPhone,
)

DEMO_EMAIL = "john.smith@example.com"
DEMO_PASSWORD = "fixline-demo"

PROPERTIES = [
    # (address, tenant name, tenant phone)
    ("123 Main Street Apt 1A", "Alice Johnson", "+1234567891"),
    ("456 Oak Avenue Unit 2B", "Bob Williams", "+1234567892"),
    ("7304 Lindell Blvd Unit 1B", "Austin Perez", "+13145606377"),
]
# Issue 11's rules, shown on the demo (added to §4's set): postal codes for service areas, and
# an approval limit (emergencies may spend more) on the first property.
POSTAL_CODES = {"123 Main Street Apt 1A": "63101", "456 Oak Avenue Unit 2B": "63108",
                "7304 Lindell Blvd Unit 1B": "63130"}
LIMITS = {"123 Main Street Apt 1A": (Decimal("250.00"), Decimal("500.00"))}

VENDORS = [
    # (name, phone, specialties, hours, priority)
    ("Acme Plumbing", "+1234567893", ["plumbing"], "9AM-6PM", 1),
    ("Quick Fix Electrical", "+1234567894", ["electrical"], "8AM-5PM", 1),
    ("HVAC Solutions", "+1234567895", ["hvac"], "7AM-7PM", 2),
    ("Lock & Key Pro", "+1234567896", ["lock"], "9AM-5PM", 3),
    ("Emergency Handyman", "+1234567897", ["plumbing", "electrical", "hvac", "lock"], "24/7", 1),
]
# More vendors, each showing one rule of §10 (never asked, or asked last, and the ticket page's
# "who was considered" says why): (name, phone, specialties, hours, priority, extra fields).
SHOWCASE_VENDORS = [
    ("County Drains", "+13145550198", ["plumbing"], "24/7", 1,
     {"service_areas": ["630"]}),  # works only in 630xx: out of area for every property
    ("Bright Spark Electric", "+13145550199", ["electrical"], "24/7", 1,
     {"insurance_lapsed_days": 10}),  # insurance lapsed 10 days before the demo was loaded
    ("Cool Air HVAC", "+13145550180", ["hvac"], "24/7", 1,
     {"busy_tomorrow": (13, 17)}),  # a visit tomorrow 1-5pm: not asked for jobs then
]


class NoDemoInProduction(click.ClickException):
    """FIXLINE_ENV=production never loads the demo data (CONTRACT.md §14)."""


def load() -> Landlord:
    """Create whatever of the demo data is missing; running it twice changes nothing."""
    if has_app_context() and current_app.extensions["fixline"].production:
        raise NoDemoInProduction("FIXLINE_ENV=production never loads the demo data, whose "
                                 "password is published; add landlords with `landlord create`")
    with transaction():
        landlord, created = Landlord.get_or_create(
            email=DEMO_EMAIL, defaults={"name": "John Smith", "phone": "+1234567890"}
        )
        if created or not landlord.password_hash:
            landlord.password_hash = generate_password_hash(DEMO_PASSWORD)
            landlord.save()
        for address, tenant_name, tenant_phone in PROPERTIES:
            prop, _ = Property.get_or_create(
                landlord=landlord, address=address, defaults={"timezone": "America/Chicago"}
            )
            tenants = Tenant.select().where(Tenant.property == prop, Tenant.name == tenant_name)
            if not tenants.exists():
                Tenant.create(property=prop, name=tenant_name, phone=tenant_phone,
                              intake_token=secrets.token_urlsafe(24))
            if prop.postal_code is None and address in POSTAL_CODES:
                limit, emergency = LIMITS.get(address, (None, None))
                (Property.update(postal_code=POSTAL_CODES[address], approval_limit=limit,
                                 emergency_approval_limit=emergency)
                 .where(Property.id == prop.id).execute())
        for name, phone, specialties, hours, priority in VENDORS:
            _vendor(landlord, name, phone, specialties, hours, priority)
    return landlord


def _vendor(landlord: Landlord, name: str, phone: str, specialties: list[str], hours: str,
            priority: int, **fields) -> Vendor | None:
    """Create the vendor unless the landlord has one of that name; the new one, else None."""
    if Vendor.select().where(Vendor.landlord == landlord, Vendor.name == name).exists():
        return None
    vendor = Vendor.create(landlord=landlord, name=name, specialties=specialties, hours=hours,
                           schedule=parse_hours(hours), priority=priority, **fields)
    VendorPhone.create(vendor=vendor, number=phone, position=0)
    return vendor


def showcase(landlord: Landlord) -> None:
    """`make run`'s extra demo vendors (`flask seed` keeps to §4's set), each showing a rule
    of §10 (idempotent): one out of area, one whose insurance lapsed (a date 10 days before
    the first load, so lapsed ever after), one with a visit tomorrow afternoon. `make run`
    keeps its database, so each load moves that visit to tomorrow again once it is no longer
    ahead of tomorrow's slot (SHOWCASE_VISIT)."""
    now = clock.now()
    with transaction():
        for name, phone, specialties, hours, priority, extra in SHOWCASE_VENDORS:
            fields = {}
            if "service_areas" in extra:
                fields["service_areas"] = extra["service_areas"]
            if "insurance_lapsed_days" in extra:
                fields["insurance_expires_at"] = (now - timedelta(
                    days=extra["insurance_lapsed_days"])).date()
            _vendor(landlord, name, phone, specialties, hours, priority, **fields)
            if "busy_tomorrow" in extra:
                vendor = Vendor.get(Vendor.landlord == landlord, Vendor.name == name)
                _busy_tomorrow(landlord, vendor, *extra["busy_tomorrow"], now)


# The showcase's own visit is told from every other by its ticket's description (with the
# vendor, landlord and property): nothing else of the demo, or of a user, is ever moved.
SHOWCASE_VISIT = "Annual furnace service."
SHOWCASE_ADDRESS = PROPERTIES[2][0]  # the busy visit's property


def busy_slot(prop: Property, start: int, end: int, now) -> tuple[datetime, datetime]:
    """Tomorrow from start to end o'clock in the property's zone, as naive UTC."""
    zone = ZoneInfo(prop.timezone)
    day = now.replace(tzinfo=UTC).astimezone(zone).date() + timedelta(days=1)
    return tuple(datetime.combine(day, time(hour), tzinfo=zone).astimezone(UTC)
                 .replace(tzinfo=None) for hour in (start, end))


def _busy_tomorrow(landlord: Landlord, vendor: Vendor, start: int, end: int, now) -> None:
    """The vendor's booked hvac visit tomorrow from start to end o'clock at the third property:
    created when the showcase has no active one, moved there when its one starts earlier (a
    later day's load), left alone when it is already there or later."""
    prop = Property.get_or_none(Property.landlord == landlord, Property.address == SHOWCASE_ADDRESS)
    tenant = prop and Tenant.select().where(Tenant.property == prop).order_by(Tenant.id).first()
    if tenant is None:  # the demo property or its tenant was removed: nothing to show it on
        return
    starts_at, ends_at = busy_slot(prop, start, end, now)
    visit = (Appointment.select().join(Ticket)
             .where(Appointment.vendor == vendor, Ticket.landlord == landlord,
                    Ticket.property == prop, Ticket.description == SHOWCASE_VISIT,
                    Appointment.status.in_(ACTIVE_APPOINTMENT_STATUSES))
             .order_by(Appointment.id.desc()).first())
    if visit is None:
        ticket = Ticket.create(landlord=landlord, property=prop, tenant=tenant,
                               status="scheduled", category="hvac", severity="routine",
                               window="tomorrow afternoon", description=SHOWCASE_VISIT,
                               created_at=now, updated_at=now, booked_at=now)
        Appointment.create(ticket=ticket, vendor=vendor, starts_at=starts_at, ends_at=ends_at,
                           status="tentative", confirmation_method="manual", created_at=now)
    elif visit.starts_at is None or visit.starts_at < starts_at:
        # No reminder or no-show question for a demo visit (it never had any deadlines).
        (Appointment.update(starts_at=starts_at, ends_at=ends_at, remind_at=None,
                            no_show_at=None)
         .where(Appointment.id == visit.id).execute())
        Ticket.update(updated_at=now).where(Ticket.id == visit.ticket_id).execute()
