"""The opt-out register: a phone number that texted STOP gets nothing until it texts START,
whoever it belongs to (CONTRACT.md §14). outbound.queue consults it for every message."""

from __future__ import annotations

from peewee import IntegrityError

from app.db import transaction
from app.models import OptOut, Vendor, VendorPhone
from app.prepared import Param, Prepared

PHONE_CHANNELS = ("sms", "voice")
REGISTERED = Prepared(lambda: OptOut.select(OptOut.id).where(OptOut.phone == Param("phone"))
                      .limit(1))


class OptedOut(Exception):
    """The number has opted out: nothing may be sent to it."""

    def __init__(self, phone: str):
        super().__init__(f"{phone} has opted out of Fixline messages (it can text START)")
        self.phone = phone


def opted_out(phone: str | None) -> bool:
    """Whether this number texted STOP and has not texted START since."""
    return bool(phone) and REGISTERED.scalar(phone=phone) is not None


def check(to: str, channel: str) -> None:
    """Raise OptedOut when a phone message to this number must not go out."""
    if channel in PHONE_CHANNELS and opted_out(to):
        raise OptedOut(to)


def stop(phone: str, word: str) -> None:
    """Record an opt-out; every vendor record at that number is opted out too (any landlord)."""
    with transaction():
        if not opted_out(phone):
            try:
                with transaction():
                    OptOut.create(phone=phone, word=word[:20])
            except IntegrityError:
                pass  # the same STOP twice at once
        _mark_vendors(phone, True)


def start(phone: str) -> None:
    """Undo an opt-out: the number gets messages again."""
    with transaction():
        OptOut.delete().where(OptOut.phone == phone).execute()
        _mark_vendors(phone, False)


def _mark_vendors(phone: str, value: bool) -> None:
    (Vendor.update(opted_out=value)
     .where(Vendor.id.in_(VendorPhone.select(VendorPhone.vendor)
                          .where(VendorPhone.number == phone)))
     .execute())
