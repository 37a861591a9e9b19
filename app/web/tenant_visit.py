"""The tenant's answers about a visit on the status page; each one calls app.booking.visits."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from app.booking import questions, visits
from app.config import Config
from app.i18n import gettext as _
from app.i18n import lazy
from app.models import Appointment, Tenant, Ticket
from app.web.visit_view import not_active, span

ANSWERS = ("confirm", "refuse", "came", "not_came", "rate", "not_fixed")
STALE = lazy("This visit is no longer on your report. Here is the latest.")


@dataclass(frozen=True)
class Notice:
    """What the page says after an answer (a flash message)."""

    text: str
    category: str = "info"  # info | error


def answer(tenant: Tenant, ticket: Ticket, form: Mapping[str, str], config: Config) -> Notice:
    """Do what the tenant pressed; engine refusals become a notice, never an error page."""
    kind = form.get("answer")
    if kind not in ANSWERS:
        return Notice(_("That answer was not understood. Use the buttons on this page."), "error")
    actor = f"tenant:{tenant.id}"
    visit = _visit_of(ticket, form.get("visit"))
    if visit is None:
        return Notice(str(STALE), "error")
    try:
        return STEPS[kind](visit, ticket, form, actor, config)
    except visits.NotActive as exc:
        return Notice(not_active(exc), "error")
    except (visits.VisitError, LookupError) as exc:
        return Notice(_sentence(str(exc)), "error")


def _visit_of(ticket: Ticket, value: str | None) -> Appointment | None:
    """The visit the page showed, if it is one of this ticket's."""
    if not (value or "").isdigit():
        return None
    return Appointment.get_or_none(Appointment.id == int(value), Appointment.ticket == ticket)


def _sentence(text: str) -> str:
    text = text.strip() or _("That could not be done.")
    return text[0].upper() + text[1:] + ("" if text.endswith(".") else ".")


def _time_changed(visit: Appointment, ticket: Ticket, form: Mapping[str, str]) -> Notice | None:
    """The page showed another time than the visit has now: answer the one on the page."""
    shown = form.get("starts") or ""
    now = visit.starts_at.isoformat() if visit.starts_at else ""
    if shown == now:
        return None
    when = span(visit.starts_at, visit.ends_at, ticket.property.timezone) if now else _("not set")
    return Notice(_("The visit time has changed (now %(when)s). Check it and answer again.",
                    when=when), "error")


def _confirm(visit, ticket, form, actor, config) -> Notice:
    if changed := _time_changed(visit, ticket, form):
        return changed
    if visits.confirm(visit.id, actor=actor) == "already":
        return Notice(_("This visit time was already confirmed."))
    return Notice(_("Thanks: your visit with %(vendor)s is confirmed.", vendor=visit.vendor.name))


def _refuse(visit, ticket, form, actor, config) -> Notice:
    if changed := _time_changed(visit, ticket, form):
        return changed
    if visits.refuse(visit.id, actor=actor) == "already":
        return Notice(_("You already told us that time does not work."))
    return Notice(_("Thanks: we told %(vendor)s that time does not work. They will propose "
                    "another one.", vendor=visit.vendor.name))


def _came(yes: bool) -> Callable[..., Notice]:
    def step(visit, ticket, form, actor, config) -> Notice:
        question = questions.open_about(visit, "came")
        if question is None:
            return Notice(_("That question is no longer open. Here is the latest."), "error")
        if visits.came(question.id, yes, actor=actor, config=config) == "completed":
            return Notice(_("Thanks: the visit is marked done. Is it fixed? Rate it below."))
        return Notice(_("Thanks for telling us. Your landlord knows, and we are finding "
                        "another repair person."))
    return step


def _rate(visit, ticket, form, actor, config) -> Notice:
    rating = form.get("rating") or ""
    if rating not in ("1", "2", "3", "4", "5"):
        return Notice(_("Choose a rating from 1 to 5, then press Send rating."), "error")
    visits.rate(visit.id, int(rating), actor=actor)
    return Notice(_("Thanks for rating %(rating)s/5.", rating=rating))


def _not_fixed(visit, ticket, form, actor, config) -> Notice:
    visits.reopen(ticket.id, actor=actor, config=config)
    return Notice(_("Your report is open again and your landlord has been told. We are asking "
                    "%(vendor)s to come back first.", vendor=visit.vendor.name))


STEPS = {"confirm": _confirm, "refuse": _refuse, "came": _came(True), "not_came": _came(False),
         "rate": _rate, "not_fixed": _not_fixed}
