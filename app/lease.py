"""A leader lease in Redis: at most one holder, lost by a holder that stops renewing it."""

from __future__ import annotations

import os
import secrets
import socket

import redis

# Compare-and-set in one step on the server: only the holder's token renews or releases.
RENEW = """
if redis.call('get', KEYS[1]) == ARGV[1] then
    return redis.call('pexpire', KEYS[1], ARGV[2])
end
return 0
"""
RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then
    return redis.call('del', KEYS[1])
end
return 0
"""


def new_token() -> str:
    """A value no other process holds: host and pid to read in logs, then random bits."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(6)}"


class Lease:
    """This process's claim on key; it expires ttl seconds after the last acquire or renew.

    Every method raises redis.RedisError when Redis does not answer: then nobody here can
    know who leads, so a caller must not act as leader.
    """

    def __init__(self, client: redis.Redis, key: str, ttl: float, token: str | None = None):
        self.client, self.key, self.ttl = client, key, ttl
        self.token = token or new_token()
        self._renew = client.register_script(RENEW)
        self._release = client.register_script(RELEASE)

    @property
    def ttl_ms(self) -> int:
        return max(1, round(self.ttl * 1000))

    def acquire(self) -> bool:
        """Take the lease if nobody holds it."""
        return bool(self.client.set(self.key, self.token, nx=True, px=self.ttl_ms))

    def renew(self) -> bool:
        """Extend the lease by ttl if this process still holds it."""
        return bool(self._renew(keys=[self.key], args=[self.token, self.ttl_ms]))

    def hold(self) -> bool:
        """Renew the lease, or take it if free: whether this process holds it now."""
        return self.renew() or self.acquire()

    def release(self) -> bool:
        """Give the lease up at once if this process holds it."""
        return bool(self._release(keys=[self.key], args=[self.token]))

    def holder(self) -> str | None:
        """The token of whoever holds the lease now."""
        value = self.client.get(self.key)
        return value.decode() if isinstance(value, bytes) else value
