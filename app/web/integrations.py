"""Settings → Webhooks: a landlord's outbound webhook endpoints, their deliveries, Redeliver."""

from __future__ import annotations

from flask import current_app, flash, g, redirect, render_template, url_for
from wtforms import StringField, URLField
from wtforms.validators import DataRequired, Length, Optional, Regexp

from app.api.webhooks import deliveries_out, recent_deliveries
from app.hooks import addresses, endpoints, queueing
from app.models import WebhookDelivery, WebhookEndpoint
from app.web.forms import PageForm
from app.web.scoped import landlord_blueprint, owned_or_404

bp = landlord_blueprint("integrations", __name__, url_prefix="/settings/webhooks")
RECENT = 25
EVENT_LIST = r"^\s*(\*|[a-z_]+\.[a-z_]+)(\s*,\s*[a-z_]+\.[a-z_]+)*\s*$"


def strip(value):
    return value.strip() if isinstance(value, str) else value


class WebhookForm(PageForm):
    url = URLField("Receiver URL", filters=[strip],
                   validators=[DataRequired(), Length(max=2000),
                               Regexp(addresses.URL_PATTERN, message="Use an http:// or https:// "
                                      "URL.")],
                   description="Fixline POSTs each event here as JSON, signed with the secret.")
    events = StringField("Events", default="*", filters=[strip],
                         validators=[DataRequired(), Length(max=2000),
                                     Regexp(EVENT_LIST, message="Use * for every event, or "
                                            "event types separated by commas.")],
                         description="* for every event, or types like ticket.escalated, "
                                     "appointment.confirmed")
    description = StringField("Description (optional)", filters=[strip],
                              validators=[Optional(), Length(max=200)])


def _owned(webhook_id: int) -> WebhookEndpoint:
    return owned_or_404(WebhookEndpoint.select().where(WebhookEndpoint.id == webhook_id,
                                                       WebhookEndpoint.landlord == g.landlord))


def _index(form: WebhookForm, created: WebhookEndpoint | None = None, status: int = 200):
    return render_template("integrations/index.html", form=form, created=created,
                           webhooks=list(endpoints.active(g.landlord.id))), status


@bp.get("/")
def index():
    """The landlord's webhooks and the form to add one."""
    return _index(WebhookForm())


@bp.post("/")
def create():
    """Add a webhook; the page answering shows its secret, this once."""
    form = WebhookForm()
    if not form.validate():
        return _index(form, status=422)
    events = [part.strip() for part in form.events.data.split(",") if part.strip()]
    try:
        created = endpoints.add(g.landlord, form.url.data, events,
                                current_app.extensions["fixline"], form.description.data or None)
    except (addresses.Refused, endpoints.TooMany) as exc:
        form.url.errors.append(str(exc))
        return _index(form, status=422)
    return _index(WebhookForm(formdata=None), created=created, status=201)


@bp.get("/<int:webhook_id>")
def show(webhook_id: int):
    """One webhook's recent deliveries with their attempts."""
    endpoint = _owned(webhook_id)
    return render_template("integrations/show.html", webhook=endpoint,
                           deliveries=deliveries_out(recent_deliveries(endpoint.id, RECENT)))


@bp.post("/<int:webhook_id>/delete")
def delete(webhook_id: int):
    """Remove a webhook and its deliveries."""
    endpoint = _owned(webhook_id)
    endpoints.remove(endpoint)
    flash(f"Removed the webhook to {endpoint.url}.", "info")
    return redirect(url_for(".index"), code=303)


@bp.post("/deliveries/<int:delivery_id>/redeliver")
def redeliver(delivery_id: int):
    """Send one delivery again now."""
    delivery = owned_or_404(WebhookDelivery.select(WebhookDelivery).join(WebhookEndpoint)
                            .where(WebhookDelivery.id == delivery_id,
                                   WebhookEndpoint.landlord == g.landlord))
    endpoint = WebhookEndpoint.get_by_id(delivery.endpoint_id)
    if endpoint.disabled_at is not None:
        flash("This webhook is turned off: add it again to send to it.", "error")
    else:
        queueing.redeliver(delivery)
        flash(f"Sending event {delivery.event_id} again.", "info")
    return redirect(url_for(".show", webhook_id=endpoint.id), code=303)
