"""Pages that learn of a change at once: a request held until its ticket or landlord changes.

A live page (the tenant's status page, the landlord's dashboard) carries a hidden element that
asks `…/changes` as soon as it loads. That request is held (at most WAIT_SECONDS) until the
change feed (app/feed.py) brings a notice for its ticket or landlord and what the page shows
really changed; it then answers the page's new fragment, which swaps in and asks again. When
nothing changed in time it answers 204 with `HX-Trigger: feedwait`, and the element asks again.
When it cannot wait (no Redis pub/sub, the feed off, too many requests held in this process, a
shutdown) it answers at once with the fragment in its polling form, and the page polls as it
did before the feed. A live page also polls every FALLBACK_POLL_SECONDS, should a notice be
lost.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

from flask import current_app

from app import feed
from app.db import release

WAIT_SECONDS = 25.0  # under the 30 s proxies and browsers commonly allow an idle response
FALLBACK_POLL_SECONDS = 20  # a live page's plain poll, should a notice be lost
AGAIN = "feedwait"  # the event a 204 triggers on the waiting element: wait again

CHANGED, QUIET, POLL = "changed", "quiet", "poll"


def on() -> bool:
    """Whether pages rendered now should wait for changes instead of polling fast."""
    return feed.current().live()


def wait(keys: Iterable[feed.Key], unchanged: Callable[[], bool],
         seconds: float = WAIT_SECONDS) -> str:
    """Hold until a notice for keys finds the page changed: CHANGED, QUIET (nothing changed
    in `seconds`) or POLL (waiting is not possible now: the page should poll)."""
    current = feed.current()
    hold = current.hold(keys)
    if hold is None:
        return POLL if unchanged() else CHANGED
    deadline = time.monotonic() + max(seconds, 0.0)
    with hold:
        while True:
            if not unchanged():  # also checked once more when the time is up
                return CHANGED
            if not current.live():
                return POLL
            left = deadline - time.monotonic()
            if left <= 0:
                return QUIET
            release()  # no database connection is held while waiting
            hold.wait(left)


def quiet_response():
    """Nothing changed: swap nothing, and the waiting element asks again."""
    response = current_app.make_response(("", 204))
    response.headers["HX-Trigger"] = AGAIN
    response.headers["Cache-Control"] = "no-store"
    return response
