"""Prometheus figures that live in the database and the broker, gathered at scrape time."""

from __future__ import annotations

import logging

import redis
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily

from app.booking import totals

log = logging.getLogger(__name__)
QUEUES = ("default",)


class BookingCollector:
    """Pings, replies, bookings, escalations, time-to-book and queue depth."""

    def __init__(self, broker_url: str):
        self.broker_url = broker_url

    def describe(self):
        return []

    def collect(self):
        try:
            yield from self._database()
        except Exception:  # a scrape must not fail because one source is down
            log.warning("metrics: database figures unavailable", exc_info=True)
        yield from self._queue_depth()

    def _database(self):
        pings = CounterMetricFamily("fixline_pings", "Offers sent to vendors, by outcome",
                                    labels=["outcome"])
        for outcome, count in sorted(totals.pings_by_outcome().items()):
            pings.add_metric([outcome], count)
        yield pings
        yield CounterMetricFamily("fixline_replies", "Inbound vendor messages and keypresses",
                                  value=totals.replies_total())
        yield CounterMetricFamily("fixline_bookings", "Appointments created",
                                  value=totals.bookings_total())
        yield CounterMetricFamily("fixline_escalations", "Tickets escalated to a landlord",
                                  value=totals.escalations_total())
        buckets, total, _count = totals.time_to_book_histogram()
        histogram = HistogramMetricFamily("fixline_time_to_book_seconds",
                                          "Seconds from ticket created to booked")
        histogram.add_metric([], [(str(bound), count) for bound, count in buckets]
                             + [("+Inf", _count)], sum_value=total)
        yield histogram

    def _queue_depth(self):
        depth = GaugeMetricFamily("fixline_queue_depth", "Messages waiting in the broker",
                                  labels=["queue"])
        if self.broker_url != "stub://":
            try:
                client = redis.Redis.from_url(self.broker_url, socket_timeout=0.5)
                try:
                    for queue in QUEUES:
                        waiting = client.llen(f"dramatiq:{queue}")
                        delayed = client.zcard(f"dramatiq:{queue}.DQ")
                        depth.add_metric([queue], waiting + delayed)
                finally:
                    client.close()
            except redis.RedisError:
                log.warning("metrics: broker unreachable for queue depth")
        yield depth
