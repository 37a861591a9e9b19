"""Flask CLI commands (CONTRACT.md §3); each is thin and calls the domain."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the command groups."""
