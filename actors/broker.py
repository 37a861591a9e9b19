"""The one place the Dramatiq broker is made and set."""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading

import dramatiq
import redis
from dramatiq.brokers.redis import RedisBroker
from dramatiq.brokers.stub import StubBroker
from dramatiq.middleware import Middleware

from app.config import Config
from app.readiness import HEARTBEAT_PREFIX

log = logging.getLogger(__name__)

HEARTBEAT_TTL = 15


class AppContext(Middleware):
    """Gives every message the Fixline runtime and a database connection of its own."""

    def before_process_message(self, broker, message):
        from actors import runtime

        runtime.enter()

    def after_process_message(self, broker, message, *, result=None, exception=None):
        from actors import runtime

        runtime.leave()

    after_skip_message = after_process_message


class Heartbeat(Middleware):
    """Writes a short-lived key to Redis while the worker lives, for /readyz."""

    def after_worker_boot(self, broker, worker):
        if not isinstance(broker, RedisBroker):
            return
        self._stop = threading.Event()
        key = f"{HEARTBEAT_PREFIX}{socket.gethostname()}:{os.getpid()}"

        def beat():
            while not self._stop.is_set():
                try:
                    broker.client.set(key, "1", ex=HEARTBEAT_TTL)
                except redis.RedisError:
                    log.warning("heartbeat: Redis unreachable")
                self._stop.wait(HEARTBEAT_TTL / 3)
            with contextlib.suppress(redis.RedisError):
                broker.client.delete(key)

        threading.Thread(target=beat, name="fixline-heartbeat", daemon=True).start()

    def before_worker_shutdown(self, broker, worker):
        stop = getattr(self, "_stop", None)
        if stop is not None:
            stop.set()


def make_broker(url: str) -> dramatiq.Broker:
    """A RedisBroker for url, or a StubBroker for 'stub://' (tests)."""
    broker = StubBroker() if url == "stub://" else RedisBroker(url=url)
    broker.add_middleware(AppContext())
    broker.add_middleware(Heartbeat())
    return broker


def configure(url: str) -> dramatiq.Broker:
    """Make url's broker the global one and move every declared actor onto it."""
    current = dramatiq.get_broker() if _configured_url is not None else None
    if current is not None and _configured_url == url:
        return current
    broker = make_broker(url)
    old_actors = list(current.actors.values()) if current is not None else []
    dramatiq.set_broker(broker)
    for actor in old_actors:
        actor.broker = broker
        broker.declare_actor(actor)
    _set_url(url)
    return broker


_configured_url: str | None = None


def _set_url(url: str) -> None:
    global _configured_url
    _configured_url = url


def setup_from_env() -> dramatiq.Broker:
    """The broker the environment names (REDIS_URL, else the embedded Redis socket)."""
    return configure(Config.from_env().broker_url)
