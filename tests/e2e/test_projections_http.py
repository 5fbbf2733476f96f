"""The projector's status, as the `projections` query and `twofold status` show it."""

from __future__ import annotations

import subprocess
import sys

import httpx

from api.consistency import decode_token
from api.settings import Settings
from tests.conftest import cli_env
from tests.e2e.conftest import GraphQLClient
from tests.e2e.test_products_http import CREATE, product_input

PROJECTIONS = "{ projections { name position lagEvents lagSeconds deadLetters } }"


def test_projection_status_is_published_and_reported(gql: GraphQLClient, settings: Settings) -> None:
    created = gql(CREATE, input=product_input())["data"]["createProduct"]
    # The payload's product resolves once the products projection reached the write.
    assert created["product"] is not None
    written = decode_token(created["consistencyToken"])

    statuses = {status["name"]: status for status in gql(PROJECTIONS)["data"]["projections"]}
    assert set(statuses) == {"products", "customers", "orders", "events"}
    products = statuses["products"]
    transaction_id, position = (int(part) for part in products["position"].split(":"))
    assert (transaction_id, position) >= (written.transaction_id, written.position)
    assert (products["lagEvents"], products["deadLetters"]) == (0, 0)
    assert products["lagSeconds"] == 0

    env = cli_env(settings)
    shown = subprocess.run(
        [sys.executable, "-m", "api.cli", "status"], env=env, capture_output=True, text=True, check=True
    ).stdout
    lines = {line.split()[0]: line.split() for line in shown.splitlines()[1:5]}
    assert set(lines) == {"products", "customers", "orders", "events"}
    assert lines["products"][1] == products["position"]
    assert "projector: running (a process holds the lease)" in shown
    # This test's stack runs neither a saga nor a relay.
    assert "saga: NOT RUNNING" in shown
    assert shown.rstrip().endswith("relay: NOT RUNNING")


def test_the_projectors_figures_are_prometheus_metrics(server: str, gql: GraphQLClient) -> None:
    gql(CREATE, input=product_input())
    samples = scrape(server)
    assert samples["twofold_search_up"] == 1
    for projection in ("products", "customers", "orders", "events"):
        assert samples[f'twofold_projection_dead_letters{{projection="{projection}"}}'] == 0
        assert f'twofold_projection_lag_seconds{{projection="{projection}"}}' in samples
    assert samples['twofold_projection_position{projection="products"}'] > 0


def test_requests_are_counted_and_timed_by_operation_and_their_errors_by_code(server: str, gql: GraphQLClient) -> None:
    for _ in range(3):
        gql("query Catalog { products { totalCount } }")
    gql('query Lookup { product(id: "not-an-id") { id } }')
    anonymous = GraphQLClient(server)
    assert httpx.post(anonymous.url, json={"query": "query Mine { orders { totalCount } }"}).status_code == 401
    assert httpx.post(anonymous.url, content=b"{", headers={"content-type": "application/json"}).status_code == 400

    samples = scrape(server)
    assert samples['twofold_graphql_operations_total{operation="Catalog",outcome="ok"}'] == 3
    assert samples['twofold_graphql_operation_duration_seconds_count{operation="Catalog"}'] == 3
    assert samples['twofold_graphql_operation_duration_seconds_sum{operation="Catalog"}'] > 0
    assert samples['twofold_graphql_operations_total{operation="Lookup",outcome="error"}'] == 1
    assert samples['twofold_graphql_errors_total{code="BAD_USER_INPUT"}'] == 1
    assert samples['twofold_graphql_errors_total{code="UNAUTHENTICATED"}'] == 1
    assert samples['twofold_graphql_errors_total{code="BAD_REQUEST"}'] == 1
    assert samples['twofold_http_requests_total{route="/graphql",status="401"}'] == 1


def scrape(server: str) -> dict[str, float]:
    response = httpx.get(f"{server}/metrics", timeout=10)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    return {
        name: float(value)
        for name, value in (line.rsplit(" ", 1) for line in response.text.splitlines() if not line.startswith("#"))
    }
