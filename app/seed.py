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
from app.models import Appointment, Landlord, Property, Tenant, Ticket, Vendor, VendorPhone

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
    ("County Drains", "+1234567898", ["plumbing"], "24/7", 1,
     {"service_areas": ["630"]}),  # works only in 630xx: out of area for every property
    ("Bright Spark Electric", "+1234567899", ["electrical"], "24/7", 1,
     {"insurance_lapsed_days": 10}),  # insurance lapsed 10 days before the demo was loaded
    ("Cool Air HVAC", "+1234567880", ["hvac"], "24/7", 1,
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
    of §10 (idempotent): one out of area, one whose insurance lapsed, one with a visit
    tomorrow afternoon."""
    now = clock.now()
    with transaction():
        for name, phone, specialties, hours, priority, extra in SHOWCASE_VENDORS:
            fields = {}
            if "service_areas" in extra:
                fields["service_areas"] = extra["service_areas"]
            if "insurance_lapsed_days" in extra:
                fields["insurance_expires_at"] = (now - timedelta(
                    days=extra["insurance_lapsed_days"])).date()
            vendor = _vendor(landlord, name, phone, specialties, hours, priority, **fields)
            if vendor is not None and "busy_tomorrow" in extra:
                _busy_tomorrow(landlord, vendor, *extra["busy_tomorrow"], now)


def _busy_tomorrow(landlord: Landlord, vendor: Vendor, start: int, end: int, now) -> None:
    """A booked hvac visit tomorrow from start to end o'clock at the third property."""
    prop = (Property.select().where(Property.landlord == landlord)
            .order_by(Property.id).limit(1).offset(2).first())
    tenant = Tenant.get(Tenant.property == prop)
    zone = ZoneInfo(prop.timezone)
    day = now.replace(tzinfo=UTC).astimezone(zone).date() + timedelta(days=1)

    def at(hour: int):
        return datetime.combine(day, time(hour), tzinfo=zone).astimezone(UTC).replace(
            tzinfo=None)

    ticket = Ticket.create(landlord=landlord, property=prop, tenant=tenant, status="scheduled",
                           category="hvac", severity="routine", window="tomorrow afternoon",
                           description="Annual furnace service.", created_at=now,
                           updated_at=now, booked_at=now)
    Appointment.create(ticket=ticket, vendor=vendor, starts_at=at(start), ends_at=at(end),
                       status="tentative", confirmation_method="manual", created_at=now)
