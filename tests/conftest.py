"""Fixtures: an app on a fresh database (SQLite always, PostgreSQL when configured)."""

from __future__ import annotations

import os
import urllib.parse
import uuid
from queue import Queue

import dramatiq
import pytest

from app import clock, create_app
from app.api.auth import mint
from app.config import Config
from app.db import db
from app.migrate import MIGRATIONS_DIR, upgrade
from app.models import Landlord, Property, Tenant
from tests import write_audit
from tests.databases import schema_pool, sqlite_template
from tests.postgres import POSTGRES_URL, fresh_schema

BACKENDS = ["sqlite", "postgres"]

# `make test` runs the suite on every core (pytest-xdist, --dist loadgroup). Each worker
# process (PYTEST_XDIST_WORKER gw0, gw1, ...) gets a Redis database pair of its own on
# TEST_REDIS_URL's server: worker i uses number N - 2i (N is TEST_REDIS_URL's own) and the one
# below it (tests/integration/test_many_machines.py's second database), so no worker's flushdb
# or queue reaches another's. This runs before any test module reads TEST_REDIS_URL.
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")


def worker_redis_url(url: str, worker: str) -> str:
    """url moved to the worker's own database number (url itself outside xdist or for gw0)."""
    if not worker.startswith("gw"):
        return url
    index = int(worker[2:])
    parts = urllib.parse.urlsplit(url)
    number = int(parts.path.strip("/") or 0)
    if 2 * index + 1 > number:
        raise pytest.UsageError(
            f"xdist worker {worker} has no Redis database of its own below {url}'s {number} "
            "(two a worker): run fewer workers (-n) or point TEST_REDIS_URL at database 15")
    return urllib.parse.urlunsplit(parts._replace(path=f"/{number - 2 * index}"))


if os.environ.get("TEST_REDIS_URL") and WORKER:
    os.environ["TEST_REDIS_URL"] = worker_redis_url(os.environ["TEST_REDIS_URL"], WORKER)

# Tests that must never overlap each other under xdist form one group: `make test`'s
# `--dist loadgroup` gives a group to a single worker, which runs it test after test while the
# other workers take the rest (they join in once the group is done). The "stack" group is every
# test that starts real processes and times them (workers killed, a lease taken over within
# 10 s, faults under load, `make run` started and stopped, the browser tests with their `make
# run` stack and Chromium), so no two of those ever share the 2 cores of CI.
GROUPS = {"tests/integration/": "stack", "tests/test_make_run.py": "stack",
          "tests/browser/": "stack"}


def group_of(nodeid: str) -> str | None:
    return next((group for prefix, group in GROUPS.items() if nodeid.startswith(prefix)), None)


@pytest.hookimpl(tryfirst=True, optionalhook=True)  # no such hook with -p no:xdist
def pytest_xdist_make_scheduler(config, log):
    """--dist loadgroup by GROUPS (and xdist_group marks): a group is one unit of work, every
    other test a unit of its own, the biggest unit handed out first.

    pytest-xdist 3.8 tags a marked test's node id with "@group" on the workers, which pytest 9
    no longer lets a plugin change, so its own loadgroup would spread the groups over workers.
    """
    if config.getvalue("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class GroupScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            if nodeid.rfind("@") > nodeid.rfind("]"):
                return nodeid.split("@")[-1]
            return group_of(nodeid) or nodeid

    return GroupScheduling(config, log)


def pytest_collection_modifyitems(config, items):
    """The browser tests last: their session-wide `make run` stack then never runs beside the
    other stack tests of its worker."""
    items.sort(key=lambda item: item.nodeid.startswith("tests/browser/"))


MIGRATIONS = len(list(MIGRATIONS_DIR.glob("[0-9]*.py")))


@pytest.fixture(params=BACKENDS)
def database_url(request, tmp_path):
    """A database URL of the test's own: a SQLite file, or a PostgreSQL schema.

    For a test that uses `app` it is already migrated and empty (tests/databases.py: a copy of a
    migrated file, or the process's schema emptied); for any other test it is empty and new.
    """
    migrated = "app" in request.fixturenames
    if request.param == "sqlite":
        if migrated:
            sqlite_template.place(tmp_path / "fixline.db")
        yield f"sqlite:///{tmp_path / 'fixline.db'}"
        return
    if not POSTGRES_URL:
        pytest.skip("PostgreSQL not configured: set TEST_DATABASE_URL to run these")
    if migrated:
        try:
            yield schema_pool.url()
        finally:
            if not db.is_closed():
                db.close()
            schema_pool.release(MIGRATIONS)
        return
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
    outside = write_audit.watch(db.obj) if config.database_url.startswith("sqlite") else []
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
    assert not outside, "writes outside app.db.transaction():\n" + "\n".join(outside)


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
# What passing tests printed (the load, race and statement tests' figures), shown at the end of
# the run so CI's log holds them; pytest would otherwise keep a passing test's output to itself.
_figures: list[tuple[str, str]] = []
FIGURE_LINES = 40  # of one test's output, at most


def pytest_runtest_logreport(report):
    if report.when == "call" and report.passed and report.capstdout.strip():
        _figures.append((report.nodeid, report.capstdout.strip()))
    if report.skipped and os.environ.get("FIXLINE_REQUIRE_SERVICES") == "1":
        reason = str(report.longrepr[-1]) if isinstance(report.longrepr, tuple) else ""
        if any(word in reason.lower() for word in MISSING_SERVICE_WORDS):
            _skipped_for_services.append(f"{report.nodeid}: {reason}")


def pytest_terminal_summary(terminalreporter):
    """The figures passing tests printed, each under its test's id."""
    if not _figures:
        return
    terminalreporter.section("figures printed by passing tests")
    for nodeid, output in sorted(_figures):
        lines = output.splitlines()
        terminalreporter.write_line(nodeid)
        for line in lines[:FIGURE_LINES]:
            terminalreporter.write_line("  " + line)
        if len(lines) > FIGURE_LINES:
            terminalreporter.write_line(f"  … {len(lines) - FIGURE_LINES} more lines")


def pytest_sessionfinish(session, exitstatus):
    if _skipped_for_services:
        print(f"\n{len(_skipped_for_services)} test(s) skipped for a missing service although "
              "FIXLINE_REQUIRE_SERVICES=1:")
        for line in _skipped_for_services[:20]:
            print("  " + line)
        session.exitstatus = 1
