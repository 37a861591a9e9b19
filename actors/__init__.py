"""Dramatiq: the broker is set up first, then the thin actors are declared on it."""

from actors.broker import setup_from_env

setup_from_env()

from actors import tasks  # noqa: E402,F401  (declares the actors on that broker)
