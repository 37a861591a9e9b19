"""The one place the Dramatiq broker is made and set."""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
import time

import dramatiq
import redis
from dramatiq.brokers.redis import RedisBroker
from dramatiq.brokers.stub import StubBroker
from dramatiq.middleware import Middleware

from app import logs, shared_metrics
from app.config import Config
from app.readiness import HEARTBEAT_PREFIX

log = logging.getLogger(__name__)

HEARTBEAT_TTL = 15
_local = threading.local()  # per worker thread: the message being processed


class RequestIds(Middleware):
    """A message carries the request id of whatever enqueued it (a request, a sweep tick, an
    actor running for either), and its actor runs with it: one id follows the whole chain."""

    def before_enqueue(self, broker, message, delay):
        request_id = logs.request_id_var.get()
        if request_id != "-":
            message.options.setdefault("request_id", request_id)

    def before_process_message(self, broker, message):
        _local.request_token = logs.request_id_var.set(message.options.get("request_id", "-"))

    def after_process_message(self, broker, message, *, result=None, exception=None):
        token = getattr(_local, "request_token", None)
        _local.request_token = None
        if token is not None:
            logs.request_id_var.reset(token)

    after_skip_message = after_process_message


class ActorFigures(Middleware):
    """Each message's run time by actor, and the runs that raised, for /metrics."""

    def before_process_message(self, broker, message):
        _local.started = time.perf_counter()

    def after_process_message(self, broker, message, *, result=None, exception=None):
        started = getattr(_local, "started", None)
        _local.started = None
        if started is None:
            return
        shared_metrics.observe("actor_duration_seconds", message.actor_name,
                               time.perf_counter() - started)
        if exception is not None:
            shared_metrics.count("actor_failures", message.actor_name)

    def after_skip_message(self, broker, message):
        _local.started = None

    def after_worker_shutdown(self, broker, worker):
        shared_metrics.flush()


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
    broker.add_middleware(RequestIds())
    broker.add_middleware(AppContext())
    broker.add_middleware(Heartbeat())
    broker.add_middleware(ActorFigures())
    # A client of its own with timeouts: a flush never hangs on a Redis that stopped answering.
    shared_metrics.bind(None if url == "stub://" else redis.Redis.from_url(
        url, socket_timeout=2, socket_connect_timeout=2))
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
    """The broker the environment names (REDIS_URL, else the embedded Redis socket), and the
    log format it names (the worker and scheduler processes start here)."""
    config = Config.from_env()
    logs.configure(config.log_format)
    return configure(config.broker_url)
