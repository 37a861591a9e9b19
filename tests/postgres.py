"""A fresh PostgreSQL schema for one test, on TEST_DATABASE_URL's server."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

POSTGRES_URL = os.environ.get("TEST_DATABASE_URL")


@contextmanager
def fresh_schema(prefix: str) -> Iterator[str]:
    """A database URL whose search_path is a new, empty schema, dropped on exit."""
    import psycopg2

    schema = prefix + uuid.uuid4().hex[:12]
    conn = psycopg2.connect(POSTGRES_URL)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f"CREATE SCHEMA {schema}")
    try:
        sep = "&" if "?" in POSTGRES_URL else "?"
        yield f"{POSTGRES_URL}{sep}options=-csearch_path%3D{schema}"
    finally:
        with conn.cursor() as cur:
            cur.execute(f"DROP SCHEMA {schema} CASCADE")
        conn.close()
