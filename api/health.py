"""`/healthz` (the process is up) and `/readyz` (PostgreSQL, Elasticsearch and the schema are ready)."""

from __future__ import annotations

import asyncio

import anyio.to_thread
from starlette.requests import Request
from starlette.responses import JSONResponse

from read_model.adapters.readiness import check_search
from write_model.adapters.readiness import check_database


async def healthz(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> JSONResponse:
    state = request.app.state
    (db_ok, db_detail), (search_ok, search_detail) = await asyncio.gather(
        # Its own connection and its own threads: a probe never queues behind commands holding the pool.
        anyio.to_thread.run_sync(
            check_database, state.health_engine, state.head_revision, limiter=state.health_threads
        ),
        check_search(state.search_client),
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
