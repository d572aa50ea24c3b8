"""Prometheus metrics: the API's own (requests, latency, rate limiting, feed lag per token) and,
read from the store at each scrape, runs and their outcomes, records per entity, open conflicts
and outbox depth by status. Each server has its own registry."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from core.errors import StoreError
from store import Store


class StoreCollector(Collector):
    """Totals read from the store when Prometheus scrapes."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def collect(self) -> Iterator[GaugeMetricFamily]:
        up = GaugeMetricFamily("schoolgate_store_up", "1 when the store answered this scrape")
        try:
            with self.store.read() as tx:
                q = tx.queries
                runs, records = q.run_totals(), q.record_totals()
                conflicts = q.conflict_totals(by=("school_id", "status"))
                outbox = q.outbox_totals(by=("school_id", "system", "status"))
                head = q.feed_head()
        except StoreError:
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        family = GaugeMetricFamily(
            "schoolgate_sync_runs",
            "sync runs recorded, by outcome",
            labels=["school", "system", "direction", "status"],
        )
        for labels, n in sorted(runs.items()):
            family.add_metric(list(labels), n)
        yield family
        family = GaugeMetricFamily(
            "schoolgate_records", "live records per entity", labels=["school", "entity"]
        )
        for (school, entity), n in sorted(records.items()):
            family.add_metric([school, entity], n)
        yield family
        family = GaugeMetricFamily(
            "schoolgate_conflicts_open", "open conflicts waiting for a person", labels=["school"]
        )
        opened: dict[str, int] = {}
        for (school, status), n in conflicts.items():
            if status == "open":
                opened[school] = opened.get(school, 0) + n
        for school, n in sorted(opened.items()):
            family.add_metric([school], n)
        yield family
        family = GaugeMetricFamily(
            "schoolgate_outbox", "outbox items by status", labels=["school", "system", "status"]
        )
        for key, n in sorted(outbox.items()):
            family.add_metric(list(key), n)
        yield family
        family = GaugeMetricFamily("schoolgate_feed_head", "last committed change-log position")
        family.add_metric([], head)
        yield family


class ApiMetrics:
    def __init__(self, store: Store) -> None:
        disable_created_metrics()  # type: ignore[no-untyped-call]  # *_created: noise here
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "schoolgate_api_requests",
            "API requests answered",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "schoolgate_api_request_seconds",
            "time to answer an API request",
            ["route"],
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.25, 0.5, 1, 2.5, 5, 10, 30),
            registry=self.registry,
        )
        self.rate_limited = Counter(
            "schoolgate_api_rate_limited",
            "requests refused by a token's rate limit",
            ["token"],
            registry=self.registry,
        )
        self.feed_lag = Gauge(
            "schoolgate_feed_lag",
            "change-log positions between a token's last feed cursor and the head",
            ["token"],
            registry=self.registry,
        )
        self.registry.register(StoreCollector(store))
