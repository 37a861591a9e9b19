"""Every write of the application's code on SQLite goes through app.db.transaction().

A write outside it runs in autocommit, where SQLite's busy handler polls for the write lock
beside the writers queued on the lock file: under load it can starve past busy_timeout and
fail (a 500 on the first API call of a CI load test: the key's last-used stamp). The `app`
fixture watches each test's database and fails the test that made such a write.
"""

from __future__ import annotations

import traceback
from pathlib import Path

from app import db as app_db

APP = str(Path(app_db.__file__).parent)
# The row helpers and the migration runner write for whoever calls them: a test's own rows
# (Model.create in a fixture) are not the application's writes.
NEUTRAL = {"db.py", "models.py", "prepared.py", "migrate.py"}
WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")


def watch(database) -> list[str]:
    """Record, in the list returned, each write the app's code makes outside transaction()."""
    found: list[str] = []

    def hook(event) -> None:
        if (event.sql.lstrip()[:7].upper().startswith(WRITES)
                and getattr(app_db._local, "pending", None) is None):
            callers = [f"{Path(f.filename).relative_to(APP)}:{f.lineno} {f.name}"
                       for f in traceback.extract_stack()[:-1]
                       if f.filename.startswith(APP + "/")
                       and str(Path(f.filename).relative_to(APP)) not in NEUTRAL]
            if callers:
                statement = event.sql.split("\n")[0][:80]
                found.append(f"{statement} from {' < '.join(reversed(callers))}")

    database.query_hooks.append(hook)
    return found
