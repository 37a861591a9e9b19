"""SLA deadlines: when an unbooked ticket escalates to its landlord."""

from __future__ import annotations

from datetime import datetime, timedelta

from app.config import Config


def escalation_deadline(severity: str, created_at: datetime, config: Config) -> datetime:
    """Emergency tickets escalate when idle this long; routine ones when unbooked this long."""
    seconds = (config.emergency_idle_escalation if severity == "emergency"
               else config.routine_booking_escalation)
    return created_at + timedelta(seconds=seconds)
