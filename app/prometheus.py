"""Prometheus figures that live in the database and the broker, gathered at scrape time.

A web process's own request figures are in app.observability; figures every worker records
(actor runs, sweep ticks, deadline lateness) are summed in Redis by app.shared_metrics.
"""

from __future__ import annotations

import logging
from datetime import timedelta

import dramatiq
import redis
from dramatiq.brokers.stub import StubBroker
from peewee import fn
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily

from app import clock, shared_metrics
from app.booking import totals
from app.models import Fault, Message

log = logging.getLogger(__name__)
QUEUES = ("default",)  # when the broker declared none yet


class BookingCollector:
    """Pings, replies, bookings, escalations, time-to-book, parked rows and SMS sent (the
    database); queue depth, actor runs, sweep ticks and deadline lateness (the broker)."""

    def __init__(self, broker_url: str):
        self.broker_url = broker_url

    def describe(self):
        return []

    def collect(self):
        try:
            yield from self._database()
            yield from self._operations()
        except Exception:  # a scrape must not fail because one source is down
            log.warning("metrics: database figures unavailable", exc_info=True)
        yield from self._broker()

    def _operations(self):
        parked = GaugeMetricFamily("fixline_parked_rows",
                                   "Rows whose handling failed too often and waits for a person",
                                   labels=["kind"])
        rows = (Fault.select(Fault.kind, fn.COUNT(Fault.id).alias("n"))
                .where(Fault.failed_at.is_null(False)).group_by(Fault.kind).tuples())
        for kind, count in sorted(rows):
            parked.add_metric([kind], count)
        yield parked
        sent = (Message.select()
                .where(Message.direction == "outbound", Message.channel == "sms",
                       Message.provider_id.is_null(False),
                       Message.updated_at >= clock.now() - timedelta(hours=1))
                .count())
        yield GaugeMetricFamily("fixline_sms_sent_last_hour",
                                "Outbound SMS a channel accepted (Twilio, or the local outbox) "
                                "in the last hour", value=sent)

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

    def _broker(self):
        """Queue depth, and the figures workers flushed to Redis, over one connection."""
        broker = dramatiq.get_broker()
        if self.broker_url == "stub://" or isinstance(broker, StubBroker):
            yield from _depth({name: queue.qsize() for name, queue in broker.queues.items()}, {})
            yield from _shared(shared_metrics.totals(None), broker)
            return
        names = sorted(broker.get_declared_queues()) or list(QUEUES)
        waiting, dead, figures = {}, {}, None
        try:
            client = redis.Redis.from_url(self.broker_url, socket_timeout=0.5)
            try:
                pipe = client.pipeline(transaction=False)
                for name in names:  # the delay queue is a list too; dead letters a sorted set
                    pipe.llen(f"dramatiq:{name}")
                    pipe.llen(f"dramatiq:{name}.DQ")
                    pipe.zcard(f"dramatiq:{name}.XQ")
                answers = pipe.execute()
                for i, name in enumerate(names):
                    waiting[name], waiting[f"{name}.DQ"], dead[name] = answers[3 * i:3 * i + 3]
                figures = shared_metrics.totals(client)
            finally:
                client.close()
        except redis.RedisError:
            log.warning("metrics: broker unreachable for queue depth and worker figures")
        yield from _depth(waiting, dead)
        if figures is not None:
            yield from _shared(figures, broker)


def _depth(waiting: dict[str, int], dead: dict[str, int]):
    depth = GaugeMetricFamily("fixline_queue_depth",
                              "Messages waiting in the broker, by queue (NAME.DQ: delayed)",
                              labels=["queue"])
    for name, count in sorted(waiting.items()):
        depth.add_metric([name], count)
    yield depth
    letters = GaugeMetricFamily("fixline_queue_dead_letters",
                                "Messages the broker gave up on after their retries",
                                labels=["queue"])
    for name, count in sorted(dead.items()):
        letters.add_metric([name], count)
    yield letters


def _shared(figures: dict[str, float], broker):
    """Actor runs and failures, sweep ticks and deadline lateness, from every worker."""
    actors = sorted(set(broker.actors) | shared_metrics.labels(figures, "actor_duration_seconds"))
    durations = HistogramMetricFamily("fixline_actor_duration_seconds",
                                      "Seconds an actor took per message", labels=["actor"])
    failures = CounterMetricFamily("fixline_actor_failures",
                                   "Actor runs that raised (retried or not)", labels=["actor"])
    for actor in actors:
        buckets, total = shared_metrics.histogram(figures, "actor_duration_seconds", actor)
        durations.add_metric([actor], buckets, sum_value=total)
        failures.add_metric([actor], figures.get(f"actor_failures|{actor}|total", 0.0))
    yield durations
    yield failures
    ticks = HistogramMetricFamily("fixline_sweep_tick_seconds", "Seconds one sweep tick took")
    buckets, total = shared_metrics.histogram(figures, "sweep_tick_seconds", "")
    ticks.add_metric([], buckets, sum_value=total)
    yield ticks
    lateness = HistogramMetricFamily(
        "fixline_deadline_lateness_seconds",
        "Seconds between a deadline and the sweep acting on it, by kind", labels=["kind"])
    for kind in sorted(shared_metrics.labels(figures, "deadline_lateness_seconds")):
        buckets, total = shared_metrics.histogram(figures, "deadline_lateness_seconds", kind)
        lateness.add_metric([kind], buckets, sum_value=total)
    yield lateness
    writer = HistogramMetricFamily(
        "fixline_sqlite_writer_seconds",
        "SQLite only: seconds a write transaction waited for the one writer lock, and held it",
        labels=["phase"])
    for phase in sorted(shared_metrics.labels(figures, "sqlite_writer_seconds")):
        buckets, total = shared_metrics.histogram(figures, "sqlite_writer_seconds", phase)
        writer.add_metric([phase], buckets, sum_value=total)
    yield writer
    yield CounterMetricFamily("fixline_slow_queries",
                              "Statements slower than SLOW_QUERY_MS (each one is logged)",
                              value=figures.get("slow_queries||total", 0.0))
