"""Vendor working hours: '9AM-6PM', '24/7', 'Mon-Fri 8AM-5PM' → weekly windows."""

from __future__ import annotations


def parse_hours(text: str) -> list[list[int]]:
    """Parse hours into [[weekday, start_minute, end_minute], ...] (placeholder: 24/7 only)."""
    return [[day, 0, 1440] for day in range(7)]
