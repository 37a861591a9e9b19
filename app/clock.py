"""The one source of 'now': naive UTC datetimes, replaceable by a fake clock in tests."""

from __future__ import annotations

from datetime import UTC, datetime

_override: datetime | None = None


def now() -> datetime:
    """Current time as naive UTC (how every timestamp is stored)."""
    if _override is not None:
        return _override
    return datetime.now(UTC).replace(tzinfo=None)


def set_fake(moment: datetime | None) -> None:
    """Freeze the clock at moment (naive UTC); None restores the real clock."""
    global _override
    _override = moment


def isoformat(moment: datetime | None) -> str | None:
    """ISO 8601 with a Z suffix, for the API."""
    if moment is None:
        return None
    return moment.isoformat(timespec="milliseconds") + "Z"
