"""The peewee database: declared once, bound from configuration, one transaction helper."""

from __future__ import annotations

import fcntl
import logging
import os
import re
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from peewee import DatabaseProxy, PostgresqlDatabase, SqliteDatabase
from playhouse.db_url import connect, register_database
from playhouse.pool import PooledPostgresqlDatabase

from app import shared_metrics

db = DatabaseProxy()

SQLITE_PRAGMAS = {
    "journal_mode": "wal",
    "busy_timeout": 10000,
    "foreign_keys": 1,
    "synchronous": "normal",
}

SQLITE_AT_LEAST = (3, 35, 0)  # RETURNING (a claim or status change reads back its row)

_local = threading.local()


def open_database(url: str, root: Path | None = None, *, prepare: bool = True):
    """Create the Database a URL names; SQLite gets WAL, a busy timeout and foreign keys.
    prepare (PostgreSQL): app.prepared's statements are prepared on the server."""
    if url.startswith("sqlite:///") and not url.startswith("sqlite:////") and root is not None:
        path = root / url[len("sqlite:///"):]
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        url = f"sqlite:///{path}"
    if url.startswith("sqlite"):
        if sqlite3.sqlite_version_info < SQLITE_AT_LEAST:
            raise RuntimeError(
                f"Fixline needs SQLite {'.'.join(map(str, SQLITE_AT_LEAST))} or newer "
                f"(UPDATE … RETURNING); this Python has SQLite {sqlite3.sqlite_version}")
        database = connect(url, pragmas=SQLITE_PRAGMAS, check_same_thread=False)
        _keep_private(database.database)
    else:
        database = connect(url)
        database.fixline_prepare = prepare and isinstance(database, PostgresqlDatabase)
    return database


class PooledPostgres(PooledPostgresqlDatabase):
    """peewee's PostgreSQL pool (postgresql+pool://), without its liveness round trip for a
    connection checked in moments ago.

    peewee asks the server `SELECT 1` each time it hands out a pooled connection, under the
    pool's lock: four round trips a booking, one per request or actor message. A connection
    back in the pool for less than ALIVE_WITHIN seconds, idle and not known broken, is handed
    out as it is (HikariCP's aliveBypassWindowMs does the same, at 500 ms); one idle longer is
    asked as before. A server that died within that window fails the statement instead, and
    the broken connection is dropped when it is checked in, as any failed one is.
    """

    ALIVE_WITHIN = 0.5

    def init(self, database, **kwargs):
        super().init(database, **kwargs)
        self._checked_in: dict[int, float] = {}

    def _close(self, conn, close_conn=False):
        super()._close(conn, close_conn)
        if close_conn or conn.closed:  # not back in the pool
            self._checked_in.pop(self.conn_key(conn), None)
        else:
            self._checked_in[self.conn_key(conn)] = time.monotonic()

    def _is_closed(self, conn):
        back = self._checked_in.pop(self.conn_key(conn), None)
        if (back is not None and time.monotonic() - back < self.ALIVE_WITHIN
                and not conn.closed
                and self._adapter.txn_status(conn) == self._adapter.txn_idle):
            return False
        return super()._is_closed(conn)


register_database(PooledPostgres, "postgres+pool", "postgresql+pool")


# app.prepared's statements by their names on the server, for the slow-query log
PREPARED_SQL: dict[str, str] = {}
_EXECUTE = re.compile(r"EXECUTE (fixline_\d+)\b")


def prepared_statements(database) -> bool:
    """Whether app.prepared prepares its statements on this database's server."""
    return getattr(database, "fixline_prepare", False)


def shown_sql(sql: str) -> str:
    """The SQL a statement ran: a prepared statement's own, not its EXECUTE."""
    match = _EXECUTE.match(sql)
    return PREPARED_SQL.get(match.group(1), sql) if match else sql


SQLITE_COMPANIONS = ("-wal", "-shm", "-journal", "-writer")


def _keep_private(name: str) -> None:
    """The SQLite file and its companions readable by their owner only (0600).

    The database file is created 0600 before SQLite opens it; SQLite gives the -wal, -shm and
    -journal files it creates the database file's mode. Files an older version left readable
    to others are narrowed.
    """
    if not name or name == ":memory:" or name.startswith("file:"):
        return
    try:
        os.close(os.open(name, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600))
    except FileNotFoundError:  # no such directory: SQLite says so when it connects
        return
    for path in [name] + [name + suffix for suffix in SQLITE_COMPANIONS]:
        try:
            if os.stat(path).st_mode & 0o077:
                os.chmod(path, 0o600)
        except FileNotFoundError:
            pass


slow_log = logging.getLogger("fixline.slow_query")
SQL_SHAPE_CHARS = 2000


def watch_slow_queries(database, threshold_ms: int) -> None:
    """Log statements slower than threshold_ms at WARNING: their SQL with placeholders and the
    duration, never the bound values; count them for /metrics. Times execute() (SQLite: up to
    the first row)."""
    database.query_hooks[:] = [hook for hook in database.query_hooks
                               if not getattr(hook, "_fixline_slow", False)]

    def hook(event) -> None:
        elapsed_ms = event.duration * 1000
        if elapsed_ms > threshold_ms:
            shared_metrics.count("slow_queries", "")
            shape = re.sub(r"\s+", " ", shown_sql(event.sql)).strip()[:SQL_SHAPE_CHARS]
            slow_log.warning("slow query %.1fms%s: %s", elapsed_ms,
                             " (failed)" if event.exception is not None else "", shape)

    hook._fixline_slow = True
    database.query_hooks.append(hook)


def bind(database) -> None:
    """Point the model proxy at a concrete database."""
    db.initialize(database)


def is_sqlite() -> bool:
    return isinstance(db.obj, SqliteDatabase)


def is_postgres() -> bool:
    return isinstance(db.obj, PostgresqlDatabase)


def lock_row(model, row_id: int) -> None:
    """Inside a transaction, make others that lock the same row wait until it ends: a row lock
    on PostgreSQL (NO KEY: rows that merely reference it still insert); SQLite's IMMEDIATE
    transactions already run one writer at a time."""
    if is_postgres():
        (model.select(model._meta.primary_key).where(model._meta.primary_key == row_id)
         .for_update("FOR NO KEY UPDATE").execute())


def after_commit(callback: Callable[[], None]) -> None:
    """Run callback once the outermost transaction() on this thread commits."""
    pending = getattr(_local, "pending", None)
    if pending is None:
        callback()  # not inside transaction(): the write is already committed
    else:
        pending.append(callback)


@contextmanager
def transaction() -> Iterator[None]:
    """All-or-nothing write; SQLite takes the write lock up front to avoid upgrade deadlocks."""
    outermost = getattr(_local, "pending", None) is None
    if outermost:
        _local.pending = []
    mark = len(_local.pending)
    try:
        if is_sqlite():
            with _sqlite_writer(outermost), db.atomic("IMMEDIATE"):
                yield
        else:
            with db.atomic():
                yield
    except BaseException:
        if outermost:
            _local.pending = None
        else:  # the savepoint rolled back: so do the callbacks registered inside it
            del _local.pending[mark:]
        raise
    if outermost:
        callbacks, _local.pending = _local.pending, None
        for callback in callbacks:
            callback()


@contextmanager
def _sqlite_writer(outermost: bool) -> Iterator[None]:
    """Queue for SQLite's write lock on a file lock beside the database.

    SQLite's busy handler polls: a waiter sleeps up to 100 ms between tries, so the lock sits
    idle while writers doze. flock() waiters are woken by the kernel the moment the holder
    lets go, across threads and processes alike (each thread has its own open file), and a
    dead process's lock is dropped with it. busy_timeout still guards writers outside this.
    """
    path = _lock_path()
    if not outermost or path is None:
        yield
        return
    fd = _lock_fd(path)
    asked = time.perf_counter()
    taken = None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        taken = time.perf_counter()
        yield
    finally:  # also after an exception injected between flock() and yield (time limits)
        released = time.perf_counter()  # before letting go: after it, other threads may run
        fcntl.flock(fd, fcntl.LOCK_UN)
        if taken is not None:  # /metrics: is the one writer the limit? (docs/operations.md)
            shared_metrics.observe("sqlite_writer_seconds", "wait", taken - asked)
            shared_metrics.observe("sqlite_writer_seconds", "hold", released - taken)


def _lock_path() -> str | None:
    name = db.obj.database
    if not name or name == ":memory:" or name.startswith("file:"):
        return None
    return f"{name}-writer"


def _lock_fd(path: str) -> int:
    fds = getattr(_local, "lock_fds", None)
    if fds is None:
        fds = _local.lock_fds = {}
    fd = fds.get(path)
    if fd is None:
        fd = fds[path] = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    return fd


def release() -> None:
    """End a unit of work: SQLite keeps the thread's connection (opening one costs four
    PRAGMAs, more than a booking's queries); other databases close it (use +pool URLs).

    Also lets go of this thread's SQLite writer lock, should an exception injected at the
    wrong moment (Dramatiq's time limit) have skipped its release: no writer waits forever.
    """
    if getattr(_local, "pending", None) is None:
        for fd in getattr(_local, "lock_fds", {}).values():
            fcntl.flock(fd, fcntl.LOCK_UN)
    if not db.is_closed() and not is_sqlite():
        db.close()
