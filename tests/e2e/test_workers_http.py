"""`twofold serve --workers 2`: metrics summed across the workers, persisted queries and subscriptions
right whichever worker a connection lands on.

Each request opens a connection of its own, so the kernel spreads them over both workers.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from concurrent.futures import ThreadPoolExecutor

import httpx

from tests.e2e._live import LiveClient
from tests.e2e.conftest import OUTPUT, GraphQLClient, admin_token, module_service
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


def workers_that_answered(prefix: str) -> set[int]:
    """The processes whose request log has a request whose id starts with `prefix`."""
    lines = [json.loads(line) for line in (LOGS / "serve.log").read_text().splitlines() if line.startswith("{")]
    return {line["pid"] for line in lines if str(line.get("request_id", "")).startswith(prefix)}


def on_every_worker(server: str, body: object, prefix: str) -> list[dict[str, object]]:
    """Sends `body` eight at a time, each on a connection of its own, until every worker has answered one
    (one after another, the connections would all land on the worker that accepts first)."""
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
