"""The Fixline application a worker process runs its messages in."""

from __future__ import annotations

import threading

from flask import Flask

from app.db import db, release

_app: Flask | None = None
_lock = threading.Lock()
_local = threading.local()


def use(app: Flask) -> None:
    """Run actors inside this app (tests pass theirs; workers build one lazily)."""
    global _app
    _app = app


def app() -> Flask:
    global _app
    with _lock:
        if _app is None:
            from app import create_app

            _app = create_app()
    return _app


def config():
    return app().extensions["fixline"]


def enter() -> None:
    """Open the app context and a database connection for one message."""
    ctx = app().app_context()
    ctx.push()
    _local.ctx = ctx
    _local.opened = db.connect(reuse_if_open=True)


def leave() -> None:
    """Close what enter() opened."""
    if getattr(_local, "opened", False):
        release()
    ctx = getattr(_local, "ctx", None)
    if ctx is not None:
        ctx.pop()
    _local.ctx = None
    _local.opened = False
