"""Runs the real processes, `twofold serve` and `twofold project`, against this session's services."""

from __future__ import annotations

import contextlib
import json
import socket
import subprocess
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from elasticsearch import Elasticsearch

from api.auth import Role, mint_token
from api.ids import to_global_id
from api.settings import Settings
from read_model.indexes import CUSTOMERS, EVENTS, ORDERS, PRODUCTS, PROJECTION_STATUS, IndexNames
from tests._launcher import Child, launcher
from tests.conftest import cli_env, fresh_database, scratch_prefix, settings_for

OUTPUT = Path(__file__).resolve().parents[2] / "test-output"
# The servers these tests start sign and check tokens with this secret.
SECRET = "e2e-secret-for-tests-only-0123456789abcdef"


def issued_now() -> datetime:
    """When a token for a server these tests run is issued: that server checks it by the wall clock."""
    return datetime.now(UTC)


def admin_token() -> str:
    return mint_token(SECRET, role=Role.ADMIN, subject="e2e-admin", ttl=timedelta(hours=1), now=issued_now())


def customer_token(customer_id: str) -> str:
    """A token for the customer `customer_id` (a global id or a UUID)."""
    subject = customer_id if "-" not in customer_id else to_global_id("Customer", customer_id)
    return mint_token(SECRET, role=Role.CUSTOMER, subject=subject, ttl=timedelta(hours=1), now=issued_now())


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def as_admin() -> dict[str, str]:
    return bearer(admin_token())


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "e2e" in item.path.parts:
            item.add_marker(pytest.mark.e2e)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def start(args: list[str], env: dict[str, str], log: Path) -> Child:
    """`twofold ARGS` as a process of its own, forked from the session's warm launcher (tests/_launcher.py)."""
    return launcher().start(args, env, log)


def stop_all(processes: list[Child]) -> None:
    """Asks every process to stop at once, then waits for each (killing one that does not within 10 s)."""
    for process in processes:
        process.terminate()
    for process in processes:
        _wait_or_kill(process)


def _wait_or_kill(process: Child) -> None:
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _projector_prepared(settings: Settings) -> bool:
    """Whether every index the projector keeps, and its status index, exist under `settings`' prefix."""
    names = IndexNames(settings.index_prefix)
    return all(
        httpx.head(f"{settings.elasticsearch_url}/{names.alias(definition)}", timeout=5).status_code == 200
        for definition in (PRODUCTS, CUSTOMERS, ORDERS, EVENTS, PROJECTION_STATUS)
    )


def service_env(settings: Settings, port: int, **extra_env: str) -> dict[str, str]:
    """`cli_env(settings)` for the tests' `twofold` processes, with the API on `port`."""
    return cli_env(
        settings,
        TWOFOLD_PORT=str(port),
        TWOFOLD_PROJECTOR_POLL_INTERVAL="0.2",
        TWOFOLD_JWT_SECRET=SECRET,
        **extra_env,
    )


@contextlib.contextmanager
def running_service(
    settings: Settings, logs: Path, *, serve_args: tuple[str, ...] = (), **extra_env: str
) -> Iterator[str]:
    """Starts `twofold project` and `twofold serve [serve_args]` on `settings`; yields the API's base URL
    once the API is ready and the projector has created its indexes (both start within milliseconds of each
    other, so a first query could otherwise come before the projector's first round)."""
    port = free_port()
    env = service_env(settings, port, **extra_env)
    processes = [start(["project"], env, logs / "project.log"), start(["serve", *serve_args], env, logs / "serve.log")]
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            for process in processes:
                if process.poll() is not None:
                    pytest.fail(f"a twofold process exited with {process.returncode}; see {logs}")
            try:
                if httpx.get(f"{base}/readyz", timeout=1).status_code == 200 and _projector_prepared(settings):
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"the API and the projector were not ready within 30 s; see {logs}")
            time.sleep(0.05)
        yield base
    finally:
        stop_all(processes)


def module_service(
    *, own_database: bool = False, serve_args: tuple[str, ...] = (), **extra_env: str
) -> tuple[Any, Any]:
    """`settings` and `server` fixtures shared by every test of a module, for modules whose tests read only
    what they wrote (unique SKUs, names and ids) or write nothing. Use as
    `settings, server = module_service()`, with a comment saying why. `own_database`: the module's own
    database rather than the session's, for tests that expect an empty store; `extra_env`, variables for
    the module's processes; `serve_args`, arguments of its `twofold serve`."""

    @pytest.fixture(scope="module")
    def settings(server_database_url: str, database_url: str, elasticsearch_url: str) -> Iterator[Settings]:
        with contextlib.ExitStack() as stack:
            url = database_url
            if own_database:
                url = stack.enter_context(fresh_database(server_database_url))
            es = stack.enter_context(Elasticsearch(elasticsearch_url, request_timeout=30))
            yield settings_for(url, elasticsearch_url, stack.enter_context(scratch_prefix(es)))

    @pytest.fixture(scope="module")
    def server(settings: Settings, request: pytest.FixtureRequest) -> Iterator[str]:
        logs = OUTPUT / "e2e" / request.module.__name__.rsplit(".", 1)[-1]
        with running_service(settings, logs, serve_args=serve_args, **extra_env) as base:
            yield base

    return settings, server


@pytest.fixture
def server(settings: Settings, request: pytest.FixtureRequest) -> Iterator[str]:
    """Base URL of a running API with a running projector, both on this test's database and indexes."""
    with running_service(settings, OUTPUT / "e2e" / request.node.name) as base:
        yield base


class GraphQLClient:
    """Posts GraphQL requests with `token` (none: anonymous) and expects HTTP 200.

    Hands back the body without its `extensions`, which every operation that ran carries (what it cost),
    so that tests compare what they ask about; the last answer's are in `extensions`."""

    def __init__(self, base: str, token: str | None = None) -> None:
        self.extensions: dict[str, Any] = {}
        self.url = f"{base}/graphql"
        self.headers = {"content-type": "application/json", **({} if token is None else bearer(token))}

    def __call__(self, query: str, **variables: Any) -> dict[str, Any]:
        # Encoded here, with every non-ASCII character escaped: a lone surrogate is valid JSON as "\\ud800",
        # which httpx's own encoder (UTF-8, unescaped) cannot send.
        content = json.dumps({"query": query, "variables": variables}).encode()
        response = httpx.post(self.url, content=content, headers=self.headers, timeout=30)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        self.extensions = body.pop("extensions", {})
        return body


@pytest.fixture
def gql(server: str) -> GraphQLClient:
    """An admin's client: allowed everything."""
    return GraphQLClient(server, admin_token())
