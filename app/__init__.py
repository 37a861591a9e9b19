"""Fixline: create_app builds the Flask application from configuration."""

from __future__ import annotations

from flask import Flask

from app.config import ROOT, Config


def create_app(config: Config | None = None) -> Flask:
    """Build the application: configuration, database, broker, blueprints, CLI."""
    config = config or Config.from_env()
    app = Flask(
        __name__,
        instance_path=str(config.instance_path),
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    app.config.update(
        SECRET_KEY=config.secret_key,
        MAX_CONTENT_LENGTH=config.max_body_bytes,
        TESTING=config.testing,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=config.production,
        JSON_SORT_KEYS=False,
    )
    app.extensions["fixline"] = config
    from app.bounds import Int64Converter

    app.url_map.converters["int"] = Int64Converter  # every <int:id> rule: 64 bits or a 404

    from app import db as database

    database.bind(database.open_database(config.database_url, ROOT,
                                         prepare=config.database_prepare))

    import actors.broker

    actors.broker.configure(config.broker_url)
    from actors import wiring

    wiring.connect()

    from app import observability

    observability.init_app(app)
    from app import i18n

    i18n.init_app(app)

    from app import webhooks
    from app.api import bp as api_bp
    from app.booking import handlers  # noqa: F401  (fills the event handler table)

    app.register_blueprint(webhooks.bp)
    from flask_wtf.csrf import CSRFProtect

    csrf = CSRFProtect(app)
    csrf.exempt(webhooks.bp)
    from app import web

    web.init_app(app, demo=config.demo)
    if config.production:  # every response, API and webhooks too (CONTRACT.md §14)
        app.after_request(_strict_transport_security)

    app.register_blueprint(api_bp)
    csrf.exempt(api_bp)  # bearer keys, not cookies: nothing for a forged form to ride on
    from app.api import errors as api_errors

    api_errors.init_app(app)

    from app import cli

    cli.init_app(app)
    return app


HSTS = "max-age=31536000; includeSubDomains"


def _strict_transport_security(response):
    response.headers.setdefault("Strict-Transport-Security", HSTS)
    return response


def fixline_config(app: Flask) -> Config:
    """The Config an application was built with."""
    return app.extensions["fixline"]
