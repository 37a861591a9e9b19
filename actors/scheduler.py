"""The process that enqueues the periodic sweep, once a second, while it leads.

Start one per machine if you like: a lease in the broker's Redis lets one act at a time.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from app.lease import Lease, new_token

log = logging.getLogger("fixline.scheduler")

INTERVAL_SECONDS = 1.0
LEASE_KEY = "fixline:scheduler:leader"
# Renewed every tick, so a leader killed outright is replaced within this plus one tick.
LEASE_SECONDS = 5.0
REDIS_TIMEOUT = 2.0  # seconds; a Redis slower than this counts as unreachable for the tick


class Scheduler:
    """One scheduler's ticks: with the lease it sends the sweep, without it it stands by.

    lease: None on the stub broker (tests), which has no Redis: the only scheduler, it acts.
    send: enqueues one sweep, given this scheduler's name (it rides along in the message).
    """

    def __init__(self, lease: Lease | None, send: Callable[[str], object]) -> None:
        self.lease, self.send = lease, send
        self.name = lease.token if lease is not None else new_token()
        self.state = ""  # leader, standby or unreachable; logged when it changes
        self.failing = False  # the last sweep could not be enqueued

    def tick(self) -> bool:
        """One interval's work: whether this scheduler enqueued the sweep."""
        try:
            leads = self.lease is None or self.lease.hold()
        except redis.RedisError as exc:  # nobody here can know who leads: do not act
            self._become("unreachable", "cannot reach Redis for the lease, so not sweeping: %s",
                         exc)
            return False
        if not leads:
            self._become("standby", "standing by: %s holds the lease", self._holder())
            return False
        self._become("leader", "leading: enqueuing the sweep every %.0fs", INTERVAL_SECONDS)
        try:
            self.send(self.name)
        except Exception as exc:  # broker down: keep trying, deadlines live in the database
            if not self.failing:
                log.warning("cannot enqueue sweep: %s", exc)
            self.failing = True
            return False
        if self.failing:
            log.info("broker reachable again")
        self.failing = False
        return True

    def release(self) -> None:
        """Give the lease up, if held, so a standby takes over at its next tick."""
        if self.lease is None:
            return
        try:
            if self.lease.release():
                log.info("released the lease")
        except redis.RedisError as exc:
            log.warning("cannot release the lease (it lapses within %.0fs): %s",
                        LEASE_SECONDS, exc)

    def _become(self, state: str, message: str, *args: object) -> None:
        if state != self.state:
            if self.state == "leader":
                log.warning("no longer leading")
            log.info(message, *args)
        self.state = state

    def _holder(self) -> str:
        try:
            return self.lease.holder() or "nobody now"
        except redis.RedisError:
            return "another scheduler"


def leader_lease(url: str) -> Lease | None:
    """The schedulers' lease in the broker's Redis at url; None for the stub broker."""
    if url == "stub://":
        return None
    client = redis.Redis.from_url(url, socket_timeout=REDIS_TIMEOUT,
                                  socket_connect_timeout=REDIS_TIMEOUT,
                                  retry=Retry(NoBackoff(), 0))  # each tick is the retry
    return Lease(client, LEASE_KEY, LEASE_SECONDS)


def main() -> None:
    """Enqueue `sweep` every second while holding the lease, until SIGINT/SIGTERM."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s scheduler %(message)s")
    import actors
    from app.config import Config

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    scheduler = Scheduler(leader_lease(Config.from_env().broker_url),
                          lambda name: actors.tasks.sweep.send_with_options(scheduler=name))
    log.info("started as %s; sweep every %.0fs%s", scheduler.name, INTERVAL_SECONDS,
             "" if scheduler.lease is None else f" while holding the lease {LEASE_KEY} "
             f"({LEASE_SECONDS:.0f}s)")
    while not stop.is_set():
        scheduler.tick()
        stop.wait(INTERVAL_SECONDS)
    scheduler.release()
    log.info("stopped")


if __name__ == "__main__":
    main()
