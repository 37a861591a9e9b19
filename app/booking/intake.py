"""Intake: a tenant's report becomes a ticket and the event that starts dispatch."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from peewee import IntegrityError

from app import clock, events
from app.booking.sla import escalation_deadline
from app.booking.windows import window_problem
from app.config import Config
from app.db import lock_row, transaction
from app.models import Landlord, Property, Tenant, Ticket
from app.prepared import Param, Prepared

BY_KEY = Prepared(lambda: Ticket.select().where(
    Ticket.landlord == Param("landlord"), Ticket.idempotency_key == Param("key")).limit(1))
PROPERTY = Prepared(lambda: Property.select().where(
    Property.id == Param("id"), Property.landlord == Param("landlord")).limit(1))
SAME_REPORT_WITHIN = timedelta(minutes=10)


class IntakeError(ValueError):
    """A report that cannot become a ticket; field names the culprit."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Report:
    """What a tenant (or an integration on their behalf) reports."""

    tenant_id: int
    property_id: int
    category: str
    severity: str
    window: str
    notes: str | None = None
    description: str | None = None


def _existing(landlord: Landlord, key: str | None) -> Ticket | None:
    if not key:
        return None
    return BY_KEY.first(landlord=landlord, key=key)


def _same(column, value: str | None):
    return column.is_null() if value is None else column == value


def same_recent_report(landlord: Landlord, tenant: Tenant, report: Report,
                       now: datetime) -> Ticket | None:
    """The tenant's own identical report (every field alike) filed within SAME_REPORT_WITHIN.

    A cancelled one does not count: reporting it again then means it again.
    """
    return (Ticket.select()
            .where(Ticket.landlord == landlord,
                   Ticket.created_at >= now - SAME_REPORT_WITHIN,
                   Ticket.tenant == tenant,
                   Ticket.property == report.property_id,
                   Ticket.status != "cancelled",
                   Ticket.category == report.category,
                   Ticket.severity == report.severity,
                   Ticket.window == report.window,
                   _same(Ticket.notes, report.notes),
                   _same(Ticket.description, report.description))
            .order_by(Ticket.id)
            .first())


def open_ticket(
    landlord: Landlord,
    report: Report,
    config: Config,
    *,
    idempotency_key: str | None = None,
    actor: str = "api",
    attach: Callable[[Ticket], None] | None = None,
    once_per_report: bool = False,
) -> tuple[Ticket, bool]:
    """Create the ticket and `intake.completed` in one transaction; (ticket, created).

    The same idempotency key again returns the first ticket, even under a race. attach, when
    given, writes rows that belong to the new ticket (the tenant's photos) in that transaction.
    once_per_report: the tenant's identical report from the last ten minutes, if there is one,
    is returned instead of a new ticket (decided under a lock on the tenant's row).
    """
    prop = PROPERTY.first(id=report.property_id, landlord=landlord)
    if prop is None:
        raise IntakeError("propertyId", "no such property")
    tenant = Tenant.find(report.tenant_id)
    elsewhere = tenant is not None and tenant.property_id != prop.id
    if tenant is None or (elsewhere and tenant.property.landlord_id != landlord.id):
        raise IntakeError("tenantId", "no such tenant")  # another landlord's is nobody
    if elsewhere:
        raise IntakeError("tenantId", "this tenant does not live at that property")
    now = clock.now()
    if problem := window_problem(report.window, now, prop.timezone):
        raise IntakeError("window", problem)
    try:
        with transaction():
            if once_per_report:
                lock_row(Tenant, tenant.id)  # one report of a tenant at a time
                if (same := same_recent_report(landlord, tenant, report, now)) is not None:
                    return same, False
            # the same key again (a retry, or its race): the first ticket stands, nothing new
            ticket = Ticket.create_unless(
                Ticket.landlord, Ticket.idempotency_key,
                landlord=landlord, property=prop, tenant=tenant, status="new",
                category=report.category, severity=report.severity, window=report.window,
                notes=report.notes, description=report.description,
                idempotency_key=idempotency_key or None, created_at=now, updated_at=now,
                escalate_at=escalation_deadline(report.severity, now, config),
            )
            if ticket is None:
                return _existing(landlord, idempotency_key), False
            events.emit(
                "intake.completed", ticket=ticket, actor=actor,
                category=report.category, severity=report.severity, window=report.window,
                tenantId=tenant.id, propertyId=prop.id,
            )
            if attach is not None:
                attach(ticket)
    except IntegrityError:
        found = _existing(landlord, idempotency_key)
        if found is None:
            raise
        return found, False
    return ticket, True
