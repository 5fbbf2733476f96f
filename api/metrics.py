"""Prometheus metrics: GraphQL requests, latency and errors by operation and code.

Request metrics live in a registry of the application's own (not the process-wide default), so two apps in
one process, as in tests, never share counts. Under `twofold serve --workers N` each worker writes its
figures to files in `PROMETHEUS_MULTIPROC_DIR` (Prometheus' multi-process mode), and `/metrics`, whichever
worker answers it, sums them: counters and histograms over every worker that ran, gauges over the live
ones. The `/metrics` endpoint (api/health.py) adds the projector's
figures, read at scrape time from the projection status the projector publishes to Elasticsearch, so it
shows the projector of this deployment whichever process runs it.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest, multiprocess

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
# Set by `twofold serve --workers N` for its workers: where each writes its figures.
MULTIPROCESS_DIRECTORY = "PROMETHEUS_MULTIPROC_DIR"
# Operation names come from clients: only this many distinct ones get a label of their own, the rest
# share "other", so a hostile client cannot grow the metrics without bound.
MAX_OPERATION_LABELS = 200
UNNAMED = "anonymous"
OTHER = "other"
_OPERATION_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Metrics:
    """The API's request metrics, in a registry of their own."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.operations = Counter(
            "twofold_graphql_operations",
            "GraphQL operations executed, by operation name and outcome (ok, error).",
            ["operation", "outcome"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "twofold_graphql_operation_duration_seconds",
            "Time to parse, validate and execute a GraphQL operation, by operation name.",
            ["operation"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.errors = Counter(
            "twofold_graphql_errors",
            "Errors answered, by extensions.code (HTTP-level refusals included, e.g. PAYLOAD_TOO_LARGE).",
            ["code"],
            registry=self.registry,
        )
        self.http_requests = Counter(
            "twofold_http_requests",
            "HTTP requests answered, by route and status code.",
            ["route", "status"],
            registry=self.registry,
        )
        self.ws_connections = Gauge(
            "twofold_ws_connections",
            "Open WebSocket connections (graphql-transport-ws).",
            registry=self.registry,
            multiprocess_mode="livesum",
        )
        self.ws_subscriptions = Gauge(
            "twofold_ws_subscriptions",
            "Running subscriptions, by field.",
            ["field"],
            registry=self.registry,
            multiprocess_mode="livesum",
        )
        self.ws_messages = Counter(
            "twofold_ws_messages_sent",
            "Messages sent over WebSocket connections, by message type (next, error, complete, ...).",
            ["type"],
            registry=self.registry,
        )
        self.ws_closes = Counter(
            "twofold_ws_closes",
            "WebSocket connections closed by the server, by close code.",
            ["code"],
            registry=self.registry,
        )
        self.live_reads = Counter(
            "twofold_live_reads",
            "Requests to Elasticsearch made for subscriptions: the watcher's polls and event reads, document reads.",
            registry=self.registry,
        )
        self._names: set[str] = set()
        # Each labelled series once looked up (`labels()` checks and locks each time): as bounded as the labels.
        self._operation_series: dict[tuple[str, str], tuple[Counter, Histogram]] = {}
        self._http_series: dict[tuple[str, int], Counter] = {}

    def operation_label(self, name: str | None) -> str:
        if not name:
            return UNNAMED
        if not _OPERATION_NAME.fullmatch(name):
            return OTHER
        if name not in self._names:
            if len(self._names) >= MAX_OPERATION_LABELS:
                return OTHER
            self._names.add(name)
        return name

    def record_operation(self, name: str | None, seconds: float, error_codes: Iterable[str]) -> None:
        label = self.operation_label(name)
        codes = list(error_codes)
        outcome = "error" if codes else "ok"
        counted = self._operation_series.get((label, outcome))
        if counted is None:
            counted = self._operation_series[label, outcome] = (
                self.operations.labels(label, outcome),
                self.latency.labels(label),
            )
        counter, latency = counted
        counter.inc()
        latency.observe(seconds)
        for code in codes:
            self.errors.labels(code).inc()

    def count_http_request(self, route: str, status: int) -> None:
        counter = self._http_series.get((route, status))
        if counter is None:
            counter = self._http_series[route, status] = self.http_requests.labels(route, str(status))
        counter.inc()


def exposition(metrics: Metrics) -> bytes:
    """The request metrics in Prometheus' text format: this process's, or, with several workers, all of
    theirs summed."""
    if not os.environ.get(MULTIPROCESS_DIRECTORY):
        return generate_latest(metrics.registry)
    summed = CollectorRegistry()
    multiprocess.MultiProcessCollector(summed)  # type: ignore[no-untyped-call]
    return generate_latest(summed)


def worker_stopped() -> None:
    """Drops a stopping worker's live gauges from the sums (its counters stay: they happened)."""
    if os.environ.get(MULTIPROCESS_DIRECTORY):
        multiprocess.mark_process_dead(os.getpid())  # type: ignore[no-untyped-call]
