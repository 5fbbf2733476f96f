"""The payment-expiry saga as `make run` runs it, beside the API and the projector: an order left unpaid is
cancelled and the API shows it; the saga's state shows in `outboxConsumers`, `/metrics` and `twofold status`."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from api.consistency import decode_token
from api.settings import Settings
from tests._launcher import launcher
from tests.conftest import cli_env
from tests.e2e.conftest import OUTPUT, GraphQLClient, customer_token, module_service
from tests.e2e.test_mutations_http import create_product, place, register
from tests.e2e.test_products_http import error_codes
from tests.e2e.test_projections_http import scrape

# A database of the module's own: a saga with a one-second timeout expires every unpaid order it finds.
settings, server = module_service(own_database=True)

ORDER = "query($id: ID!) { order(id: $id) { status cancellationReason } }"
STOCK = "query($id: ID!) { product(id: $id) { stock } }"
CONSUMERS = "{ outboxConsumers { name kind position lagEvents lagSeconds deadLetters pending overdue updatedAt } }"


@pytest.fixture(scope="module")
def saga(settings: Settings, server: str) -> Iterator[None]:
    env = cli_env(settings, TWOFOLD_PAYMENT_TIMEOUT="1s", TWOFOLD_PROJECTOR_POLL_INTERVAL="0.2")
    child = launcher().start(["saga"], env, OUTPUT / "e2e" / "test_saga_http" / "saga.log")
    yield
    child.terminate()
    child.wait(timeout=30)


def position(text: str) -> tuple[int, int]:
    transaction_id, sequence = text.split(":")
    return int(transaction_id), int(sequence)


def eventually(read: Callable[[], Any], holds: Callable[[Any], bool], seconds: float = 30) -> Any:
    deadline = time.monotonic() + seconds
    while not holds(value := read()):
        assert time.monotonic() < deadline, f"still {value} after {seconds} s"
        time.sleep(0.1)
    return value


def test_an_order_left_unpaid_is_cancelled_by_the_saga_and_the_api_shows_it(saga: None, gql: GraphQLClient) -> None:
    product = create_product(gql, initialStock=5)["productId"]
    customer = register(gql)
    unpaid = place(gql, customer, (product, 3))["orderId"]
    paid = place(gql, customer, (product, 1))["orderId"]
    paying = gql("mutation($input: OrderActionInput!) { payOrder(input: $input) { __typename } }", input={"id": paid})
    assert paying["data"]["payOrder"]["__typename"] == "OrderChanged", paying

    # Null until the orders projection has indexed the order: no consistency token names the saga's write.
    shown = eventually(
        lambda: gql(ORDER, id=unpaid)["data"]["order"],
        lambda order: order is not None and order["status"] == "CANCELLED",
    )

    assert shown == {"status": "CANCELLED", "cancellationReason": "payment timeout"}
    assert eventually(lambda: gql(STOCK, id=product)["data"]["product"]["stock"], lambda stock: stock == 4) == 4
    assert gql(ORDER, id=paid)["data"]["order"] == {"status": "PAID", "cancellationReason": None}


def test_the_sagas_state_shows_in_outbox_consumers_metrics_and_status(
    saga: None, gql: GraphQLClient, server: str, settings: Settings
) -> None:
    product = create_product(gql, initialStock=5)["productId"]
    written = decode_token(place(gql, register(gql), (product, 1))["consistencyToken"])

    def settled(consumers: list[dict[str, Any]]) -> bool:
        """A report made after the saga read the order and expired it."""
        return (
            bool(consumers)
            and position(consumers[0]["position"]) >= (written.transaction_id, written.position)
            and (consumers[0]["pending"], consumers[0]["lagEvents"]) == (0, 0)
        )

    consumers = eventually(lambda: gql(CONSUMERS)["data"]["outboxConsumers"], settled)
    (expiry,) = consumers
    assert (expiry["name"], expiry["kind"], expiry["deadLetters"], expiry["overdue"]) == (
        "payment-expiry",
        "saga",
        0,
        0,
    )
    assert int(expiry["position"].split(":")[1]) > 0

    samples = scrape(server)
    labels = '{consumer="payment-expiry",kind="saga"}'
    assert samples[f"twofold_consumer_pending{labels}"] == 0
    assert samples[f"twofold_consumer_dead_letters{labels}"] == 0
    assert samples[f"twofold_consumer_position{labels}"] > 0
    assert f"twofold_consumer_lag_seconds{labels}" in samples

    shown = launcher().run(["status"], cli_env(settings))
    assert shown.returncode == 0, shown.stderr
    saga_line = next(line.split() for line in shown.stdout.splitlines() if line.startswith("payment-expiry"))
    assert position(saga_line[1]) >= position(expiry["position"])  # the report is at most a few seconds old
    assert "saga: running (a process holds the lease)" in shown.stdout


def test_only_admins_read_the_outbox_consumers(server: str, gql: GraphQLClient) -> None:
    as_customer = GraphQLClient(server, customer_token(register(gql)))(CONSUMERS)
    assert (as_customer["data"], error_codes(as_customer)) == (None, ["FORBIDDEN"])

    anonymous = httpx.post(f"{server}/graphql", json={"query": CONSUMERS}, timeout=10)
    assert anonymous.status_code == 401
    assert error_codes(anonymous.json()) == ["UNAUTHENTICATED"]
