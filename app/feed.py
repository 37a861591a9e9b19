"""The change feed: open pages learn within milliseconds that a ticket changed.

Publishing (any process: web, worker, scheduler). When a transaction that recorded events
commits, `changed(landlord, ticket)` queues a notice; a publisher thread of the process sends
each to the Redis channel `fixline:feed:<db>:<landlord id>` (db: the Redis database number,
which channels ignore) with the ticket id as the payload (never anything personal), several at
once in one pipeline, duplicates dropped. Sending never blocks
the request or the actor that caused it; a notice Redis refuses is dropped (the pages' slow
fallback poll still finds the change).

Listening (web processes). ONE thread per process holds ONE Redis connection, subscribed to
`fixline:feed:<db>:*`, and wakes the requests waiting on a landlord or a ticket
(app/web/live.py).
At most `LIVE_WAITS_PER_PROCESS` requests wait at once; `hold()` answers None beyond that, while
the listener is not subscribed, with `REDIS_URL=stub://` (tests) and with `LIVE_UPDATES=0`, and
the page then polls as it did before the feed existed.
"""

from __future__ import annotations

import contextlib
import logging
import os
import queue
import threading
import time
from collections import defaultdict
from collections.abc import Iterable

import redis

from app.config import switched_on

log = logging.getLogger(__name__)

PREFIX = "fixline:feed:"
DEFAULT_WAITS_PER_PROCESS = 48
LISTEN_HEALTH_SECONDS = 10  # the listener PINGs Redis this often when nothing arrives
FIRST_CONNECT_SECONDS = 1.0  # a page rendered while the listener connects waits this at most

Key = tuple[str, int]  # ("landlord", id) or ("ticket", id)


def enabled_by_env(environ: dict[str, str] | None = None) -> bool:
    """LIVE_UPDATES (default 1): 0, false, no or off turns the feed off."""
    return switched_on((os.environ if environ is None else environ).get("LIVE_UPDATES"))


def waits_per_process(environ: dict[str, str] | None = None) -> int:
    """LIVE_WAITS_PER_PROCESS (default 48): most requests one web process holds waiting."""
    raw = (os.environ if environ is None else environ).get("LIVE_WAITS_PER_PROCESS", "")
    try:
        value = int(raw) if raw.strip() else DEFAULT_WAITS_PER_PROCESS
    except ValueError:
        value = DEFAULT_WAITS_PER_PROCESS
    return max(value, 0)


def channel(landlord_id: int, space: str = "") -> str:
    """The landlord's channel; space ("<db>:") keeps Fixlines on other databases of one Redis
    apart (pub/sub channels ignore the database number)."""
    return f"{PREFIX}{space}{landlord_id}"


class Hold:
    """One waiting request's registration: woken when any of its keys gets a notice."""

    def __init__(self, feed: Feed, keys: tuple[Key, ...]) -> None:
        self.feed, self.keys = feed, keys
        self.event = threading.Event()

    def wait(self, timeout: float) -> bool:
        """True when woken (a notice, a reconnect, shutdown) before timeout; re-armed after."""
        woken = self.event.wait(max(timeout, 0.0))
        self.event.clear()
        return woken

    def __enter__(self) -> Hold:
        return self

    def __exit__(self, *exc: object) -> None:
        self.feed._release(self)


class Feed:
    """Publisher and listener over one Redis (a client factory), or a no-op without one."""

    def __init__(self, connect=None, *, max_waits: int = DEFAULT_WAITS_PER_PROCESS) -> None:
        self._connect = connect  # () -> redis.Redis, or None: the feed does nothing
        self.space = getattr(connect, "space", "")
        self.max_waits = max_waits
        self._lock = threading.Lock()
        self._holds: dict[Key, set[Hold]] = defaultdict(set)
        self._held = 0
        self._subscribed = threading.Event()
        self._stopping = False
        self._pid: int | None = None  # the process whose threads run (a fork starts anew)
        self._queue: queue.SimpleQueue | None = None
        self._publisher_pid: int | None = None
        self._last_warning = 0.0
        self.notices_received = 0

    @property
    def configured(self) -> bool:
        return self._connect is not None

    # ---- publishing -------------------------------------------------------------------------

    def changed(self, landlord_id: int | None, ticket_id: int | None = None) -> None:
        """Queue a notice for pages of this landlord (and this ticket); call after commit."""
        if self._connect is None or landlord_id is None:
            return
        self._publisher().put((int(landlord_id), int(ticket_id or 0)))

    def _publisher(self) -> queue.SimpleQueue:
        pid = os.getpid()
        if self._publisher_pid != pid:
            with self._lock:
                if self._publisher_pid != pid:
                    self._queue = queue.SimpleQueue()
                    threading.Thread(target=self._publish_forever, args=(self._queue,),
                                     name="fixline-feed-publish", daemon=True).start()
                    self._publisher_pid = pid
        return self._queue

    def _publish_forever(self, notices: queue.SimpleQueue) -> None:
        client = None
        while True:
            batch = {notices.get()}
            while True:  # whatever else is already queued goes in the same round trip
                try:
                    batch.add(notices.get_nowait())
                except queue.Empty:
                    break
            try:
                client = client or self._connect()
                pipe = client.pipeline(transaction=False)
                for landlord_id, ticket_id in batch:
                    pipe.publish(channel(landlord_id, self.space), str(ticket_id))
                pipe.execute()
            except Exception:  # noqa: BLE001 - the publisher outlives any one failure
                client = None
                self._warn("could not publish %d page notices; pages find the change by "
                           "their fallback poll", len(batch))

    def _warn(self, message: str, *args) -> None:
        now = time.monotonic()
        if now - self._last_warning > 60:
            self._last_warning = now
            log.warning(message, *args, exc_info=True)

    # ---- listening --------------------------------------------------------------------------

    def live(self) -> bool:
        """Whether waiting for a notice works in this process now (starts the listener)."""
        if self._connect is None or self._stopping:
            return False
        if self._pid != os.getpid():
            self._start_listener()
            self._subscribed.wait(FIRST_CONNECT_SECONDS)
        return self._subscribed.is_set()

    def hold(self, keys: Iterable[Key]) -> Hold | None:
        """Register a waiter for keys; None when the feed is not live or the cap is reached."""
        if not self.live():
            return None
        hold = Hold(self, tuple(keys))
        with self._lock:
            if self._held >= self.max_waits:
                return None
            self._held += 1
            for key in hold.keys:
                self._holds[key].add(hold)
        return hold

    @property
    def held(self) -> int:
        return self._held

    def _release(self, hold: Hold) -> None:
        with self._lock:
            self._held -= 1
            for key in hold.keys:
                waiting = self._holds.get(key)
                if waiting is not None:
                    waiting.discard(hold)
                    if not waiting:
                        del self._holds[key]

    def wake(self, keys: Iterable[Key]) -> None:
        with self._lock:
            found = [hold for key in keys for hold in self._holds.get(key, ())]
        for hold in found:
            hold.event.set()

    def wake_all(self) -> None:
        with self._lock:
            found = [hold for holds in self._holds.values() for hold in holds]
        for hold in found:
            hold.event.set()

    def stop(self) -> None:
        """Shutting down: every held request answers now, and none waits from here on."""
        self._stopping = True
        self._subscribed.clear()
        self.wake_all()

    def _start_listener(self) -> None:
        with self._lock:
            if self._pid == os.getpid():
                return
            self._pid = os.getpid()
            self._subscribed = threading.Event()
            self._holds.clear()
            self._held = 0
        threading.Thread(target=self._listen_forever, name="fixline-feed-listen",
                         daemon=True).start()

    def _listen_forever(self) -> None:
        pause = 0.2
        while not self._stopping:
            pubsub = None
            try:
                pubsub = self._connect(listener=True).pubsub()
                pubsub.psubscribe(PREFIX + self.space + "*")
                while not self._stopping:
                    message = pubsub.get_message(timeout=LISTEN_HEALTH_SECONDS)
                    if message is None:
                        pubsub.ping()
                        continue
                    self._take(message)
                    pause = 0.2
            except Exception:  # noqa: BLE001 - the listener outlives any one failure
                self._warn("page feed: cannot listen to Redis; pages poll until it is back")
            finally:
                was = self._subscribed.is_set()
                self._subscribed.clear()
                if was:
                    self.wake_all()  # they answer, and their pages poll until it is back
                if pubsub is not None:
                    with contextlib.suppress(Exception):  # a dead connection may fail to close
                        pubsub.close()
            time.sleep(pause)
            pause = min(pause * 2, 5.0)

    def _take(self, message: dict) -> None:
        kind = message.get("type")
        if kind == "psubscribe":
            self._subscribed.set()
            self.wake_all()  # notices may have been missed while not subscribed: look again
            return
        if kind != "pmessage":
            return
        try:
            name = message["channel"]
            name = name.decode() if isinstance(name, bytes) else name
            landlord_id = int(name[len(PREFIX + self.space):])
            ticket_id = int(message["data"])
        except (KeyError, TypeError, ValueError):
            return
        self.notices_received += 1
        keys: list[Key] = [("landlord", landlord_id)]
        if ticket_id:
            keys.append(("ticket", ticket_id))
        self.wake(keys)


def client_factory(url: str):
    """How the feed connects to the Redis at url: short timeouts for publishing, none for
    the listener's blocking read (it PINGs every LISTEN_HEALTH_SECONDS instead)."""

    def connect(listener: bool = False) -> redis.Redis:
        if listener:
            return redis.Redis.from_url(url, socket_connect_timeout=2,
                                        socket_timeout=LISTEN_HEALTH_SECONDS + 5)
        return redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)

    connect.space = f"{redis.connection.parse_url(url).get('db', 0)}:"
    return connect


_feed = Feed()


def configure(broker_url: str | None, environ: dict[str, str] | None = None) -> Feed:
    """Set this process's feed: off for stub:// (tests) and LIVE_UPDATES=0."""
    global _feed
    on = bool(broker_url) and broker_url != "stub://" and enabled_by_env(environ)
    if _feed.configured and on and getattr(_feed, "url", None) == broker_url:
        return _feed
    _feed = Feed(client_factory(broker_url) if on else None,
                 max_waits=waits_per_process(environ))
    _feed.url = broker_url if on else None
    return _feed


def current() -> Feed:
    return _feed


def use(feed: Feed) -> Feed:
    """Install a feed (tests); returns the one it replaces."""
    global _feed
    previous, _feed = _feed, feed
    return previous


def changed(landlord_id: int | None, ticket_id: int | None = None) -> None:
    _feed.changed(landlord_id, ticket_id)
