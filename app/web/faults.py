"""Rows Fixline stopped retrying (app.faults): the landlord's "try again"."""

from __future__ import annotations

from flask import flash, g, redirect, url_for

from app import faults
from app.models import Fault
from app.web.scoped import landlord_blueprint, owned_or_404

bp = landlord_blueprint("faults", __name__, url_prefix="/faults")


@bp.post("/<int:fault_id>/retry")
def retry(fault_id: int):
    """Give a parked row one more try now; back to its ticket (or the dashboard)."""
    fault = owned_or_404(Fault.select().where(Fault.id == fault_id,
                                              Fault.landlord == g.landlord,
                                              Fault.failed_at.is_null(False)))
    faults.retry(fault, actor=f"landlord:{g.landlord.id}")
    flash(f"Trying again: {faults.describe(fault)}.", "info")
    if fault.ticket_id is not None:
        return redirect(url_for("tickets.show", ticket_id=fault.ticket_id), code=303)
    return redirect(url_for("dashboard.index"), code=303)
