"""The API's logs: one JSON line per request, with what operators search by."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import OUTPUT, GraphQLClient, as_admin


def request_lines(log: Path, request_id: str) -> list[dict[str, Any]]:
    lines = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    return [line for line in lines if line.get("request_id") == request_id]


def test_each_request_is_one_json_line_with_its_id_operation_duration_actor_and_outcome(
    server: str, request: pytest.FixtureRequest
) -> None:
    log = OUTPUT / "e2e" / request.node.name / "serve.log"
    response = httpx.post(
        f"{server}/graphql",
        json={"query": "query Stock { products { totalCount } }"},
        headers={"X-Request-ID": "req-log-1", **as_admin()},
    )
    assert response.headers["x-request-id"] == "req-log-1"
    refused = httpx.post(f"{server}/graphql", json={"query": "query Mine { orders { totalCount } }"})
    assert refused.status_code == 401
    generated = refused.headers["x-request-id"]
    assert generated != "req-log-1"
    GraphQLClient(server)("{ products { totalCount } }")

    deadline = time.monotonic() + 10
    while not (request_lines(log, "req-log-1") and request_lines(log, generated)) and time.monotonic() < deadline:
        time.sleep(0.1)
    [ok] = request_lines(log, "req-log-1")
    assert ok["logger"] == "twofold.requests"
    assert (ok["operation"], ok["actor"], ok["outcome"], ok["status"]) == ("Stock", "admin:e2e-admin", "ok", 200)
    assert ok["duration_ms"] > 0
    assert ok["time"].endswith("+00:00")
    [error] = request_lines(log, generated)
    assert (error["operation"], error["actor"], error["outcome"], error["status"]) == (
        "Mine",
        "anonymous",
        "error",
        401,
    )
    assert error["error_codes"] == ["UNAUTHENTICATED"]
