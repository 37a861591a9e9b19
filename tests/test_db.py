"""app.db: SQLite writers queue on a file lock that threads and processes share."""

from __future__ import annotations

import fcntl
import os
import re
import signal
import subprocess
import sys
import textwrap
import threading
import time

import pytest
from peewee import SqliteDatabase

import app.db as app_db
from app.db import _lock_fd, bind, db, open_database, release, transaction
from app.migrate import upgrade
from app.models import Landlord
from tests.postgres import POSTGRES_URL


@pytest.fixture
def sqlite_db(tmp_path):
    """A migrated SQLite file bound to the model proxy."""
    database = open_database(f"sqlite:///{tmp_path / 'fixline.db'}")
    bind(database)
    with db.connection_context():
        upgrade()
    yield database
    if not database.is_closed():
        database.close()


def _landlord(name: str) -> Landlord:
    return Landlord.create(name=name, email=f"{name}@example.com", phone="+15555550100")


def _add_landlord(name: str) -> None:
    with db.connection_context(), transaction():
        _landlord(name)


def _names() -> list[str]:
    with db.connection_context():
        return sorted(landlord.name for landlord in Landlord.select())


def test_second_writer_waits_for_the_first_then_proceeds(sqlite_db):
    holding, go_on, order = threading.Event(), threading.Event(), []

    def first():
        with db.connection_context(), transaction():
            _landlord("first")
            holding.set()
            go_on.wait(5)
            order.append("first committed")

    def second():
        holding.wait(5)
        _add_landlord("second")
        order.append("second committed")

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    holding.wait(5)
    time.sleep(0.2)  # the second writer is queued behind the first, not failing
    assert order == []
    go_on.set()
    for thread in threads:
        thread.join(10)
    assert order == ["first committed", "second committed"]
    assert _names() == ["first", "second"]


def test_a_failed_transaction_lets_go_of_the_lock(sqlite_db):
    with pytest.raises(RuntimeError), db.connection_context(), transaction():
        _landlord("gone")
        raise RuntimeError("boom")
    done = threading.Thread(target=_add_landlord, args=("next",))
    done.start()
    done.join(5)
    assert not done.is_alive()
    assert _names() == ["next"]


def test_nested_transactions_take_the_lock_once(sqlite_db):
    # the inner one is a savepoint: it would deadlock if it queued behind its own lock
    with db.connection_context(), transaction(), transaction():
        _landlord("inner")
    assert _names() == ["inner"]


def test_a_killed_process_holding_the_lock_does_not_block_the_others(sqlite_db, tmp_path):
    holder = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(f"""
            import sys, time
            sys.path.insert(0, {os.getcwd()!r})
            from app.db import _lock_fd, bind, db, open_database, release, transaction
            bind(open_database("sqlite:///{tmp_path / 'fixline.db'}"))
            with db.connection_context(), transaction():
                print("holding", flush=True)
                time.sleep(60)
        """)],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "holding"
        waiter = threading.Thread(target=_add_landlord, args=("after",))
        waiter.start()
        waiter.join(0.3)
        assert waiter.is_alive()  # queued behind the other process
        holder.send_signal(signal.SIGKILL)
        waiter.join(10)
        assert not waiter.is_alive()
    finally:
        holder.kill()
        holder.wait()
    assert _names() == ["after"]


def test_in_memory_databases_need_no_lock_file(tmp_path):
    bind(SqliteDatabase(":memory:"))
    with db.connection_context():
        upgrade()
        with transaction():
            _landlord("mem")
        assert Landlord.select().count() == 1


def test_writers_queue_on_the_lock_file_beside_the_database(sqlite_db, tmp_path):
    fd = os.open(tmp_path / "fixline.db-writer", os.O_RDWR | os.O_CREAT)
    fcntl.flock(fd, fcntl.LOCK_EX)
    waiter = threading.Thread(target=_add_landlord, args=("queued",))
    try:
        waiter.start()
        waiter.join(0.3)
        assert waiter.is_alive()  # SQLite itself is free: the writer waits on the file lock
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
    waiter.join(10)
    assert not waiter.is_alive()


def test_release_frees_a_writer_lock_an_interrupted_transaction_left(sqlite_db, tmp_path):
    fcntl.flock(_lock_fd(f"{tmp_path / 'fixline.db'}-writer"), fcntl.LOCK_EX)  # as if leaked
    waiter = threading.Thread(target=_add_landlord, args=("later",))
    waiter.start()
    waiter.join(0.3)
    assert waiter.is_alive()
    release()  # the end of this thread's request or actor message
    waiter.join(10)
    assert not waiter.is_alive()
    assert _names() == ["later"]


def test_an_sqlite_without_returning_is_refused_with_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setattr(app_db.sqlite3, "sqlite_version_info", (3, 34, 1))
    monkeypatch.setattr(app_db.sqlite3, "sqlite_version", "3.34.1")
    with pytest.raises(RuntimeError, match=r"needs SQLite 3\.35\.0 or newer .*has SQLite 3\.34\.1"):
        open_database(f"sqlite:///{tmp_path / 'fixline.db'}")


@pytest.fixture
def pooled(monkeypatch):
    """A postgresql+pool:// database on the test server, and how often its pool asked the
    server whether a connection it handed out was alive."""
    if not POSTGRES_URL:
        pytest.skip("PostgreSQL not configured: set TEST_DATABASE_URL to run these")
    database = open_database(re.sub(r"^postgres(ql)?://", "postgresql+pool://", POSTGRES_URL))
    asked = []
    real = database._adapter.is_connection_closed

    def is_connection_closed(conn):
        asked.append(conn)
        return real(conn)

    monkeypatch.setattr(database._adapter, "is_connection_closed", is_connection_closed)
    yield database, asked
    database.close_all()


def _backend(database) -> int:
    """The server process of the connection the pool hands out now (checked in after)."""
    database.connect()
    try:
        return database.execute_sql("SELECT pg_backend_pid()").fetchone()[0]
    finally:
        database.close()


def _terminate(pid: int) -> None:
    import psycopg2

    with psycopg2.connect(POSTGRES_URL) as conn, conn.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s, 5000)", (pid,))  # waits till it ends
    conn.close()


def test_a_pooled_connection_back_moments_ago_is_handed_out_without_asking(pooled):
    """peewee's pool asks the server SELECT 1 before handing out each pooled connection: four
    round trips a booking. One checked in moments ago is handed out as it is; one idle longer
    than ALIVE_WITHIN is asked about, as before."""
    database, asked = pooled
    first = _backend(database)
    assert _backend(database) == first and asked == []  # back moments ago: not asked
    database.ALIVE_WITHIN = 0.0
    assert _backend(database) == first and len(asked) == 1  # idle longer: asked, alive


def test_a_pooled_connection_the_server_dropped_is_replaced(pooled):
    """The server ends a pooled connection: idle past the window, the pool's question finds it
    gone and a new one serves at once; within the window, its first statement fails and the
    broken connection is dropped when checked in, so the next one serves."""
    import peewee

    database, asked = pooled
    database.ALIVE_WITHIN = 0.0
    gone = _backend(database)
    _terminate(gone)
    assert _backend(database) not in (gone, None) and len(asked) == 1
    database.ALIVE_WITHIN = 60.0
    gone = _backend(database)
    _terminate(gone)
    database.connect()
    with pytest.raises((peewee.OperationalError, peewee.InterfaceError)):
        database.execute_sql("SELECT 1")
    database.close()
    assert _backend(database) != gone
