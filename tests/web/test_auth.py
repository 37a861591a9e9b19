"""Landlord accounts: login, logout, safe redirects, cookie flags, rate limit, login everywhere."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from types import SimpleNamespace

import pytest
from werkzeug.routing import UUIDConverter

from app import clock, create_app, ratelimit
from app.config import Config
from app.seed import DEMO_EMAIL, DEMO_PASSWORD
from app.web.auth import (
    LOGIN_ATTEMPTS_PER_ADDRESS_PER_MINUTE,
    LOGIN_ATTEMPTS_PER_MINUTE,
    is_local_path,
)
from tests.conftest import make_config

# Blueprints whose every route is a landlord page (tenant intake/status and the demo are not).
LANDLORD_BLUEPRINTS = {"dashboard", "tickets", "vendors", "properties", "tenants", "messages"}


def test_login_page_is_a_form_with_csrf(client):
    page = client.get("/login")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert 'name="csrf_token"' in html and 'type="password"' in html
    assert 'autocomplete="current-password"' in html


def test_right_password_logs_in_and_lands_on_the_dashboard(client, seeded, login):
    assert client.get("/dashboard").status_code == 302
    answer = login(client, DEMO_EMAIL, DEMO_PASSWORD)
    assert answer.status_code == 303
    assert answer.headers["Location"] == "/dashboard"
    page = client.get("/dashboard")
    assert page.status_code == 200
    assert "John Smith" in page.get_data(as_text=True)
    assert client.get("/").headers["Location"] == "/dashboard"


def test_email_is_matched_whatever_its_case(client, seeded, login):
    assert login(client, "  John.Smith@Example.COM ", DEMO_PASSWORD).status_code == 303


@pytest.mark.parametrize("email, password", [
    (DEMO_EMAIL, "wrong password"),
    ("nobody@example.com", DEMO_PASSWORD),
    ("otto@example.com", "anything"),  # an account without a password cannot log in
])
def test_wrong_credentials_fail_alike(client, seeded, other_landlord, login, email, password):
    answer = login(client, email, password)
    assert answer.status_code == 401
    assert "That email and password do not match an account." in answer.get_data(as_text=True)
    assert client.get("/dashboard").status_code == 302


def test_login_without_csrf_token_is_refused(client, seeded):
    client.get("/login")
    answer = client.post("/login", data={"email": DEMO_EMAIL, "password": DEMO_PASSWORD})
    assert answer.status_code == 400
    assert client.get("/dashboard").status_code == 302


@pytest.mark.parametrize("target, landing", [
    ("/dashboard?tab=metrics", "/dashboard?tab=metrics"),
    ("/tickets/7", "/tickets/7"),
    ("https://evil.example/", "/dashboard"),
    ("//evil.example/x", "/dashboard"),
    ("/\\evil.example", "/dashboard"),
    ("/\t/evil.example", "/dashboard"),
    ("javascript:alert(1)", "/dashboard"),
    ("http:/evil.example", "/dashboard"),
    ("dashboard", "/dashboard"),
])
def test_next_is_followed_only_to_a_local_path(client, seeded, login, target, landing):
    answer = login(client, DEMO_EMAIL, DEMO_PASSWORD, next=target)
    assert answer.status_code == 303
    assert answer.headers["Location"] == landing


@pytest.mark.parametrize("target", ["/", "/a/b?c=d#e", "/tickets/1"])
def test_local_paths(target):
    assert is_local_path(target)


@pytest.mark.parametrize("target", ["", "a", "//x", "/\\x", "/\nx", "/ x", "https://x/", "/\x7fx"])
def test_not_local_paths(target):
    assert not is_local_path(target)


def test_the_login_form_keeps_next_when_it_fails(client, seeded, csrf_token):
    token = csrf_token(client, "/login?next=/tickets/3")
    failed = client.post("/login?next=/tickets/3",
                         data={"email": DEMO_EMAIL, "password": "nope", "csrf_token": token})
    assert failed.status_code == 401
    again = client.post("/login?next=/tickets/3",
                        data={"email": DEMO_EMAIL, "password": DEMO_PASSWORD,
                              "csrf_token": token})
    assert again.headers["Location"] == "/tickets/3"


def test_logout_needs_post_with_csrf(landlord_client, csrf_token):
    assert landlord_client.get("/logout").status_code == 405
    forged = landlord_client.post("/logout")
    assert forged.status_code == 400
    assert landlord_client.get("/dashboard").status_code == 200  # still logged in
    token = csrf_token(landlord_client, "/dashboard")  # the nav's logout form carries it
    answer = landlord_client.post("/logout", data={"csrf_token": token})
    assert answer.status_code == 303
    assert answer.headers["Location"] == "/login"
    assert landlord_client.get("/dashboard").status_code == 302


def test_session_cookie_is_httponly_and_samesite_lax(client, seeded, login):
    answer = login(client, DEMO_EMAIL, DEMO_PASSWORD)
    cookie = next(c for c in answer.headers.getlist("Set-Cookie") if c.startswith("session="))
    flags = [part.strip().lower() for part in cookie.split(";")]
    assert "httponly" in flags
    assert "samesite=lax" in flags
    assert "secure" not in flags  # development serves plain http on 127.0.0.1


def test_session_cookie_is_secure_in_production(app, database_url, tmp_path):
    production = create_app(make_config(database_url, tmp_path / "prod", env="production"))
    assert production.config["SESSION_COOKIE_SECURE"] is True
    answer = production.test_client().get("/login", base_url="https://fixline.example")
    cookie = next(c for c in answer.headers.getlist("Set-Cookie") if c.startswith("session="))
    flags = [part.strip().lower() for part in cookie.split(";")]
    assert {"secure", "httponly", "samesite=lax"} <= set(flags)


def test_login_attempts_are_rate_limited_per_address_and_email(client, seeded, login,
                                                              frozen_rate_windows):
    for _ in range(LOGIN_ATTEMPTS_PER_MINUTE):
        assert login(client, DEMO_EMAIL, "guess").status_code == 401
    limited = login(client, DEMO_EMAIL, DEMO_PASSWORD)  # even the right password now waits
    assert limited.status_code == 429
    assert int(limited.headers["Retry-After"]) > 0
    assert "Too many attempts" in limited.get_data(as_text=True)
    assert client.get("/dashboard").status_code == 302
    assert login(client, "someone.else@example.com", "guess").status_code == 401


def _example_url(app, rule) -> str:
    values = {}
    for name, converter in rule._converters.items():
        values[name] = uuid.uuid4() if isinstance(converter, UUIDConverter) else 1
    return app.url_map.bind("localhost").build(rule.endpoint, values)


def test_every_landlord_page_needs_login(app, client, csrf_token):
    token = csrf_token(client)  # so that a POST reaches login_required, not the CSRF check
    checked = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint.split(".")[0] not in LANDLORD_BLUEPRINTS:
            continue
        url = _example_url(app, rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            answer = client.open(url, method=method, headers={"X-CSRFToken": token})
            assert answer.status_code in (302, 303), (method, url, answer.status_code)
            assert answer.headers["Location"].startswith("/login?next="), (method, url)
            polled = client.open(url, method=method,
                                 headers={"X-CSRFToken": token, "HX-Request": "true"})
            assert polled.status_code == 401, (method, url)
            assert polled.headers["HX-Redirect"].startswith("/login?next="), (method, url)
            checked.append((method, rule.rule))
    assert ("GET", "/dashboard") in checked


def test_an_htmx_request_after_logout_redirects_the_whole_page(client):
    answer = client.get("/dashboard?v=x&t=1", headers={
        "HX-Request": "true", "HX-Target": "board",
        "HX-Current-URL": "http://localhost/dashboard"})
    assert answer.status_code == 401  # not a 3xx: the browser would follow it into the board
    assert answer.headers["HX-Redirect"] == "/login?next=/dashboard"
    assert answer.get_data() == b""


def test_a_malformed_form_is_shown_again_with_its_errors(client, csrf_token):
    token = csrf_token(client)
    answer = client.post("/login", data={"email": "not an email", "password": "",
                                         "csrf_token": token})
    html = answer.get_data(as_text=True)
    assert answer.status_code == 422
    assert 'aria-invalid="true"' in html and 'id="email-error"' in html


@pytest.fixture
def frozen_rate_windows(monkeypatch):
    """Every attempt falls in one rate-limit window, however long the test takes."""
    monkeypatch.setattr(ratelimit, "time", SimpleNamespace(time=lambda: 1_800_000_000.0))


def test_password_spraying_is_limited_per_address(client, seeded, login, frozen_rate_windows):
    for n in range(LOGIN_ATTEMPTS_PER_ADDRESS_PER_MINUTE):
        assert login(client, f"user{n}@example.com", "Summer2024!").status_code == 401
    limited = login(client, DEMO_EMAIL, DEMO_PASSWORD)  # a new email, the right password
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) > 0
    assert client.get("/dashboard").status_code == 302
    client.environ_base["REMOTE_ADDR"] = "192.0.2.7"  # another address is not held back
    assert login(client, DEMO_EMAIL, DEMO_PASSWORD).status_code == 303


def copy_of(app, client):
    """Another browser holding a copy of client's session cookie."""
    thief = app.test_client()
    thief.set_cookie("session", client.get_cookie("session").value)
    return thief


def test_logout_ends_every_session_of_that_landlord(app, landlord_client, other_client, login,
                                                    csrf_token):
    copied = copy_of(app, landlord_client)
    elsewhere = app.test_client()
    assert login(elsewhere, DEMO_EMAIL, DEMO_PASSWORD).status_code == 303
    assert copied.get("/dashboard").status_code == 200
    token = csrf_token(landlord_client, "/dashboard")
    assert landlord_client.post("/logout", data={"csrf_token": token}).status_code == 303
    for browser in (landlord_client, copied, elsewhere):
        assert browser.get("/dashboard").status_code == 302
    assert other_client.get("/dashboard").status_code == 200  # another landlord's: untouched
    assert login(elsewhere, DEMO_EMAIL, DEMO_PASSWORD).status_code == 303  # a fresh login works
    assert elsewhere.get("/dashboard").status_code == 200
    assert copied.get("/dashboard").status_code == 302


def test_a_password_change_ends_every_session(app, landlord_client, runner, login):
    copied = copy_of(app, landlord_client)
    assert copied.get("/dashboard").status_code == 200
    changed = runner.invoke(args=["set-password", DEMO_EMAIL, "--password", "a new password"])
    assert changed.exit_code == 0, changed.output
    for browser in (landlord_client, copied):
        assert browser.get("/dashboard").status_code == 302
    assert login(copied, DEMO_EMAIL, DEMO_PASSWORD).status_code == 401
    assert login(copied, DEMO_EMAIL, "a new password").status_code == 303
    assert copied.get("/dashboard").status_code == 200


POLL = {"HX-Request": "true", "HX-Trigger": "board", "HX-Target": "board",
        "HX-Current-URL": "http://localhost/dashboard"}


def test_an_idle_session_ends_and_use_keeps_it_going(app, client, seeded, login):
    idle = app.extensions["fixline"].session_idle_seconds
    start = datetime(2031, 3, 4, 9, 0)
    clock.set_fake(start)
    assert login(client, DEMO_EMAIL, DEMO_PASSWORD).status_code == 303
    clock.set_fake(start + timedelta(seconds=idle - 60))
    assert client.get("/dashboard").status_code == 200
    clock.set_fake(start + timedelta(seconds=2 * idle - 120))  # idle since the last page
    assert client.get("/vendors/").status_code == 200
    clock.set_fake(start + timedelta(seconds=3 * idle))
    assert client.get("/dashboard").status_code == 302
    assert "Your session has ended" in client.get("/login").get_data(as_text=True)


def test_the_dashboards_own_polls_do_not_keep_a_session_alive(app, client, seeded, login):
    idle = app.extensions["fixline"].session_idle_seconds
    start = datetime(2031, 3, 4, 9, 0)
    clock.set_fake(start)
    assert login(client, DEMO_EMAIL, DEMO_PASSWORD).status_code == 303
    for minutes in range(0, idle // 60, 30):  # an open dashboard on an unattended screen
        clock.set_fake(start + timedelta(minutes=minutes))
        assert client.get("/dashboard?v=x&t=1", headers=POLL).status_code == 200
    clock.set_fake(start + timedelta(seconds=idle + 1))
    ended = client.get("/dashboard?v=x&t=1", headers=POLL)
    assert ended.status_code == 401 and ended.headers["HX-Redirect"].startswith("/login")


def test_the_idle_time_is_configurable(tmp_path):
    assert Config.from_env({"FIXLINE_INSTANCE_PATH": str(tmp_path)}).session_idle_seconds == 28800
    config = Config.from_env({"FIXLINE_INSTANCE_PATH": str(tmp_path),
                              "SESSION_IDLE_SECONDS": "900"})
    assert config.session_idle_seconds == 900
