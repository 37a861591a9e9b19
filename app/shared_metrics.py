"""Figures any process records (actor runs, sweep ticks, deadline lateness), summed in one
Redis hash so that /metrics on any web process, on any machine, shows every worker's.

Each process adds to its own pending deltas (no I/O per figure) and a thread flushes them in
one MULTI/EXEC every FLUSH_SECONDS; a process killed with -9 loses at most that much. Without
Redis (the stub broker in tests) the figures stay in the process and /metrics shows them.
"""

from __future__ import annotations

import atexit
import os
import threading
import time
from collections import defaultdict

import redis

KEY = "fixline:metrics"
FLUSH_SECONDS = 5.0

# name → bucket upper bounds in seconds
HISTOGRAMS: dict[str, tuple[float, ...]] = {
    "actor_duration_seconds": (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
    "sweep_tick_seconds": (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
    "deadline_lateness_seconds": (0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 900, 3600),
    # SQLite's one writer: how long a write transaction waited for the lock, and held it
    "sqlite_writer_seconds": (0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
                              1, 5),
}

_lock = threading.Lock()  # guards _pending
_flush_lock = threading.Lock()  # a scrape never sees a flush half done (a counter going back)
_pending: defaultdict[str, float] = defaultdict(float)  # "name|label|part" → delta
_client: redis.Redis | None = None
_flusher_pid: int | None = None


def observe(name: str, label: str, seconds: float) -> None:
    """Add one observation to a histogram of HISTOGRAMS (label: actor, kind, or "")."""
    seconds = max(seconds, 0.0)
    with _lock:
        for bound in HISTOGRAMS[name]:
            if seconds <= bound:
                _pending[f"{name}|{label}|{float(bound)}"] += 1
        _pending[f"{name}|{label}|count"] += 1
        _pending[f"{name}|{label}|sum"] += seconds
    _start_flusher()


def count(name: str, label: str, amount: int = 1) -> None:
    """Add to a counter."""
    with _lock:
        _pending[f"{name}|{label}|total"] += amount
    _start_flusher()


def bind(client: redis.Redis | None) -> None:
    """Flush to this Redis (the broker's), or keep figures in the process (None)."""
    global _client
    _client = client


def flush() -> bool:
    """Move the pending deltas into Redis; on failure they stay pending for the next try."""
    client = _client
    if client is None:
        return False
    with _flush_lock:
        with _lock:
            deltas = dict(_pending)
            _pending.clear()
        if not deltas:
            return True
        try:
            pipe = client.pipeline(transaction=True)
            for field, delta in deltas.items():
                if field.endswith("|sum"):
                    pipe.hincrbyfloat(KEY, field, delta)
                else:
                    pipe.hincrby(KEY, field, int(delta))
            pipe.execute()
        except redis.RedisError:
            with _lock:
                for field, delta in deltas.items():
                    _pending[field] += delta
            return False
    return True


def totals(client: redis.Redis | None) -> dict[str, float]:
    """Every figure: what Redis holds (client given) plus this process's pending deltas.

    Raises redis.RedisError when Redis does not answer.
    """
    with _flush_lock:
        stored: dict[str, float] = {}
        if client is not None:
            stored = {field.decode(): float(value)
                      for field, value in client.hgetall(KEY).items()}
        with _lock:
            for field, delta in _pending.items():
                stored[field] = stored.get(field, 0.0) + delta
    return stored


def histogram(figures: dict[str, float], name: str, label: str):
    """(cumulative buckets with +Inf, sum) of one histogram series, zeros when unrecorded."""
    total = figures.get(f"{name}|{label}|count", 0.0)
    buckets = [(str(float(bound)), figures.get(f"{name}|{label}|{float(bound)}", 0.0))
               for bound in HISTOGRAMS[name]]
    return buckets + [("+Inf", total)], figures.get(f"{name}|{label}|sum", 0.0)


def labels(figures: dict[str, float], name: str) -> set[str]:
    """The label values recorded for a figure."""
    prefix = f"{name}|"
    return {field.split("|")[1] for field in figures if field.startswith(prefix)}


def _start_flusher() -> None:
    global _flusher_pid
    if _client is None or _flusher_pid == os.getpid():
        return
    with _lock:
        if _flusher_pid == os.getpid():
            return
        _flusher_pid = os.getpid()
    threading.Thread(target=_flush_forever, name="fixline-metrics", daemon=True).start()


def _flush_forever() -> None:
    while True:
        time.sleep(FLUSH_SECONDS)
        flush()


def _after_fork() -> None:
    """A forked child starts empty: its parent flushes what it had recorded."""
    global _flusher_pid, _lock, _flush_lock
    _lock, _flush_lock = threading.Lock(), threading.Lock()
    _pending.clear()
    _flusher_pid = None


os.register_at_fork(after_in_child=_after_fork)
atexit.register(flush)
