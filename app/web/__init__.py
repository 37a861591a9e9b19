"""HTML pages (htmx): one blueprint module per noun, registered here."""

from __future__ import annotations

from flask import Flask

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'self'; "
       "object-src 'none'")


def _security_headers(response):
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("X-Frame-Options", "DENY")
    return response


def init_app(app: Flask, *, demo: bool) -> None:
    """Register every page blueprint and the headers all pages carry."""
    from htmx_flask import Htmx

    from app import feed
    from app.web import auth, pages

    feed.configure(app.extensions["fixline"].broker_url)  # off with stub:// or LIVE_UPDATES=0
    Htmx(app)
    app.after_request(_security_headers)
    auth.init_app(app)
    for blueprint in pages.blueprints(demo=demo):
        app.register_blueprint(blueprint)
