"""`twofold serve --workers 2`: each worker on a listening socket of its own, metrics summed across the
workers, persisted queries and subscriptions right whichever worker a connection lands on.

The kernel spreads connections over the workers' sockets by their addresses: at random, as far as a test
can tell, so a test that needs every worker sends until every worker has answered.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import signal
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

import httpx
from uvicorn.config import STARTUP_FAILURE

from api.settings import Settings
from tests.e2e._live import LiveClient
from tests.e2e.conftest import (
    OUTPUT,
    GraphQLClient,
    admin_token,
    module_service,
    running_service,
    service_env,
    start,
)
from tests.e2e.test_mutations_http import create_product
from tests.e2e.test_subscriptions_http import PRODUCT_UPDATED
from tests.integration._waiting import until

# The tests read only what they write (their own operation names, hashes and products): one API for all.
settings, server = module_service(serve_args=("--workers", "2"))

JSON = {"content-type": "application/json"}
WORKERS = 2
LOGS = OUTPUT / "e2e" / "test_workers_http"  # where module_service writes the module's logs


def post(server: str, body: object, request_id: str | None = None) -> dict[str, object]:
    headers = JSON if request_id is None else {**JSON, "x-request-id": request_id}
    with httpx.Client() as client:  # a fresh connection each time
        response = client.post(f"{server}/graphql", content=json.dumps(body), headers=headers, timeout=30)
    assert response.status_code == 200, response.text
    answer: dict[str, object] = response.json()
    return answer


def scrape(server: str) -> dict[str, float]:
    with httpx.Client() as client:
        text = client.get(f"{server}/metrics", timeout=30).text
    return {
        line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line and not line.startswith("#")
    }


def workers_that_answered(prefix: str, logs: Path = LOGS) -> set[int]:
    """The processes whose request log has a request whose id starts with `prefix`."""
    lines = [json.loads(line) for line in (logs / "serve.log").read_text().splitlines() if line.startswith("{")]
    return {line["pid"] for line in lines if str(line.get("request_id", "")).startswith(prefix)}


def listeners(port: int) -> dict[int, set[int]]:
    """The sockets listening on `port` (by inode, from /proc/net/tcp), each with the processes holding it."""
    holders: dict[int, set[int]] = {}
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:  # 0A: LISTEN
            holders[int(fields[9])] = set()
    for descriptors in Path("/proc").glob("[0-9]*/fd"):
        try:
            links = [os.readlink(descriptor) for descriptor in descriptors.iterdir()]
        except OSError:  # gone meanwhile, or another user's (the services')
            continue
        for link in links:
            if link.startswith("socket:[") and int(link[8:-1]) in holders:
                holders[int(link[8:-1])].add(int(descriptors.parent.name))
    return holders


def worker_sockets(port: int) -> dict[int, set[int]]:
    """The first reading of `listeners(port)` with as many sockets as workers, each held by a process.

    A worker listens only once it has started, so one may be missing for a while. A killed worker's socket
    stays listed for a moment after its descriptors are gone (the kernel closes it after the process lets
    go of its descriptor table), held by nobody: that reading is not yet the workers'. The reading waited for
    is the one returned: a second one could differ."""
    readings: list[dict[int, set[int]]] = []

    def settled() -> bool:
        readings.append(listeners(port))
        return len(readings[-1]) == WORKERS and all(readings[-1].values())

    until(settled, seconds=30)
    return readings[-1]


def at_once(server: str, prefix: str, connections: int = 64) -> None:
    """`{ __typename }` on `connections` keep-alive connections opened together, as a proxy's pool opens."""

    async def send() -> None:
        limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
        async with httpx.AsyncClient(base_url=server, limits=limits, timeout=30) as client:
            responses = await asyncio.gather(
                *(
                    client.post(
                        "/graphql",
                        content=b'{"query": "{ __typename }"}',
                        headers={**JSON, "x-request-id": f"{prefix}-{n}"},
                    )
                    for n in range(connections)
                )
            )
        assert [response.status_code for response in responses] == [200] * connections

    asyncio.run(send())


def test_each_worker_listens_on_a_socket_of_its_own_and_the_parent_on_none(server: str) -> None:
    held = worker_sockets(urlsplit(server).port or 0)
    assert [len(processes) for processes in held.values()] == [1] * WORKERS, held
    prefix = uuid.uuid4().hex
    on_every_worker(server, {"query": "{ __typename }"}, prefix)
    assert workers_that_answered(prefix) == set().union(*held.values())


def test_a_second_serve_on_the_port_exits_instead_of_taking_a_share_of_its_connections(
    settings: Settings, server: str
) -> None:
    port = urlsplit(server).port or 0
    log = LOGS / "second-serve.log"
    second = start(["serve", "--workers", "2"], service_env(settings, port), log)
    assert second.wait(timeout=60) == STARTUP_FAILURE
    assert f"127.0.0.1:{port} is already in use" in log.read_text()
    assert len(listeners(port)) == WORKERS


def test_a_killed_worker_is_replaced_by_one_on_a_socket_of_its_own(settings: Settings) -> None:
    # A service of its own: the killed worker's figures would stay in the module's metrics.
    logs = LOGS / "killed-worker"
    with running_service(settings, logs, serve_args=("--workers", "2")) as base:
        port = urlsplit(base).port or 0
        killed = min(set().union(*worker_sockets(port).values()))
        os.kill(killed, signal.SIGKILL)
        until(lambda: killed not in set().union(*listeners(port).values()))
        held = worker_sockets(port)
        assert [len(processes) for processes in held.values()] == [1] * WORKERS, held
        # Every connection is answered, none left on a socket that nobody accepts on any more, and both
        # workers take a share (64 connections all land on one of two once in 2 ** 63 runs).
        prefix = uuid.uuid4().hex
        at_once(base, prefix)
        assert workers_that_answered(prefix, logs) == set().union(*held.values())


def on_every_worker(server: str, body: object, prefix: str) -> list[dict[str, object]]:
    """Sends `body` eight at a time, each on a connection of its own, until every worker has answered one."""
    answers: list[dict[str, object]] = []
    with ThreadPoolExecutor(max_workers=8) as pool:
        for round_ in range(50):
            ids = [f"{prefix}-{round_}-{n}" for n in range(8)]
            answers += pool.map(lambda request_id: post(server, body, request_id), ids)
            if len(workers_that_answered(prefix)) == WORKERS:
                return answers
    raise AssertionError(f"400 requests eight at a time all went to {workers_that_answered(prefix)}")


def test_every_scrape_sums_what_every_worker_counted(server: str) -> None:
    name = f"Counted{uuid.uuid4().hex[:8]}"
    answers = on_every_worker(server, {"query": f"query {name} {{ __typename }}"}, name)
    assert all(answer["data"] == {"__typename": "Query"} for answer in answers)
    key = f'twofold_graphql_operations_total{{operation="{name}",outcome="ok"}}'
    assert [scrape(server).get(key) for _ in range(6)] == [float(len(answers))] * 6


def test_a_persisted_query_registered_on_every_worker_is_found_on_every_one(server: str) -> None:
    query = f"# {uuid.uuid4()}\n{{ __typename }}"
    extensions = {"persistedQuery": {"version": 1, "sha256Hash": hashlib.sha256(query.encode()).hexdigest()}}
    prefix = uuid.uuid4().hex
    assert post(server, {"extensions": extensions})["errors"] == [
        {"message": "PersistedQueryNotFound", "extensions": {"code": "PERSISTED_QUERY_NOT_FOUND"}}
    ]
    registered = on_every_worker(server, {"query": query, "extensions": extensions}, f"register-{prefix}")
    assert all(answer["data"] == {"__typename": "Query"} for answer in registered)
    by_hash = on_every_worker(server, {"extensions": extensions}, f"hash-{prefix}")
    assert all(answer.get("data") == {"__typename": "Query"} for answer in by_hash), by_hash


def test_subscriptions_on_each_worker_see_a_write_made_through_any_and_the_gauges_count_them_all(
    server: str,
) -> None:
    gql = GraphQLClient(server, admin_token())
    product = create_product(gql, initialStock=0, price="1.00")["productId"]
    stock = 0
    for _ in range(10):  # until the eight connections, opened at once, were not all on one worker
        prefix = f"live-{uuid.uuid4().hex}"
        with ThreadPoolExecutor(max_workers=8) as pool:
            clients = list(pool.map(lambda request_id: LiveClient(server, request_id=request_id), ids(prefix)))
        try:
            for client in clients:
                client.subscribe("p", PRODUCT_UPDATED, ids=[product])
            assert {scrape(server).get("twofold_ws_connections") for _ in range(4)} == {8.0}
            restocked = gql(
                "mutation($i: RestockProductInput!) { restockProduct(input: $i) { __typename } }",
                i={"id": product, "quantity": 1},
            )
            assert restocked["data"] == {"restockProduct": {"__typename": "ProductChanged"}}
            stock += 1
            for client in clients:
                assert client.next_data("p")["productUpdated"] == {"id": product, "price": "1.00", "stock": stock}
        finally:
            for client in clients:
                client.ws.close()
        until(lambda: scrape(server).get("twofold_ws_connections") == 0.0)
        if len(workers_that_answered(prefix)) == WORKERS:
            return
    raise AssertionError("ten times, eight connections opened at once all went to one worker")


def ids(prefix: str) -> list[str]:
    return [f"{prefix}-{n}" for n in range(8)]
