"""The vendor's job page /j/<token> (no login): the offer, Accept and Decline, then the visit."""

from __future__ import annotations

from datetime import datetime

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
from flask_wtf import FlaskForm
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import RequestEntityTooLarge
from wtforms import MultipleFileField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import Length, Optional

from app import clock
from app.booking import answers, loop, quotes, visit_times, visits
from app.booking.windows import parse_window
from app.db import transaction
from app.i18n import N_, gettext, lazy, use_for_page
from app.messaging import templates
from app.models import Ping
from app.web import uploads
from app.web.forms import strip
from app.web.intake import CATEGORY_WORDS, SEVERITY_WORDS
from app.web.job_state import (
    Job,
    expired,
    job_of,
    photos_shown,
    street_and_unit,
    visit_span,
    visit_status,
)

bp = Blueprint("jobs", __name__, url_prefix="/j")
STAMP = "%Y-%m-%dT%H:%M"  # an offered start's value: naive UTC
NOT_YOURS = N_("You no longer hold this job, so nothing was changed.")
ALREADY_DONE = N_("This job is already marked done, so nothing was changed.")
NO_CHOICE = N_("Choose a time")  # the time list's first entry


class TimeForm(FlaskForm):
    """A visit time: one of the starts offered, or typed words (which win when given)."""

    start = SelectField(lazy("Pick a time"), default="",
                        choices=[SelectChoice("", lazy(NO_CHOICE))],
                        invalid_choice_message=lazy("That time is no longer offered: pick "
                                                    "another or type one."))
    typed = StringField(lazy("Or type a time"), filters=[strip],
                        validators=[Optional(), Length(max=200, message=lazy(
                            "Say the time in under 200 characters."))])

    def offer(self, job: Job) -> None:
        """Offer the starts inside the tenant's window still ahead."""
        ticket, tz = job.ticket, job.ticket.property.timezone
        window = parse_window(ticket.window, ticket.created_at, tz)
        starts = visit_times.choices(*(window or (None, None)), clock.now(), tz)
        self.start.choices = [SelectChoice("", gettext(NO_CHOICE))] + [
            SelectChoice(moment.strftime(STAMP), visit_times.local_text(moment, tz))
            for moment in starts]

    def when(self, tz: str) -> tuple[datetime, datetime | None] | None:
        """(start, end or None) chosen, None when neither; raises UnreadableTime."""
        if self.typed.data:
            found = visit_times.read_visit(self.typed.data, clock.now(), tz)
            return found.start, found.end
        if self.start.data:
            return datetime.strptime(self.start.data, STAMP), None
        return None


class QuoteForm(FlaskForm):
    """What the job will cost (CONTRACT.md §11): read exactly by app.booking.quotes."""

    amount = StringField(lazy("What the job will cost, in dollars"), filters=[strip], validators=[
        Length(max=40, message=lazy("Write the amount in under 40 characters, like 350.50."))])


class DoneForm(FlaskForm):
    photos = MultipleFileField(lazy("Photos of the finished job (optional)"))


class HandBackForm(FlaskForm):
    reason = TextAreaField(
        lazy("Why? (optional, the landlord sees it)"), filters=[strip],
        validators=[Optional(), Length(max=500, message=lazy(
            "Keep the reason under 500 characters."))])


def _private(response):
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Robots-Tag"] = "noindex"
    return response


def _config():
    return current_app.extensions["fixline"]


def job_or_404(token: str) -> Job:
    """The link's job, its page in its vendor's language (CONTRACT.md §13); an unknown or
    expired link is a 404 page that says which."""
    ping = _ping_of(token)
    if ping is None:
        abort(404)
    job = job_of(ping)
    if expired(job.ticket, clock.now()):
        page = render_template("jobs/missing.html", expired=True)
        abort(_private(current_app.make_response((page, 404))))
    return job


def _ping_of(token: str | None) -> Ping | None:
    """The link's offer, and from here on the page speaks its vendor's language."""
    ping = Ping.get_or_none(Ping.token == token) if token else None
    if ping is not None:
        use_for_page(ping.vendor.language)
    return ping


def render(job: Job, status: int = 200, notice: str | None = None, **forms):
    """The page for the job's state; forms given keep what the vendor typed and its errors."""
    ticket, tz = job.ticket, job.ticket.property.timezone
    street, unit = street_and_unit(ticket.property.address)
    if job.state in ("offer", "held") and "time_form" not in forms:
        forms["time_form"] = TimeForm(formdata=None)
    if "time_form" in forms:
        forms["time_form"].offer(job)
    forms.setdefault("done_form", DoneForm(formdata=None))
    forms.setdefault("quote_form", QuoteForm(formdata=None))
    quote = quotes.newest(ticket, job.ping.vendor_id) if job.state == "held" else None
    forms.setdefault("back_form", HandBackForm(formdata=None))
    page = render_template(
        "jobs/page.html", job=job, ticket=ticket, token=job.ping.token, notice=notice,
        street=street, unit=unit, tz=tz, category=CATEGORY_WORDS.get(ticket.category,
                                                                     (ticket.category,))[0],
        severity=SEVERITY_WORDS.get(ticket.severity, (ticket.severity,))[0],
        photos=photos_shown(job), visit_span=visit_span, visit_status=visit_status,
        max_photos=uploads.MAX_PHOTOS, example=gettext(visit_times.EXAMPLE), quote=quote,
        quote_status=_sentence(templates.quote_outcome(quote)) if quote else None,
        amount_example=quotes.EXAMPLE, **forms)
    return _private(current_app.make_response((page, status)))


def _back(token: str):
    return redirect(url_for(".page", token=token), code=303)


@bp.url_value_preprocessor
def _allow_photos(endpoint: str | None, _values: dict | None) -> None:
    """Let Done carry photos (the rest of the app keeps MAX_CONTENT_LENGTH)."""
    if endpoint == "jobs.done" and request.method == "POST":
        request.max_content_length = uploads.MAX_REQUEST_BYTES


@bp.get("/<token>")
def page(token: str):
    """The job as this vendor may see it now."""
    return render(job_or_404(token))


@bp.post("/<token>/accept")
def accept(token: str):
    """Take the job (optionally naming the visit time): the same rule as a YES by SMS."""
    job = job_or_404(token)
    form = TimeForm()
    form.offer(job)
    if not form.validate():
        return render(job, 422, time_form=form)
    try:
        when = form.when(job.ticket.property.timezone)
    except visit_times.UnreadableTime as exc:
        form.typed.errors = [str(exc)]
        return render(job, 422, str(exc), time_form=form)
    outcome = loop.accept(job.ping.id, "web", _config(), when)
    # the SMS answer's sentence, without its link to this very page (no config: no link)
    flash(answers.answer("accept", job.ping.id), "info" if outcome == "booked" else "error")
    return _back(token)


@bp.post("/<token>/decline")
def decline(token: str):
    """Pass on the job: the next vendor is asked, as after a NO by SMS."""
    job = job_or_404(token)
    loop.decline(job.ping.id, _config())
    flash(answers.answer("decline", job.ping.id), "info")
    return _back(token)


def _held_visit(job: Job):
    """The visit this vendor holds, else a redirect back with a notice."""
    if job.state != "held":
        why = ALREADY_DONE if job.state == "done" else NOT_YOURS
        flash(gettext(why), "error")
        return None
    return job.visit


def _actor(job: Job) -> str:
    return f"vendor:{job.ping.vendor_id}"


@bp.post("/<token>/time")
def set_time(token: str):
    """Set or move the visit time; the tenant is asked to confirm it."""
    job = job_or_404(token)
    if (visit := _held_visit(job)) is None:
        return _back(token)
    form = TimeForm()
    form.offer(job)
    if not form.validate():
        return render(job, 422, time_form=form)
    try:
        when = form.when(job.ticket.property.timezone)
    except visit_times.UnreadableTime as exc:
        form.typed.errors = [str(exc)]
        return render(job, 422, str(exc), time_form=form)
    if when is None:
        message = gettext("Choose a time, or type one (for example %(example)s).",
                          example=gettext(visit_times.EXAMPLE))
        form.typed.errors = [message]
        return render(job, 422, message, time_form=form)
    try:
        moved = visits.set_time(visit.id, when[0], when[1], actor=_actor(job), config=_config())
    except visits.NotActive:
        flash(gettext(NOT_YOURS), "error")
        return _back(token)
    except visits.VisitError as exc:
        message = gettext("That time cannot be used: %(problem)s.", problem=exc)
        form.typed.errors = [message]
        return render(job, 422, message, time_form=form)
    tz = job.ticket.property.timezone
    flash(gettext("Visit set for %(when)s. We asked the tenant to confirm.",
                  when=visit_span(moved, tz)), "info")
    return _back(token)


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


@bp.post("/<token>/quote")
def quote(token: str):
    """The vendor holding the job quotes its cost: approved at once within the landlord's
    limit, else sent to the landlord (as QUOTE by SMS)."""
    job = job_or_404(token)
    if (visit := _held_visit(job)) is None:
        return _back(token)
    form = QuoteForm()
    if not form.validate():
        return render(job, 422, quote_form=form)
    try:
        made = quotes.submit(visit.id, quotes.read_amount(form.amount.data),
                             actor=_actor(job), config=_config())
    except quotes.BadAmount as exc:
        message = gettext("%(problem)s Write it like %(example)s or 1,234.50; nothing was "
                          "sent.", problem=exc, example=quotes.EXAMPLE)
        form.amount.errors = [message]
        return render(job, 422, message, quote_form=form)
    except (quotes.NotHolder, LookupError):
        flash(gettext(NOT_YOURS), "error")
        return _back(token)
    flash(_sentence(templates.quote_outcome(made)), "info")
    return _back(token)


@bp.post("/<token>/done")
def done(token: str):
    """The job is done (with photos): ticket completed, the tenant asked to rate it."""
    job = job_or_404(token)
    if (visit := _held_visit(job)) is None:
        return _back(token)
    form = DoneForm()
    photos, errors = uploads.check(request.files.getlist(form.photos.name))
    if errors:
        form.photos.errors = errors
        return render(job, 422, gettext("Nothing was marked done: %(problems)s",
                                        problems=" ".join(errors)), done_form=form)
    written = uploads.write(photos)
    try:
        with transaction():
            outcome = visits.complete(visit.id, actor=_actor(job), photos=len(written))
            if outcome == "completed":
                uploads.record(job.ticket, written, source="vendor")
    except visits.VisitError:
        uploads.discard(written)
        flash(gettext(NOT_YOURS), "error")
        return _back(token)
    except BaseException:
        uploads.discard(written)
        raise
    if outcome != "completed":  # a second press: the first one's photos are kept
        uploads.discard(written)
    flash(gettext("Marked done. Thank you!"), "info")
    return _back(token)


@bp.post("/<token>/hand-back")
def hand_back(token: str):
    """The vendor cannot make it: the job goes back to dispatching and the next vendor."""
    job = job_or_404(token)
    if (visit := _held_visit(job)) is None:
        return _back(token)
    form = HandBackForm()
    if not form.validate():
        return render(job, 422, back_form=form)
    try:
        visits.hand_back(visit.id, actor=_actor(job), config=_config(),
                         reason=form.reason.data or None)
    except visits.VisitError:
        flash(gettext(NOT_YOURS), "error")
        return _back(token)
    flash(gettext("You handed the job back. Thanks for letting us know."), "info")
    return _back(token)


@bp.get("/<token>/photos/<int:photo_id>")
def photo(token: str, photo_id: int):
    """A photo the page shows (the tenant's; every one once this vendor finished the job)."""
    job = job_or_404(token)
    found = next((p for p in photos_shown(job) if p.id == photo_id), None)
    if found is None:
        abort(404)
    return _private(uploads.send_photo(found))


@bp.errorhandler(404)
def _not_found(_exc):
    page = render_template("jobs/missing.html", expired=False)
    return _private(current_app.make_response((page, 404)))


@bp.errorhandler(CSRFError)
def _stale_form(_exc: CSRFError):
    """A missing or expired form token: the page again, with a fresh one, and nothing done."""
    ping = _ping_of((request.view_args or {}).get("token"))
    if ping is None or expired(ping.ticket, clock.now()):
        return gettext("The form's security token is missing or expired. Reload the page."), 400
    return render(job_of(ping), 400, gettext("For safety this page had to be reloaded, so "
                                             "nothing was done. Check the job and press the "
                                             "button again."))


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(_exc: RequestEntityTooLarge):
    """The photos together are over the limit; the body was never read."""
    ping = _ping_of((request.view_args or {}).get("token"))
    if ping is None:
        return gettext("Too much data was sent."), 413
    limit = uploads.MAX_REQUEST_BYTES // (1024 * 1024)
    return render(job_of(ping), 413, gettext(
        "Your photos add up to more than %(limit)s MB, so nothing was marked done. Choose "
        "fewer or smaller photos.", limit=limit))
