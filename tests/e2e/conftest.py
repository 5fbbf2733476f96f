"""Runs the real processes, `twofold serve` and `twofold project`, against this session's services."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.settings import Settings

OUTPUT = Path(__file__).resolve().parents[2] / "test-output"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "e2e" in item.path.parts:
            item.add_marker(pytest.mark.e2e)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def start(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as out:
        return subprocess.Popen([sys.executable, "-m", "api.cli", *args], env=env, stdout=out, stderr=subprocess.STDOUT)


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture
def server(settings: Settings, request: pytest.FixtureRequest) -> Iterator[str]:
    """Base URL of a running API with a running projector, both on this test's database and indexes."""
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": settings.database_url,
        "ELASTICSEARCH_URL": settings.elasticsearch_url,
        "TWOFOLD_INDEX_PREFIX": settings.index_prefix,
        "TWOFOLD_PORT": str(port),
        "TWOFOLD_PROJECTOR_POLL_INTERVAL": "0.2",
    }
    logs = OUTPUT / "e2e" / request.node.name
    processes = [start(["project"], env, logs / "project.log"), start(["serve"], env, logs / "serve.log")]
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            for process in processes:
                if process.poll() is not None:
                    pytest.fail(f"a twofold process exited with {process.returncode}; see {logs}")
            try:
                if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"the API did not become ready within 30 s; see {logs}")
            time.sleep(0.1)
        yield base
    finally:
        for process in processes:
            stop(process)


class GraphQLClient:
    def __init__(self, base: str) -> None:
        self.url = f"{base}/graphql"

    def __call__(self, query: str, **variables: Any) -> dict[str, Any]:
        response = httpx.post(self.url, json={"query": query, "variables": variables}, timeout=30)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body


@pytest.fixture
def gql(server: str) -> GraphQLClient:
    return GraphQLClient(server)
