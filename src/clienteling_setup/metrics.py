"""Prometheus metrics of one running service, served at `GET /metrics`.

Each `Metrics` holds a registry of its own rather than prometheus_client's process-wide
default, so several services in one process (the tests start many) never share or collide on
a metric. A component exposes its figures by registering a collector (an object whose
`collect()` yields metric families read at scrape time, as `status.cache.StatusCacheCollector`
does) or by creating its instruments with `registry=metrics.registry`.
"""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.registry import Collector

#: The media type of `Metrics.render()` (Prometheus text exposition format).
CONTENT_TYPE = CONTENT_TYPE_LATEST


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)

    def register(self, collector: Collector) -> None:
        self.registry.register(collector)

    def render(self) -> bytes:
        """Every registered metric in the Prometheus text format."""
        return generate_latest(self.registry)
