"""Landlord login and logout; every landlord page is behind login_required."""

from __future__ import annotations

from datetime import datetime
from functools import wraps
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_wtf import FlaskForm
from werkzeug.security import check_password_hash, generate_password_hash
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, Email, Length

from app import clock
from app.accounts import end_sessions
from app.models import Landlord
from app.ratelimit import hit
from app.web.forms import strip

bp = Blueprint("auth", __name__)
LOGIN_ATTEMPTS_PER_MINUTE = 10  # per address and email: guessing one account's password
LOGIN_ATTEMPTS_PER_ADDRESS_PER_MINUTE = 30  # per address, any email: spraying one password
SEEN_EVERY_SECONDS = 60  # how often a session's last activity is rewritten (its cookie too)
_EPOCH = datetime(1970, 1, 1)
_NOBODY_HASH: list[str] = []  # checked against when the email is unknown, so timing tells nothing


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Email(), Length(max=254)],
                       filters=[strip])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=200)])


def login_required(view):
    """Send anyone not logged in to the login page.

    htmx requests (a poll, a boosted link) get 401 with HX-Redirect, so htmx loads the login
    page as a whole page; a 3xx would be followed by the browser and the login page swapped
    into whatever element asked.
    """

    @wraps(view)
    def wrapped(*args, **kwargs):
        if g.get("landlord") is None:
            if request.headers.get("HX-Request"):
                target = url_for("auth.login", next=_page_path())
                response = current_app.make_response(("", 401))
                response.headers["HX-Redirect"] = target
                return response
            return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)

    return wrapped


def _load_landlord() -> None:
    """The logged-in landlord, if the session is still current and not idle too long.

    A session records the landlord's session generation at login; logout and a password change
    bump the row's, which ends every older session at once (CONTRACT.md §14). A session unused
    for SESSION_IDLE_SECONDS ends too. Every request counts as use except a polling element
    refreshing itself, so a dashboard left open on an unattended screen still expires.
    """
    g.landlord = None
    landlord_id = session.get("landlord_id")
    if landlord_id is None:
        return
    landlord = Landlord.get_or_none(Landlord.id == landlord_id)
    idle = current_app.extensions["fixline"].session_idle_seconds
    now, seen = _seconds(), session.get("seen", 0)
    if (landlord is None or session.get("generation") != landlord.session_generation
            or now - seen > idle):
        session.clear()
        flash("Your session has ended. Please log in again.", "info")
        return
    if not _is_poll() and now - seen >= min(SEEN_EVERY_SECONDS, idle // 4):
        session["seen"] = now
    g.landlord = landlord


def _seconds() -> int:
    return int((clock.now() - _EPOCH).total_seconds())


WAITING_ENDPOINTS = {"dashboard.changes"}  # held until a change (app/web/live.py): not use


def _is_poll() -> bool:
    """An htmx element refreshing itself (hx-trigger="every …", hx-target="this"), or a page
    waiting for a change."""
    headers = request.headers
    trigger = headers.get("HX-Trigger")
    if request.method == "GET" and request.endpoint in WAITING_ENDPOINTS:
        return True
    return (request.method == "GET" and bool(headers.get("HX-Request")) and bool(trigger)
            and trigger == headers.get("HX-Target"))


def _page_path() -> str:
    """The page an htmx request came from (HX-Current-URL), else the path it asked for."""
    current = urlsplit(request.headers.get("HX-Current-URL", ""))
    if current.netloc == request.host and is_local_path(current.path or "/"):
        return current.path + (f"?{current.query}" if current.query else "")
    return request.full_path.rstrip("?")


def is_local_path(target: str) -> bool:
    """A path on this site: one leading slash, no scheme or host, nothing a browser reads as one.

    Browsers treat a backslash like a slash and drop tabs and newlines, so a path with a
    backslash, whitespace or a control character could leave the site; those are refused.
    """
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return False
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in target):
        return False
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc


def _safe_next(target: str | None) -> str:
    if target and is_local_path(target):
        return target
    return url_for("dashboard.index") if "dashboard.index" in _endpoints() else "/"


def _endpoints():
    return current_app.view_functions


def _password_matches(landlord: Landlord | None, password: str) -> bool:
    if landlord is None or not landlord.password_hash:
        if not _NOBODY_HASH:
            _NOBODY_HASH.append(generate_password_hash("nobody has this password"))
        check_password_hash(_NOBODY_HASH[0], password)  # same work as a real check
        return False
    return check_password_hash(landlord.password_hash, password)


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Log a landlord in with email and password (rate-limited per address, and per email)."""
    form = LoginForm()
    if form.validate_on_submit():
        email = form.email.data.strip().lower()
        allowed, retry_after = _attempt_allowed(email)
        if not allowed:
            flash(f"Too many attempts. Try again in {retry_after} seconds.", "error")
            return (render_template("auth/login.html", form=form), 429,
                    {"Retry-After": str(retry_after)})
        landlord = Landlord.get_or_none(Landlord.email == email)
        if _password_matches(landlord, form.password.data):
            session.clear()
            session["landlord_id"] = landlord.id
            session["generation"] = landlord.session_generation
            session["seen"] = _seconds()
            session.permanent = True
            return redirect(_safe_next(request.args.get("next")), code=303)
        flash("That email and password do not match an account.", "error")
        return render_template("auth/login.html", form=form), 401
    return render_template("auth/login.html", form=form), 422 if form.is_submitted() else 200


def _attempt_allowed(email: str) -> tuple[bool, int]:
    """Count a login attempt against its address, and its address and email."""
    address = request.remote_addr
    checks = [hit(f"login:{address}", LOGIN_ATTEMPTS_PER_ADDRESS_PER_MINUTE),
              hit(f"login:{address}:{email}", LOGIN_ATTEMPTS_PER_MINUTE)]
    refused = [retry_after for allowed, retry_after in checks if not allowed]
    return (False, max(refused)) if refused else (True, 0)


@bp.post("/logout")
def logout():
    """End every session of this landlord, on every browser (CONTRACT.md §14)."""
    if g.get("landlord") is not None:
        end_sessions(g.landlord.id)
    session.clear()
    flash("You are logged out.", "info")
    return redirect(url_for("auth.login"), code=303)


@bp.get("/")
def home():
    """The dashboard for landlords, the login page for everyone else."""
    if g.get("landlord") is None:
        return redirect(url_for("auth.login"))
    if "dashboard.index" in _endpoints():
        return redirect(url_for("dashboard.index"))
    abort(404)


def _template_globals() -> dict:
    """current_app in every template, for `endpoint in current_app.view_functions` checks."""
    return {"current_app": current_app._get_current_object()}


def init_app(app: Flask) -> None:
    app.before_request(_load_landlord)
    app.context_processor(_template_globals)
