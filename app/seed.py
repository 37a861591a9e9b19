"""The demo data of CONTRACT.md §4, loaded idempotently."""

from __future__ import annotations

import secrets

import click
from flask import current_app, has_app_context
from werkzeug.security import generate_password_hash

from app.booking.hours import parse_hours
from app.db import transaction
from app.models import Landlord, Property, Tenant, Vendor, VendorPhone

DEMO_EMAIL = "john.smith@example.com"
DEMO_PASSWORD = "fixline-demo"

PROPERTIES = [
    # (address, tenant name, tenant phone)
    ("123 Main Street Apt 1A", "Alice Johnson", "+1234567891"),
    ("456 Oak Avenue Unit 2B", "Bob Williams", "+1234567892"),
    ("7304 Lindell Blvd Unit 1B", "Austin Perez", "+13145606377"),
]

VENDORS = [
    # (name, phone, specialties, hours, priority)
    ("Acme Plumbing", "+1234567893", ["plumbing"], "9AM-6PM", 1),
    ("Quick Fix Electrical", "+1234567894", ["electrical"], "8AM-5PM", 1),
    ("HVAC Solutions", "+1234567895", ["hvac"], "7AM-7PM", 2),
    ("Lock & Key Pro", "+1234567896", ["lock"], "9AM-5PM", 3),
    ("Emergency Handyman", "+1234567897", ["plumbing", "electrical", "hvac", "lock"], "24/7", 1),
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
        for name, phone, specialties, hours, priority in VENDORS:
            if Vendor.select().where(Vendor.landlord == landlord, Vendor.name == name).exists():
                continue
            vendor = Vendor.create(landlord=landlord, name=name, specialties=specialties,
                                   hours=hours, schedule=parse_hours(hours), priority=priority)
            VendorPhone.create(vendor=vendor, number=phone, position=0)
    return landlord
