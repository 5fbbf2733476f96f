"""The operator's endpoints: `/healthz` (the process is up), `/readyz` (PostgreSQL, Elasticsearch and the
schema are ready) and `/metrics` (Prometheus: the request metrics of api/metrics.py, and the figures of the
projector and the other outbox consumers, read at scrape time from the status the projector publishes)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import anyio.to_thread
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from api.metrics import CONTENT_TYPE, exposition
from api.services import services_of
from read_model.adapters.readiness import check_search
from read_model.checkpoint import ProjectionState
from read_model.consumers import ConsumerState
from read_model.errors import SearchUnavailable
from write_model.adapters.readiness import check_database


async def healthz(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> JSONResponse:
    services = services_of(request)
    (db_ok, db_detail), (search_ok, search_detail) = await asyncio.gather(
        # Its own connection and its own threads: a probe never queues behind commands holding the pool.
        anyio.to_thread.run_sync(
            check_database, services.health_engine, services.head_revision, limiter=services.health_threads
        ),
        check_search(services.search_client),
    )
    ready = db_ok and search_ok
    body = {
        "status": "ready" if ready else "not ready",
        "checks": {
            "database": {"ok": db_ok, "detail": db_detail},
            "search": {"ok": search_ok, "detail": search_detail},
        },
    }
    return JSONResponse(body, status_code=200 if ready else 503)


class _ProjectionFigures(Collector):
    """The projector's figures, and the other outbox consumers', as one scrape read them."""

    def __init__(self, states: list[ProjectionState] | None, consumers: list[ConsumerState] | None) -> None:
        self.states = states
        self.consumers = consumers

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
        consumer_figures: tuple[tuple[str, str, Callable[[ConsumerState], float]], ...] = (
            ("twofold_consumer_lag_events", "Committed outbox events the consumer had not handled when it reported.",
             lambda state: state.lag_events),
            ("twofold_consumer_lag_seconds", "Age of the oldest committed event the consumer has not handled.",
             lambda state: state.lag_seconds),
            ("twofold_consumer_position", "Outbox position (sequence number) of the last event the consumer handled.",
             lambda state: state.checkpoint.position),
            ("twofold_consumer_dead_letters", "Work the consumer parked for an operator (a saga's parked deadlines).",
             lambda state: state.dead_letters),
            ("twofold_consumer_pending", "Work the consumer holds (a saga's open payment deadlines).",
             lambda state: state.pending),
            ("twofold_consumer_overdue", "Of the pending work, what is already due.",
             lambda state: state.overdue),
            ("twofold_consumer_report_age_seconds", "Seconds since the consumer last reported (a stopped one grows).",
             lambda state: max(0.0, (datetime.now(UTC) - state.updated_at).total_seconds())),
        )  # fmt: skip
        for name, text, consumer_value in consumer_figures:
            consumer_family = GaugeMetricFamily(name, text, labels=["consumer", "kind"])
            for consumer in self.consumers or []:
                consumer_family.add_metric([consumer.name, consumer.kind], consumer_value(consumer))
            yield consumer_family


async def metrics(request: Request) -> Response:
    services = services_of(request)
    app_metrics = services.metrics
    states: list[ProjectionState] | None
    consumers: list[ConsumerState] | None
    try:
        states, consumers = await asyncio.gather(
            services.read_model.projections.all(), services.read_model.projections.consumers()
        )
    except SearchUnavailable:
        states = consumers = None
    projector = CollectorRegistry(auto_describe=True)
    projector.register(_ProjectionFigures(states, consumers))
    body = exposition(app_metrics) + generate_latest(projector)
    return Response(body, media_type=CONTENT_TYPE)
