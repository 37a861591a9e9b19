"""Who lives where: a tenant is one phone number at one property, never two rows for it."""

from __future__ import annotations

import hashlib
import secrets

from app import clock, events
from app.db import lock_row, transaction
from app.models import Event, Landlord, Property, Tenant

SAME_PHONE = "A tenant with this phone number already lives at that property."
LINK_REPLACED = "tenant.link_replaced"


class DuplicateTenant(ValueError):
    """Another tenant of the same property already has this phone number."""

    def __init__(self, existing: Tenant):
        super().__init__(SAME_PHONE)
        self.existing = existing


def new_intake_token() -> str:
    return secrets.token_urlsafe(24)


def _refuse_same_phone(prop: Property, phone: str, other_than: int | None = None) -> None:
    query = Tenant.select().where(Tenant.property == prop, Tenant.phone == phone)
    if other_than is not None:
        query = query.where(Tenant.id != other_than)
    if (existing := query.first()) is not None:
        raise DuplicateTenant(existing)


def add_tenant(prop: Property, *, name: str, phone: str, email: str | None,
               language: str = "en") -> Tenant:
    """A new tenant with a fresh intake link; DuplicateTenant if the phone is taken there."""
    with transaction():
        lock_row(Property, prop.id)
        _refuse_same_phone(prop, phone)
        return Tenant.create(property=prop, name=name, phone=phone, email=email,
                             language=language, intake_token=new_intake_token(),
                             created_at=clock.now())


def change_tenant(tenant: Tenant, prop: Property, *, name: str, phone: str,
                  email: str | None, language: str = "en") -> None:
    """New details (the intake link stays); DuplicateTenant if the phone is taken there."""
    with transaction():
        lock_row(Property, prop.id)
        _refuse_same_phone(prop, phone, other_than=tenant.id)
        (Tenant.update(property=prop, name=name, phone=phone, email=email, language=language)
         .where(Tenant.id == tenant.id).execute())


def _digest(token: str) -> str:
    """What the audit trail keeps of a replaced link: never the link itself."""
    return hashlib.sha256(token.encode()).hexdigest()


def replace_intake_link(tenant: Tenant, actor: str) -> None:
    """Give the tenant a new intake link; the old one stops working at once.

    The event remembers a digest of the old link, so that whoever opens it is told to ask
    the landlord for the new one.
    """
    with transaction():
        lock_row(Tenant, tenant.id)
        old = Tenant.select(Tenant.intake_token).where(Tenant.id == tenant.id).scalar()
        Tenant.update(intake_token=new_intake_token()).where(Tenant.id == tenant.id).execute()
        if old:
            events.emit(LINK_REPLACED, landlord=tenant.property.landlord_id, actor=actor,
                        tenantId=tenant.id, oldLink=_digest(old))


def replaced_by(token: str) -> Landlord | None:
    """The landlord who replaced this intake link, when it is a replaced one."""
    if not token or len(token) > 200:
        return None
    event = (Event.select()
             .where(Event.ticket.is_null(),
                    Event.type == LINK_REPLACED,
                    Event.data.coerce(False).contains(_digest(token)))
             .order_by(Event.id.desc())
             .first())
    return event.landlord if event is not None and event.landlord_id else None
