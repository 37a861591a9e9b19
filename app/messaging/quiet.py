"""A landlord's quiet hours (CONTRACT.md §10): routine notices to a landlord wait out
LANDLORD_QUIET_HOURS in the property's time zone; an emergency's never wait."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from app.booking.hours import wall_instants
from app.config import Config

DEFAULT_ZONE = "UTC"  # a landlord with no property yet (insurance.landlord_zone's clock too)


def quiet_until(now: datetime, tz: str, span: tuple[int, int] | None) -> datetime | None:
    """When the quiet hours around now end (naive UTC), or None when now is not inside them."""
    if span is None:
        return None
    start, end = span
    local = now.replace(tzinfo=UTC).astimezone(ZoneInfo(tz))
    minute = local.hour * 60 + local.minute
    inside = start <= minute < end if start < end else minute >= start or minute < end
    if not inside:
        return None
    day = local.date() + timedelta(days=1 if start > end and minute >= start else 0)
    wall = datetime.combine(day, time(end // 60, end % 60))
    moment = now.replace(tzinfo=UTC)
    ends = [at for at in wall_instants(wall, ZoneInfo(tz)) if at > moment]
    return min(ends, default=moment).replace(tzinfo=None)


def hold(recipient_type: str | None, severity: str | None, tz: str | None, now: datetime,
         config: Config) -> datetime | None:
    """Until when a message must wait: a landlord's notice about anything but an emergency,
    inside the quiet hours of the property's zone (tz; the landlord's for a notice about no
    ticket); None to send it now."""
    if recipient_type != "landlord" or severity == "emergency":
        return None
    return quiet_until(now, tz or DEFAULT_ZONE, config.landlord_quiet_hours)
