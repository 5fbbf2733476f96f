"""Prometheus metrics: GraphQL requests, latency and errors by operation and code, and the projector's figures.

Request metrics live in a registry of the application's own (not the process-wide default), so two apps in
one process, as in tests, never share counts. The projector's figures are read at scrape time from the
projection status the projector publishes to Elasticsearch, so `/metrics` shows the projector of this
deployment whichever process runs it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.requests import Request
from starlette.responses import Response

from read_model.checkpoint import ProjectionState
from read_model.errors import SearchUnavailable

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
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
        self._names: set[str] = set()

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
        self.operations.labels(label, "error" if codes else "ok").inc()
        self.latency.labels(label).observe(seconds)
        for code in codes:
            self.errors.labels(code).inc()


class _ProjectionFigures(Collector):
    """The projector's figures as one scrape read them."""

    def __init__(self, states: list[ProjectionState] | None) -> None:
        self.states = states

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily("twofold_search_up", "Whether the projection status could be read from Elasticsearch.")
        up.add_metric([], 0 if self.states is None else 1)
        yield up
        figures: tuple[tuple[str, str, Callable[[ProjectionState], float]], ...] = (
            ("twofold_projection_lag_events", "Committed outbox events the projection has not applied yet.",
             lambda state: state.lag_events),
            ("twofold_projection_lag_seconds", "Age of the oldest committed event the projection has not applied yet.",
             lambda state: state.lag_seconds),
            ("twofold_projection_dead_letters", "Events the projection parked as dead letters and nobody resolved.",
             lambda state: state.dead_letters),
            ("twofold_projection_position", "Outbox position (sequence number) of the last event applied.",
             lambda state: state.checkpoint.position),
        )  # fmt: skip
        for name, text, value_of in figures:
            family = GaugeMetricFamily(name, text, labels=["projection"])
            for state in self.states or []:
                family.add_metric([state.name], value_of(state))
            yield family


async def metrics(request: Request) -> Response:
    app_metrics: Metrics = request.app.state.metrics
    try:
        states: list[ProjectionState] | None = await request.app.state.read_model.projections.all()
    except SearchUnavailable:
        states = None
    projector = CollectorRegistry(auto_describe=True)
    projector.register(_ProjectionFigures(states))
    body = generate_latest(app_metrics.registry) + generate_latest(projector)
    return Response(body, media_type=CONTENT_TYPE)
