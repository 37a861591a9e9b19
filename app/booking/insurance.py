"""Vendor insurance (CONTRACT.md §10): 30 and 7 days before it expires, vendor and landlord are
told once each (a date set closer than that: at once); the next notice's moment is the vendor
row's insurance_notice_at.

Days are the landlord's: the zone of the landlord's first property (lowest id), or UTC when
they have none. A notice's moment is NOTICE_HOUR on that clock, OFFSETS_DAYS before the expiry
date; insurance has lapsed once that clock's date is after the expiry date.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from app import clock, events
from app.db import transaction
from app.messaging import outbound, templates
from app.models import Landlord, Property, Vendor
from app.prepared import Param, Prepared

OFFSETS_DAYS = (30, 7)  # notices this many days before the expiry date
NOTICE_HOUR = time(9)  # on the landlord's clock: a notice is not a text at midnight
SOON_DAYS = 30  # the vendors page marks insurance expiring within this many days
FIRST_ZONE = Prepared(lambda: Property.select(Property.timezone).where(
    Property.landlord == Param("landlord")).order_by(Property.id).limit(1))


def landlord_zone(landlord_id: int) -> ZoneInfo:
    """The landlord's clock: their first property's zone, UTC without a property."""
    name = FIRST_ZONE.scalar(landlord=landlord_id)
    return ZoneInfo(name) if name else ZoneInfo("UTC")


def today(zone: ZoneInfo, now: datetime | None = None) -> date:
    """The date on zone's clock at now (naive UTC; default the clock's)."""
    return (now or clock.now()).replace(tzinfo=UTC).astimezone(zone).date()


def moment(expires: date, days: int, zone: ZoneInfo) -> datetime | None:
    """When the notice `days` before expires is due (naive UTC); None before the calendar."""
    try:
        local = datetime.combine(expires - timedelta(days=days), NOTICE_HOUR, tzinfo=zone)
        return local.astimezone(UTC).replace(tzinfo=None)
    except OverflowError:
        return None


def next_notice(expires: date | None, after: datetime, zone: ZoneInfo) -> datetime | None:
    """The first notice moment of this expiry date that lies after `after` (None: none left)."""
    if expires is None:
        return None
    ahead = [at for at in (moment(expires, days, zone) for days in OFFSETS_DAYS)
             if at is not None and at > after]
    return min(ahead) if ahead else None


def arm(vendor: Vendor) -> None:
    """Set the vendor's next notice moment from its expiry date (unsaved). A date set closer
    than a notice's offset (in 10 days: past the 30-day moment) owes that notice now, so the
    moment armed is the latest one passed, already due; none once the date has passed."""
    expires, now = vendor.insurance_expires_at, clock.now()
    zone = landlord_zone(vendor.landlord_id)
    owed = [at for at in (moment(expires, days, zone) for days in OFFSETS_DAYS)
            if at is not None and at <= now] if expires is not None else []
    if owed and expires >= today(zone, now):
        vendor.insurance_notice_at = max(owed)
    else:
        vendor.insurance_notice_at = next_notice(expires, now, zone)


def standing(expires: date | None, on: date) -> str | None:
    """'lapsed' (the date has passed), 'soon' (within SOON_DAYS), or None (fine or unknown)."""
    if expires is None:
        return None
    if expires < on:
        return "lapsed"
    return "soon" if (expires - on).days <= SOON_DAYS else None


def notify(vendor_id: int) -> bool:
    """Send the vendor's due notice to vendor and landlord (the one nearest the expiry, when
    the sweep was late for both) and arm the next; True when one was sent. Each notice goes
    once: the deadline is claimed by a conditional update, and the messages carry dedupe
    keys on the vendor, the expiry date and the offset."""
    now = clock.now()
    with transaction():
        vendor = Vendor.find(vendor_id)
        if vendor is None or vendor.insurance_notice_at is None \
                or vendor.insurance_notice_at > now:
            return False
        zone = landlord_zone(vendor.landlord_id)
        expires, was = vendor.insurance_expires_at, vendor.insurance_notice_at
        moments = {days: moment(expires, days, zone) for days in OFFSETS_DAYS} if expires else {}
        due = [days for days, at in moments.items() if at is not None and was <= at <= now]
        claimed = (Vendor.update(insurance_notice_at=next_notice(expires, now, zone))
                   .where(Vendor.id == vendor.id, Vendor.insurance_notice_at == was)
                   .execute())
        if not claimed or not due or not vendor.active or expires < today(zone, now):
            return False
        _tell(vendor, Landlord.get_by_id(vendor.landlord_id), expires, min(due),
              (expires - today(zone, now)).days)
    return True


def _tell(vendor: Vendor, landlord: Landlord, expires: date, days: int, left: int) -> None:
    """The notice `days` before expiry, sent when `left` days remain (fewer after a late
    sweep): the texts and the event say what is true today."""
    key = f"insurance:{vendor.id}:{expires.isoformat()}:{days}"
    phone = next(iter(vendor.phones), None)
    if phone:
        outbound.queue(landlord=landlord.id, to=phone, recipient=("vendor", vendor.id),
                       body=templates.insurance_vendor(expires, landlord, lang=vendor.language),
                       dedupe_key=f"{key}:vendor")
    outbound.queue(landlord=landlord.id, to=landlord.phone, recipient=("landlord", landlord.id),
                   body=templates.insurance_landlord(vendor, expires, left),
                   dedupe_key=f"{key}:landlord")
    events.emit("vendor.insurance_expiring", landlord=landlord.id, vendorId=vendor.id,
                vendor=vendor.name, expiresAt=expires.isoformat(), daysLeft=left)
