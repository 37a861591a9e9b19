"""Fixtures: an app on a fresh database (SQLite always, PostgreSQL when configured)."""

from __future__ import annotations

import os
import uuid
from queue import Queue

import dramatiq
import pytest

from app import clock, create_app
from app.api.auth import mint
from app.config import Config
from app.db import db
from app.migrate import upgrade
from app.models import Landlord, Property, Tenant
from tests.postgres import POSTGRES_URL, fresh_schema

BACKENDS = ["sqlite", "postgres"]


@pytest.fixture(params=BACKENDS)
def database_url(request, tmp_path):
    """A fresh empty database URL per test: a SQLite file, or a PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'fixline.db'}"
        return
    if not POSTGRES_URL:
        pytest.skip("PostgreSQL not configured: set TEST_DATABASE_URL to run these")
    with fresh_schema("t_") as url:
        try:
            yield url
        finally:
            if not db.is_closed():
                db.close()


def make_config(database_url: str, instance_path, **overrides) -> Config:
    environ = {"DATABASE_URL": database_url, "REDIS_URL": "stub://",
               "FIXLINE_INSTANCE_PATH": str(instance_path)}
    overrides.setdefault("testing", True)
    # Tests run at any hour: no quiet hours unless a test sets them (tests/test_quiet_hours.py).
    overrides.setdefault("landlord_quiet_hours", None)
    return Config.from_env(environ, **overrides)


@pytest.fixture
def config(database_url, tmp_path) -> Config:
    return make_config(database_url, tmp_path / "instance")


@pytest.fixture
def app(config):
    """The application on a migrated, empty database."""
    application = create_app(config)
    with db.connection_context():
        upgrade()
    broker = dramatiq.get_broker()
    # Fresh queues: a message an earlier test's worker took but never acked would otherwise
    # keep its queue's unfinished count above zero, and broker.join() would wait forever.
    for name in list(broker.queues):
        broker.queues[name] = Queue()
    from actors import runtime

    runtime.use(application)
    with application.app_context():
        yield application
    broker.flush_all()
    clock.set_fake(None)
    if not db.is_closed():
        db.close()
    db.obj.close_all() if hasattr(db.obj, "close_all") else None


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def broker(app):
    return dramatiq.get_broker()


@pytest.fixture
def worker(broker):
    """A Dramatiq worker over the stub broker; use broker.join(queue) then assert."""
    w = dramatiq.Worker(broker, worker_timeout=50, worker_threads=2)
    w.start()
    yield w
    w.stop()


def make_landlord(name: str, email: str, phone: str) -> Landlord:
    with db.connection_context():
        landlord = Landlord.create(name=name, email=email, phone=phone)
        prop = Property.create(landlord=landlord, address=f"{name}'s flat",
                               timezone="America/Chicago")
        Tenant.create(property=prop, name=f"Tenant of {name}", phone="+15550000001",
                      intake_token=uuid.uuid4().hex)
    return landlord


@pytest.fixture
def landlord(app) -> Landlord:
    return make_landlord("Lana Lord", "lana@example.com", "+15550001000")


@pytest.fixture
def other_landlord(app) -> Landlord:
    return make_landlord("Otto Other", "otto@example.com", "+15550002000")


@pytest.fixture
def api_key(landlord) -> str:
    with db.connection_context():
        return mint(landlord)


@pytest.fixture
def auth(api_key) -> dict[str, str]:
    return {"Authorization": f"Bearer {api_key}"}


@pytest.fixture
def other_auth(other_landlord) -> dict[str, str]:
    with db.connection_context():
        return {"Authorization": f"Bearer {mint(other_landlord)}"}


@pytest.fixture
def home(landlord):
    """The landlord's first property and its tenant."""
    with db.connection_context():
        prop = Property.get(Property.landlord == landlord)
        return prop, Tenant.get(Tenant.property == prop)


# On CI every service is provided, so a skip for a missing one means a suite silently did
# not run: FIXLINE_REQUIRE_SERVICES=1 (set by .ci/run) turns those skips into a failure.
MISSING_SERVICE_WORDS = ("not configured", "not installed")
_skipped_for_services: list[str] = []


def pytest_runtest_logreport(report):
    if report.skipped and os.environ.get("FIXLINE_REQUIRE_SERVICES") == "1":
        reason = str(report.longrepr[-1]) if isinstance(report.longrepr, tuple) else ""
        if any(word in reason.lower() for word in MISSING_SERVICE_WORDS):
            _skipped_for_services.append(f"{report.nodeid}: {reason}")


def pytest_sessionfinish(session, exitstatus):
    if _skipped_for_services:
        print(f"\n{len(_skipped_for_services)} test(s) skipped for a missing service although "
              "FIXLINE_REQUIRE_SERVICES=1:")
        for line in _skipped_for_services[:20]:
            print("  " + line)
        session.exitstatus = 1
