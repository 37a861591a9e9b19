"""SLA deadlines: when an unbooked ticket escalates to its landlord."""

from __future__ import annotations

from datetime import datetime, timedelta

from app.config import Config


def allowance(severity: str, config: Config) -> float:
    """Seconds an unbooked ticket may wait: emergencies idle, routine jobs unbooked."""
    return (config.emergency_idle_escalation if severity == "emergency"
            else config.routine_booking_escalation)


def escalation_deadline(severity: str, created_at: datetime, config: Config) -> datetime:
    """When a ticket reported at created_at escalates if still unbooked."""
    return created_at + timedelta(seconds=allowance(severity, config))
