"""Vendors: create, change and retire a vendor together with its phone numbers."""

from __future__ import annotations

from typing import Any

from pydantic.alias_generators import to_camel

from app import clock
from app.booking import areas, insurance
from app.booking.hours import parse_hours
from app.db import transaction
from app.messaging import optouts
from app.models import Appointment, Landlord, Ping, Vendor, VendorPhone

# Columns a vendor cannot be without; an explicit null for one of them is refused.
REQUIRED = ("name", "phones", "specialties", "hours", "priority", "active", "preferred_channel",
            "service_areas", "language")
MAX_VISITS_PER_DAY = 50


class VendorError(ValueError):
    """A change that cannot be applied to a vendor; field is the JSON name of the culprit."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


def phones_of(vendors: list[Vendor]) -> dict[int, list[str]]:
    """Each vendor's numbers, first one first, in one query (a list of vendors reads them once,
    not once a vendor)."""
    numbers: dict[int, list[str]] = {}
    for vendor_id, number in (VendorPhone.select(VendorPhone.vendor, VendorPhone.number)
                              .where(VendorPhone.vendor.in_([v.id for v in vendors]))
                              .order_by(VendorPhone.vendor, VendorPhone.position).tuples()):
        numbers.setdefault(vendor_id, []).append(number)
    return numbers


def _set_phones(vendor: Vendor, phones: list[str]) -> None:
    """Replace the vendor's numbers, keeping the given order (the first one is pinged); a
    first number that texted STOP before (the opt-out register) leaves the vendor opted out."""
    VendorPhone.delete().where(VendorPhone.vendor == vendor).execute()
    for position, number in enumerate(dict.fromkeys(phones)):  # a repeated number counts once
        VendorPhone.create(vendor=vendor, number=number, position=position)
    if phones and not vendor.opted_out and optouts.opted_out(phones[0]):
        vendor.opted_out = True
        Vendor.update(opted_out=True).where(Vendor.id == vendor.id).execute()


def _apply(vendor: Vendor, changes: dict[str, Any]) -> list[str] | None:
    """Copy column changes onto the row; return the new phone list, if any. A new insurance
    date re-arms its notices (app.booking.insurance)."""
    for name in REQUIRED:
        if name in changes and changes[name] is None:
            raise VendorError(to_camel(name), "may not be null")
    phones = changes.pop("phones", None)
    if "hours" in changes:
        try:
            vendor.schedule = parse_hours(changes["hours"])
        except ValueError as exc:
            raise VendorError("hours", str(exc)) from None
    if "service_areas" in changes:
        try:
            changes["service_areas"] = areas.parse(changes["service_areas"])
        except ValueError as exc:
            raise VendorError("serviceAreas", str(exc)) from None
    limit = changes.get("max_visits_per_day")
    if limit is not None and not 1 <= limit <= MAX_VISITS_PER_DAY:
        raise VendorError("maxVisitsPerDay", f"must be from 1 to {MAX_VISITS_PER_DAY}")
    renewed = ("insurance_expires_at" in changes
               and (vendor.id is None
                    or changes["insurance_expires_at"] != vendor.insurance_expires_at))
    for name, value in changes.items():
        setattr(vendor, name, value)
    if renewed:
        insurance.arm(vendor)
    return phones


def create_vendor(landlord: Landlord, fields: dict[str, Any]) -> Vendor:
    """A new vendor of landlord with its phones, in one transaction."""
    changes = dict(fields)
    changes.setdefault("hours", "24/7")
    now = clock.now()
    vendor = Vendor(landlord=landlord, created_at=now, updated_at=now)
    phones = _apply(vendor, changes)
    with transaction():
        vendor.save()
        _set_phones(vendor, phones or [])
    return vendor


def update_vendor(vendor: Vendor, fields: dict[str, Any]) -> Vendor:
    """Apply the given fields only (a partial update), phones included, in one transaction."""
    changes = dict(fields)
    phones = _apply(vendor, changes)
    vendor.updated_at = clock.now()
    with transaction():
        vendor.save()
        if phones is not None:
            _set_phones(vendor, phones)
    return vendor


def has_history(vendor: Vendor) -> bool:
    """Whether pings or appointments refer to the vendor (their history must stay readable)."""
    return (Ping.select().where(Ping.vendor == vendor).exists()
            or Appointment.select().where(Appointment.vendor == vendor).exists())


def retire_vendor(vendor: Vendor) -> bool:
    """Deactivate a vendor with history, delete one without; True when the row was deleted."""
    with transaction():
        if has_history(vendor):
            (Vendor.update(active=False, updated_at=clock.now())
             .where(Vendor.id == vendor.id)
             .execute())
            vendor.active = False
            return False
        vendor.delete_instance(recursive=True)
    return True
