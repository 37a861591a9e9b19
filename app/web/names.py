"""Names for the phone numbers in a message table: the landlord's own vendors and tenants only.

One query for vendors and one for tenants per page, whatever the number of rows. A number that
another landlord's person shares is named only as this landlord knows it (never by the other's).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from app.models import Landlord, Message, Property, Tenant, Vendor, VendorPhone


@dataclass(frozen=True)
class Known:
    """Who a number is to this landlord."""

    name: str
    role: str  # vendor, tenant or you


def known_numbers(landlord: Landlord, numbers: Iterable[str | None]) -> dict[str, Known]:
    """Each number that is one of the landlord's vendors or tenants (or the landlord), named.

    A number that is both a vendor and a tenant reads as the vendor, as replies do
    (app/messaging/senders.Sender.role).
    """
    wanted = {n for n in numbers if n}
    if not wanted:
        return {}
    found: dict[str, Known] = {}
    for number, name in (Tenant.select(Tenant.phone, Tenant.name)
                         .join(Property)
                         .where(Property.landlord == landlord, Tenant.phone.in_(wanted))
                         .order_by(Tenant.id.desc())
                         .tuples()):
        found[number] = Known(name, "tenant")  # the earliest tenant wins
    if landlord.phone in wanted:
        found[landlord.phone] = Known("You", "you")
    for number, name in (VendorPhone.select(VendorPhone.number, Vendor.name)
                         .join(Vendor)
                         .where(Vendor.landlord == landlord, VendorPhone.number.in_(wanted))
                         .order_by(Vendor.id.desc())
                         .tuples()):
        found[number] = Known(name, "vendor")
    return found


def of_messages(landlord: Landlord, messages: Iterable[Message]) -> dict[str, Known]:
    """known_numbers() for every To and From in a page of messages."""
    numbers = set()
    for message in messages:
        numbers.update((message.to_number, message.from_number))
    return known_numbers(landlord, numbers)
