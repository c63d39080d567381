"""Prometheus metrics, served at `GET /metrics`.

Two kinds of figures:

- **Events**, counted where they happen, per process (as Prometheus scrapes processes): HTTP
  requests, Twilio calls, workflow outcomes. The instruments below are
  module-level and registered in no registry of prometheus_client's; each `Metrics` adds them
  to its own. Code deep in the service (the Twilio adapter, the workflow core) records an event
  with one call and needs no handle on the running service.
- **State**, read from one service's own parts at scrape time by a collector it registers (an
  object whose `collect()` yields metric families, as `status.cache.StatusCacheCollector` and
  `sync.ReconciliationLagCollector` and `workflow.leases.TakeoverCollector` do).

Each `Metrics` holds a registry of its own rather than prometheus_client's process-wide
default, so several services in one process (the tests start many) never collide on a
collector; they do share the event counts of the process they run in.
"""

from __future__ import annotations

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.registry import Collector

#: The media type of `Metrics.render()` (Prometheus text exposition format).
CONTENT_TYPE = CONTENT_TYPE_LATEST

#: Seconds: from a cached status read to a Twilio call that times out after retries.
_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

HTTP_REQUESTS = Histogram(
    "clienteling_http_request_duration_seconds",
    "HTTP requests by method, route template and status, with their latency (the _count "
    "sample counts requests).",
    ["method", "route", "status"],
    buckets=_LATENCY_BUCKETS,
    registry=None,
)
TWILIO_CALLS = Histogram(
    "clienteling_twilio_call_duration_seconds",
    "Twilio calls by gateway operation and outcome (ok, not_found, rejected, failure, "
    "unavailable), with their latency including the gateway's retries.",
    ["operation", "outcome"],
    buckets=_LATENCY_BUCKETS,
    registry=None,
)
WORKFLOW_OUTCOMES = Counter(
    "clienteling_workflow_outcomes",
    "Runs of the durable workflows (enable, onboard, whatsapp, group, sync) by outcome: "
    "completed, busy, skipped, lease_lost, rejected, twilio_unavailable, twilio_failed, "
    "conflict, refused, crashed.",
    ["workflow", "outcome"],
    registry=None,
)

_EVENTS: tuple[Collector, ...] = (HTTP_REQUESTS, TWILIO_CALLS, WORKFLOW_OUTCOMES)


def workflow_of(lease: str) -> str:
    """The workflow a lease belongs to: its name up to the first colon (`onboard:t:s`)."""
    return lease.partition(":")[0]


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        for instrument in _EVENTS:
            self.registry.register(instrument)

    def register(self, collector: Collector) -> None:
        self.registry.register(collector)

    def render(self) -> bytes:
        """Every registered metric in the Prometheus text format."""
        return generate_latest(self.registry)
