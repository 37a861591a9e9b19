"""Landlord login and logout; every landlord page is behind login_required."""

from __future__ import annotations

from functools import wraps

from flask import (
    Blueprint,
    Flask,
    abort,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_wtf import FlaskForm
from werkzeug.security import check_password_hash
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, Email, Length

from app.models import Landlord
from app.ratelimit import hit

bp = Blueprint("auth", __name__)
LOGIN_ATTEMPTS_PER_MINUTE = 10


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Email(), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=200)])


def login_required(view):
    """Send anyone not logged in to the login page (htmx requests get a full redirect)."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        if g.get("landlord") is None:
            target = url_for("auth.login", next=request.full_path.rstrip("?"))
            if request.headers.get("HX-Request"):
                response = redirect(target, code=303)
                response.headers["HX-Redirect"] = target
                return response
            return redirect(target)
        return view(*args, **kwargs)

    return wrapped


def _load_landlord() -> None:
    landlord_id = session.get("landlord_id")
    g.landlord = (Landlord.get_or_none(Landlord.id == landlord_id)
                  if landlord_id is not None else None)


def _safe_next(target: str | None) -> str:
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return url_for("dashboard.index") if "dashboard.index" in _endpoints() else "/"


def _endpoints():
    from flask import current_app

    return current_app.view_functions


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Log a landlord in with email and password (rate-limited per address and email)."""
    form = LoginForm()
    if form.validate_on_submit():
        email = form.email.data.strip().lower()
        allowed, retry_after = hit(f"login:{request.remote_addr}:{email}",
                                   LOGIN_ATTEMPTS_PER_MINUTE)
        if not allowed:
            flash(f"Too many attempts. Try again in {retry_after} seconds.", "error")
            return render_template("auth/login.html", form=form), 429
        landlord = Landlord.get_or_none(Landlord.email == email)
        if landlord and landlord.password_hash and check_password_hash(
                landlord.password_hash, form.password.data):
            session.clear()
            session["landlord_id"] = landlord.id
            session.permanent = True
            return redirect(_safe_next(request.args.get("next")), code=303)
        flash("That email and password do not match an account.", "error")
        return render_template("auth/login.html", form=form), 401
    return render_template("auth/login.html", form=form)


@bp.post("/logout")
def logout():
    """End the session."""
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


def init_app(app: Flask) -> None:
    app.before_request(_load_landlord)
