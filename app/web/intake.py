"""The tenant's private intake link: report a problem (with photos), then watch its status."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import RequestEntityTooLarge
from wtforms import HiddenField, MultipleFileField, StringField, TextAreaField
from wtforms.validators import AnyOf, DataRequired, Length, Optional, Regexp, ValidationError

from app import clock
from app.booking.intake import IntakeError, Report, open_ticket
from app.booking.tenancy import replaced_by
from app.booking.windows import ANYTIME, PASSED, Window, interpret, window_problem
from app.i18n import DEFAULT, babel_pattern, current, gettext, lazy, use_for_page
from app.models import CATEGORIES, Tenant, Ticket
from app.ratelimit import hit
from app.web import live, tenant_visit, uploads, visit_view
from app.web.forms import PageForm, strip
from app.web.report_progress import progress

bp = Blueprint("intake", __name__, url_prefix="/intake")
REPORTS_PER_HOUR = 20

CATEGORY_WORDS = {  # CONTRACT.md §4's categories, in a tenant's words (and language)
    "plumbing": (lazy("Plumbing"), lazy("Leaks, blocked drains or toilets, no hot water")),
    "electrical": (lazy("Electrical"), lazy("Outlets, lights, switches, breakers that trip")),
    "hvac": (lazy("Heating or cooling"),
             lazy("Furnace, boiler, radiators, air conditioning, thermostat")),
    "lock": (lazy("Locks and doors"),
             lazy("Locked out, broken lock, lost keys, door that won't close")),
    "appliance": (lazy("Appliances"), lazy("Fridge, stove, oven, washer, dryer, dishwasher")),
    "pest": (lazy("Pests"), lazy("Mice, rats, cockroaches, bed bugs, wasps")),
    "general": (lazy("Something else"), lazy("Walls, floors, windows, anything not listed")),
}
SEVERITY_WORDS = {
    "emergency": (lazy("Emergency"), lazy("Someone needs to come now (see the list above)")),
    "routine": (lazy("Routine"), lazy("It can wait for a visit at a time that suits you")),
}
EMERGENCIES = (
    (lazy("You smell gas"),
     lazy("leave the building first, then call the gas company or 911 from outside")),
    (lazy("Flooding"), lazy("water is pouring in or leaking fast and you cannot stop it")),
    (lazy("Sparks, smoke or a burning smell"),
     lazy("from outlets, wiring or an appliance; if anything is on fire, get out and call 911")),
    (lazy("No heat in the cold"), lazy("the heating is off and it is cold outside")),
    (lazy("Locked out"), lazy("you cannot get into your home")),
)
INLINE = ("category", "severity", "description", "window", "notes")


class IntakeForm(PageForm):
    """What the tenant reports; each message names the field it is about."""

    # Radio buttons, drawn by the template from CATEGORY_WORDS and SEVERITY_WORDS.
    category = StringField(
        lazy("What kind of problem is it?"),
        validators=[DataRequired(lazy("Choose what kind of problem it is.")),
                    AnyOf(CATEGORIES, lazy("Choose one of the kinds of problem listed."))])
    severity = StringField(
        lazy("How urgent is it?"),
        validators=[DataRequired(lazy("Choose how urgent it is: emergency or routine.")),
                    AnyOf(tuple(SEVERITY_WORDS), lazy("Choose emergency or routine."))])
    description = TextAreaField(
        lazy("What is wrong?"), filters=[strip],
        validators=[DataRequired(lazy("Describe the problem in a few words.")),
                    Length(max=5000,
                           message=lazy("Keep the description under 5000 characters."))])
    window = StringField(
        lazy("When can someone come in?"), filters=[strip],
        validators=[DataRequired(lazy("Tell us when someone can come in, or write "
                                      "\"any time\".")),
                    Length(max=200,
                           message=lazy("Say when you are available in under 200 characters."))])
    notes = TextAreaField(
        lazy("Anything else the vendor should know?"), filters=[strip],
        validators=[Optional(),
                    Length(max=5000, message=lazy("Keep the notes under 5000 characters."))])
    photos = MultipleFileField(lazy("Photos"))
    submission = HiddenField(validators=[Optional(), Regexp(r"^[A-Za-z0-9_-]{16,64}$")])
    tenant_timezone = "America/Chicago"  # make_form() sets the property's

    def validate_window(self, field) -> None:
        if problem := window_problem(field.data or "", clock.now(), self.tenant_timezone):
            raise ValidationError(gettext(problem))
        understood = read_window(field.data, self.tenant_timezone)
        if understood is not None and understood.end <= clock.now():
            raise ValidationError(gettext(PASSED))


def read_window(text: str | None, tz: str) -> Window | None:
    """The window the engine will use for these words if the ticket is made now."""
    return interpret(text or "", clock.now(), tz) if text else None


def local(moment: datetime | None, tz: str, fmt: str = "%a %b %-d, %-I:%M %p %Z") -> str:
    """A naive-UTC time as the property's clock shows it, in the page's language (strftime's
    English, else Babel's names of days and months in the same pattern)."""
    if moment is None:
        return ""
    shown = moment.replace(tzinfo=UTC).astimezone(ZoneInfo(tz))
    if current() == DEFAULT:
        return shown.strftime(fmt)
    return format_datetime(shown, babel_pattern(fmt), locale=current())


def local_span(start: datetime, end: datetime | None, tz: str) -> str:
    """'Tue Mar 4, 2:00 PM – 5:00 PM CST' (the end's date only when it differs)."""
    text = local(start, tz, "%a %b %-d, %-I:%M %p")
    if end is None:
        return text + local(start, tz, " %Z")
    same_day = local(start, tz, "%Y%m%d") == local(end, tz, "%Y%m%d")
    return text + " – " + local(end, tz, "%-I:%M %p %Z" if same_day else "%a %b %-d, %-I:%M %p %Z")


def window_note(text: str | None, tz: str) -> str:
    """How Fixline reads the tenant's words, shown under the field once they are valid."""
    if not text:
        return ""
    understood = read_window(text, tz)
    if understood is not None:  # in the zone the engine reads it in: the tenant's, if named
        return gettext("We read this as %(span)s.",
                       span=local_span(understood.start, understood.end, understood.zone))
    if ANYTIME.search(text.lower()):
        return gettext("Any time: the vendor will call you to agree a time.")
    return gettext("We will pass this on to the vendor exactly as you wrote it.")


def tenant_or_404(token: str) -> Tenant:
    """The link's tenant; else a 404 page that says to ask the landlord for a new link."""
    tenant = Tenant.get_or_none(Tenant.intake_token == token)
    if tenant is not None:
        use_for_page(tenant.language)
    if tenant is None:
        page = render_template("intake/missing.html", landlord=replaced_by(token), tenant=None)
        abort(_private(current_app.make_response((page, 404))))
    return tenant


def make_form(tenant: Tenant, **kwargs) -> IntakeForm:
    form = IntakeForm(**kwargs)
    form.tenant_timezone = tenant.property.timezone
    return form


def _private(response):
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Robots-Tag"] = "noindex"
    response.headers["Vary"] = "HX-Request, HX-Target"
    return response


def render_form(tenant: Tenant, form: IntakeForm, status: int = 200, problem: str | None = None,
                kept: list[uploads.Held] = ()):
    """The report page; problems (all fields' errors) are listed first, naming each field.

    kept: photos of a refused try, held for this form (their checkboxes send them again).
    """
    if not form.submission.data or form.submission.errors:
        form.submission.data = secrets.token_urlsafe(16)
    recent = (Ticket.select().where(Ticket.tenant == tenant)
              .order_by(Ticket.created_at.desc(), Ticket.id.desc()).limit(5))
    window_hint = ("" if form.window.errors
                   else window_note(form.window.data, tenant.property.timezone))
    page = render_template(
        "intake/form.html", tenant=tenant, form=form, problem=problem, recent=list(recent),
        categories=CATEGORY_WORDS, severities=SEVERITY_WORDS, emergencies=EMERGENCIES,
        window_hint=window_hint, local=local, max_photos=uploads.MAX_PHOTOS,
        max_photo_mb=uploads.MAX_PHOTO_BYTES // (1024 * 1024), kept=kept)
    return _private(current_app.make_response((page, status)))


@bp.url_value_preprocessor
def _allow_photos(endpoint: str | None, _values: dict | None) -> None:
    """Let the report form carry photos: its body may reach MAX_REQUEST_BYTES.

    Runs before every before_request hook (CSRF protection reads the form), and only for
    this route: the rest of the app keeps MAX_CONTENT_LENGTH (1 MiB).
    """
    if endpoint == "intake.form" and request.method == "POST":
        request.max_content_length = uploads.MAX_REQUEST_BYTES


@bp.route("/<token>", methods=["GET", "POST"])
def form(token: str):
    """The report form; a valid report becomes a ticket and leads to its status page."""
    tenant = tenant_or_404(token)
    form = make_form(tenant)
    if not form.is_submitted():
        return render_form(tenant, form)
    valid = form.validate()
    submission = None if form.submission.errors else form.submission.data
    wanted = set(request.form.getlist("keep"))
    kept = [item for item in uploads.held(tenant.id, submission) if item.file in wanted]
    photos, form.photos.errors = uploads.check(request.files.getlist(form.photos.name),
                                               kept=len(kept))
    if not valid or form.photos.errors:
        return _refused(tenant, form, kept, photos, 422)
    allowed, retry_after = hit(f"intake:{tenant.id}", REPORTS_PER_HOUR, 3600)
    if not allowed:
        return _refused(tenant, form, kept, photos, 429, "You have sent a lot of reports in the "
                        f"last hour. Try again in {retry_after // 60 + 1} minutes, or call your "
                        "landlord.")
    filed = create_ticket(tenant, form, uploads.load(tenant.id, submission, kept) + photos)
    if filed is None:
        return _refused(tenant, form, kept, photos, 422, "This report could not be filed for "
                                                         "your home. Please call your landlord.")
    ticket, created = filed
    uploads.release(tenant.id, submission)
    if not created:
        flash("You already sent this report, so we did not file it twice. "
              "This is its status.", "info")
    return redirect(url_for(".status", token=token, ticket_id=ticket.id), code=303)


def _refused(tenant: Tenant, form: IntakeForm, kept: list[uploads.Held],
             photos: list[uploads.Photo], status: int, problem: str | None = None):
    """The form again, holding every photo that passed its checks for the next try."""
    if not form.submission.data or form.submission.errors:
        form.submission.data, form.submission.errors = secrets.token_urlsafe(16), []
    if kept or photos:
        kept = uploads.hold(tenant.id, form.submission.data, kept, photos)
    if kept and not problem:
        problem = (f"We kept the {len(kept)} photo{'s' if len(kept) != 1 else ''} that "
                   "passed our checks: you do not need to choose them again.")
    return render_form(tenant, form, status, problem, kept)


def create_ticket(tenant: Tenant, form: IntakeForm,
                  photos: list[uploads.Photo]) -> tuple[Ticket, bool] | None:
    """Files first, then ticket, event and photo rows in one transaction (files go if it fails).

    The form's one-time submission id is the idempotency key: a double submit finds the
    ticket the first one made. So does the same report sent again from a fresh form within
    ten minutes (the back button, then Send): (ticket, created), None if it cannot be filed.
    """
    report = Report(tenant_id=tenant.id, property_id=tenant.property_id,
                    category=form.category.data, severity=form.severity.data,
                    window=form.window.data, notes=form.notes.data or None,
                    description=form.description.data)
    key = f"intake:{tenant.id}:{form.submission.data}" if form.submission.data else None
    written = uploads.write(photos)
    try:
        ticket, created = open_ticket(
            tenant.property.landlord, report, current_app.extensions["fixline"],
            idempotency_key=key, actor="tenant", once_per_report=True,
            attach=lambda new: uploads.record(new, written))
    except IntakeError:
        uploads.discard(written)
        return None
    except BaseException:
        uploads.discard(written)
        raise
    if not created:
        uploads.discard(written)
    return ticket, created


@bp.post("/<token>/check/<field>")
def check(token: str, field: str):
    """Inline validation: the message under one field, as the tenant types."""
    if field not in INLINE:
        abort(404)
    tenant = tenant_or_404(token)
    bound = make_form(tenant, meta={"csrf": False}).check_field(field)
    note = window_note(bound.data, tenant.property.timezone) if field == "window" else ""
    return render_template("intake/_message.html", name=field, errors=bound.errors, note=note)


@bp.get("/<token>/tickets/<int:ticket_id>")
def status(token: str, ticket_id: int):
    """The tenant's view of one report, which keeps itself up to date (app/web/live.py, else
    htmx polling)."""
    tenant, ticket = _report_or_404(token, ticket_id)
    now, visit, key = _status_now(ticket)
    partial = request.headers.get("HX-Target") == "ticket-status"
    if partial and request.args.get("seen") == key:
        return _private(current_app.make_response(("", 204)))
    return _render_status(tenant, ticket, now, visit, key, partial=partial, waits=live.on())


@bp.get("/<token>/tickets/<int:ticket_id>/changes")
def changes(token: str, ticket_id: int):
    """Held until what the status page shows (as of ?seen=) changes, then the new status;
    204 when nothing changed in time; at once, polling, when it cannot wait (app/web/live.py).
    """
    tenant, ticket = _report_or_404(token, ticket_id)
    seen, found = request.args.get("seen", ""), {}

    def unchanged() -> bool:
        found["ticket"] = fresh = Ticket.get_by_id(ticket.id)  # as it is now
        found["now"] = _status_now(fresh)
        return found["now"][2] == seen

    outcome = live.wait([("ticket", ticket.id)], unchanged)
    if outcome == live.QUIET:
        return _private(live.quiet_response())
    now, visit, key = found["now"]
    return _render_status(tenant, found["ticket"], now, visit, key, partial=True,
                          waits=outcome == live.CHANGED and live.on())


def _report_or_404(token: str, ticket_id: int) -> tuple[Tenant, Ticket]:
    tenant = tenant_or_404(token)
    ticket = Ticket.get_or_none(Ticket.id == ticket_id, Ticket.tenant == tenant)
    if ticket is None:
        abort(404)
    return tenant, ticket


def _status_now(ticket: Ticket):
    """(progress, visit view, key): what the status page shows and a key that changes with it."""
    now = progress(ticket)
    visit = visit_view.view(now.appointment, ticket, current_app.extensions["fixline"])
    return now, visit, f"{now.key}|{visit.key if visit else ''}"


def _render_status(tenant: Tenant, ticket: Ticket, now, visit, key: str, *, partial: bool,
                   waits: bool):
    """The status page, or its live fragment; `waits`: the fragment waits for changes
    (…/changes) and polls slowly, else it polls at progress.poll_seconds."""
    template = "intake/_status.html" if partial else "intake/status.html"
    tz = ticket.property.timezone
    photos = uploads.photos_of(ticket)
    page = render_template(
        template, tenant=tenant, ticket=ticket, progress=now, seen_key=key, visit_view=visit,
        tz=tz, local=local, local_span=local_span, categories=CATEGORY_WORDS,
        severities=SEVERITY_WORDS, photos=[p for p in photos if p.source != "vendor"],
        vendor_photos=[p for p in photos if p.source == "vendor"],
        waits=waits and not now.final, fallback_seconds=live.FALLBACK_POLL_SECONDS)
    return _private(current_app.make_response(page))


@bp.post("/<token>/tickets/<int:ticket_id>/visit")
def answer(token: str, ticket_id: int):
    """The tenant's answer about the visit: confirm, can't make it, came, rating, not fixed."""
    tenant = tenant_or_404(token)
    ticket = Ticket.get_or_none(Ticket.id == ticket_id, Ticket.tenant == tenant)
    if ticket is None:
        abort(404)
    notice = tenant_visit.answer(tenant, ticket, request.form, current_app.extensions["fixline"])
    flash(notice.text, notice.category)
    return redirect(url_for(".status", token=token, ticket_id=ticket.id), code=303)


@bp.get("/<token>/tickets/<int:ticket_id>/photos/<int:photo_id>")
def photo(token: str, ticket_id: int, photo_id: int):
    """One of the photos the tenant sent with this report."""
    tenant = tenant_or_404(token)
    ticket = Ticket.get_or_none(Ticket.id == ticket_id, Ticket.tenant == tenant)
    found = ticket and next((p for p in uploads.photos_of(ticket) if p.id == photo_id), None)
    if not found:
        abort(404)
    return _private(uploads.send_photo(found))


@bp.errorhandler(404)
def _not_found(_exc):
    """A report or photo this (working) link does not have: a page in the tenant's terms."""
    token = (request.view_args or {}).get("token")
    tenant = Tenant.get_or_none(Tenant.intake_token == token) if token else None
    page = render_template("intake/missing.html", landlord=None, tenant=tenant)
    return _private(current_app.make_response((page, 404)))


@bp.errorhandler(CSRFError)
def _stale_form(_exc: CSRFError):
    """An expired or missing CSRF token: the tenant's words come back, with a new token."""
    if request.endpoint != "intake.form":
        return "The form's security token is missing or expired. Reload the page.", 400
    tenant = tenant_or_404(request.view_args["token"])
    form = make_form(tenant)
    return render_form(tenant, form, 400, "This form was open for a long time, so for safety "
                       "we could not send it. Check your report, attach any photos again and "
                       "press Send report once more.")


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(_exc: RequestEntityTooLarge):
    """The photos together are over the limit; the body was never read."""
    token = (request.view_args or {}).get("token")
    if request.endpoint != "intake.form" or token is None:
        return "Too much data was sent.", 413
    tenant = tenant_or_404(token)
    limit = uploads.MAX_REQUEST_BYTES // (1024 * 1024)
    return render_form(tenant, make_form(tenant, formdata=None), 413,
                       f"Your photos add up to more than {limit} MB. Choose fewer or smaller "
                       "photos and send the report again.")
