"""Writes that join the caller's transaction instead of nesting a savepoint inside it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from app.db import db, transaction


@contextmanager
def joined() -> Iterator[None]:
    """transaction() when none is open on this thread; inside one, simply part of it.

    A nested transaction() is a savepoint (SAVEPOINT and RELEASE: two statements) so that its
    caller may catch an exception and carry on without the nested writes. Use joined() only
    where no caller does: an exception from inside fails the caller's whole transaction.
    """
    if db.in_transaction():
        yield
    else:
        with transaction():
            yield
