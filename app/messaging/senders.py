"""Who a phone number is (vendor, tenant, landlord — of any landlord), and which landlords may
see a message to or from it."""

from __future__ import annotations

from dataclasses import dataclass

from app.models import Landlord, Message, Property, Tenant, Vendor, VendorPhone


@dataclass(frozen=True)
class Sender:
    """Everyone a number belongs to; a number may be shared across landlords."""

    vendors: list[Vendor]
    tenants: list[Tenant]
    landlords: list[Landlord]

    @property
    def role(self) -> str:
        """How to talk to the number: vendor, landlord, tenant or unknown (in that order)."""
        for role in ("vendors", "landlords", "tenants"):
            if getattr(self, role):
                return role[:-1]
        return "unknown"

    @property
    def language(self) -> str:
        """What to answer in: the language of the vendor or tenant the answer is for (CONTRACT
        §13); landlords and unknown numbers read English."""
        people = {"vendor": self.vendors, "tenant": self.tenants}.get(self.role) or [None]
        return getattr(people[0], "language", None) or "en"

    @property
    def landlord_ids(self) -> set[int]:
        """Every landlord who has this number among their people (or as their own)."""
        return ({v.landlord_id for v in self.vendors}
                | {t.property.landlord_id for t in self.tenants}
                | {landlord.id for landlord in self.landlords})

    @property
    def only_landlord(self) -> int | None:
        """The landlord a message with no offer or ticket belongs to, when only one has it;
        None when several landlords share the number (each sees it: visible_to) or nobody."""
        ids = self.landlord_ids
        return next(iter(ids)) if len(ids) == 1 else None


def identify(number: str, vendors: list[Vendor]) -> Sender:
    """Everyone at number; vendors is what answers.vendors_with() already found."""
    tenants = list(Tenant.select(Tenant, Property).join(Property)
                   .where(Tenant.phone == number))
    landlords = list(Landlord.select().where(Landlord.phone == number))
    return Sender(vendors=vendors, tenants=tenants, landlords=landlords)


def visible_to(landlord: Landlord | int):
    """Which messages a landlord sees: their own, and those of no single landlord (a text
    from a number several landlords share, and the answer to it) at one of their numbers."""
    vendor_numbers = (VendorPhone.select(VendorPhone.number).join(Vendor)
                      .where(Vendor.landlord == landlord))
    tenant_numbers = Tenant.select(Tenant.phone).join(Property).where(Property.landlord == landlord)
    shared = Message.landlord.is_null() & (
        Message.from_number.in_(vendor_numbers) | Message.from_number.in_(tenant_numbers)
        | Message.to_number.in_(vendor_numbers) | Message.to_number.in_(tenant_numbers))
    return (Message.landlord == landlord) | shared
