"""`/metrics`: Prometheus text exposition of the projector's figures, as it publishes them.

Reads the projection status the projector publishes to Elasticsearch, so it shows the projector of this
deployment whichever process runs it.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import PlainTextResponse

from read_model.errors import SearchUnavailable

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
GAUGES = (
    ("twofold_projection_lag_events", "Committed outbox events the projection has not applied yet."),
    ("twofold_projection_lag_seconds", "Age of the oldest committed event the projection has not applied yet."),
    ("twofold_projection_dead_letters", "Events the projection parked as dead letters and nobody resolved."),
    ("twofold_projection_position", "Outbox position (sequence number) of the last event the projection applied."),
)


async def metrics(request: Request) -> PlainTextResponse:
    try:
        states = await request.app.state.read_model.projections.all()
        up = 1
    except SearchUnavailable:
        states, up = [], 0
    lines = [
        "# HELP twofold_search_up Whether the projection status could be read from Elasticsearch.",
        "# TYPE twofold_search_up gauge",
        f"twofold_search_up {up}",
    ]
    for metric, text in GAUGES:
        lines += [f"# HELP {metric} {text}", f"# TYPE {metric} gauge"]
        for state in states:
            value = {
                "twofold_projection_lag_events": state.lag_events,
                "twofold_projection_lag_seconds": state.lag_seconds,
                "twofold_projection_dead_letters": state.dead_letters,
                "twofold_projection_position": state.checkpoint.position,
            }[metric]
            lines.append(f'{metric}{{projection="{state.name}"}} {value}')
    return PlainTextResponse("\n".join(lines) + "\n", media_type=CONTENT_TYPE)
