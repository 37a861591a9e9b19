"""Migrated test databases made cheaply: migrating from scratch for every test was most of the
suite's time (PostgreSQL ~0.4 s to migrate and ~0.1 s to drop a test's schema, more under
load, SQLite ~0.16 s), so a process migrates once and then hands each test an emptied copy.

- SQLite: a template file migrated once per process, copied page by page (backup API) to the
  test's own path.
- PostgreSQL: one schema per process, migrated by the first test that uses it and emptied
  between tests (every row deleted, sequences restarted: ~7 ms). A test that leaves the schema
  shaped differently from a fully migrated one (a dropped table, a column added) has it dropped
  at teardown, and the next test starts on a fresh one.

A test that needs an *empty* database (the migration tests) does not use the `app` fixture and
still gets a fresh one (tests/conftest.py database_url).
"""

from __future__ import annotations

import atexit
import sqlite3
import tempfile
import uuid
from pathlib import Path

from tests.postgres import POSTGRES_URL

HISTORY = "schema_migration"  # playhouse.migrations' record of applied migrations (Runner default)


def _migrate(url: str) -> None:
    """Apply every migration to url (a throwaway app bound to it)."""
    from app import create_app
    from app.config import Config
    from app.db import db
    from app.migrate import upgrade

    instance = tempfile.mkdtemp(prefix="fixline-template-")
    create_app(Config.from_env({"DATABASE_URL": url, "REDIS_URL": "stub://",
                                "FIXLINE_INSTANCE_PATH": instance}, testing=True))
    with db.connection_context():
        upgrade()
    db.close()


class SqliteTemplate:
    """A migrated SQLite file made once per process, copied to each test's path."""

    def __init__(self) -> None:
        self.path: Path | None = None

    def place(self, target: Path) -> None:
        """Write a migrated, empty database at target."""
        if self.path is None:
            path = Path(tempfile.mkdtemp(prefix="fixline-sqlite-")) / "template.db"
            _migrate(f"sqlite:///{path}")
            self.path = path
        source, copy = sqlite3.connect(self.path), sqlite3.connect(target)
        try:
            source.backup(copy)
        finally:
            source.close()
            copy.close()


class SchemaPool:
    """One reusable PostgreSQL schema per process, emptied between the tests that use it."""

    def __init__(self) -> None:
        self.schema: str | None = None
        self.shape: list[tuple] | None = None  # the fully migrated schema's relations and columns

    def _connect(self):
        import psycopg2

        conn = psycopg2.connect(POSTGRES_URL)
        conn.autocommit = True
        return conn

    def url(self) -> str:
        """The process's schema, emptied (created, and migrated by the caller, on first use)."""
        conn = self._connect()
        try:
            with conn.cursor() as cur:
                if self.schema is None:
                    self.schema = "p_" + uuid.uuid4().hex[:12]
                    cur.execute(f"CREATE SCHEMA {self.schema}")
                else:
                    self._empty(cur)
        finally:
            conn.close()
        sep = "&" if "?" in POSTGRES_URL else "?"
        return f"{POSTGRES_URL}{sep}options=-csearch_path%3D{self.schema}"

    def _empty(self, cur) -> None:
        cur.execute("SELECT table_name FROM information_schema.tables "
                    "WHERE table_schema = %s AND table_type = 'BASE TABLE'", (self.schema,))
        tables = [name for (name,) in cur.fetchall() if name != HISTORY]
        cur.execute("SELECT sequence_name FROM information_schema.sequences "
                    "WHERE sequence_schema = %s", (self.schema,))
        sequences = [name for (name,) in cur.fetchall()]
        # Replica role skips the foreign-key triggers, so the order of the deletes is free.
        statements = ["BEGIN", "SET LOCAL session_replication_role = replica"]
        statements += [f'DELETE FROM {self.schema}."{name}"' for name in tables]
        statements += [f'ALTER SEQUENCE {self.schema}."{name}" RESTART' for name in sequences]
        cur.execute(";".join(statements + ["COMMIT"]))

    def _current_shape(self, cur) -> list[tuple]:
        cur.execute("SELECT c.relname, c.relkind, a.attname, a.atttypid FROM pg_class c "
                    "JOIN pg_namespace n ON n.oid = c.relnamespace "
                    "LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 "
                    "AND NOT a.attisdropped WHERE n.nspname = %s ORDER BY 1, 3", (self.schema,))
        return cur.fetchall()

    def release(self, expected_migrations: int) -> None:
        """Keep the schema for the next test only if it is still exactly the migrated shape."""
        if self.schema is None:
            return
        conn = self._connect()
        try:
            with conn.cursor() as cur:
                shape = self._current_shape(cur)
                applied = 0
                if any(row[0] == HISTORY for row in shape):
                    cur.execute(f"SELECT count(*) FROM {self.schema}.{HISTORY}")
                    applied = cur.fetchone()[0]
                if self.shape is None and applied == expected_migrations:
                    self.shape = shape
                if shape != self.shape:
                    cur.execute(f"DROP SCHEMA {self.schema} CASCADE")
                    self.schema = None
        finally:
            conn.close()

    def drop(self) -> None:
        """Drop the process's schema (at exit)."""
        if self.schema is None or not POSTGRES_URL:
            return
        try:
            conn = self._connect()
            with conn.cursor() as cur:
                cur.execute(f"DROP SCHEMA IF EXISTS {self.schema} CASCADE")
            conn.close()
        except Exception:  # the server may be gone at exit; a leftover schema is harmless
            pass


sqlite_template = SqliteTemplate()
schema_pool = SchemaPool()
atexit.register(schema_pool.drop)
