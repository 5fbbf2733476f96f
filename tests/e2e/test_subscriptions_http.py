"""Subscriptions over WebSocket against the running processes (docs/subscriptions.md): real clients
speaking graphql-transport-ws, writes over HTTP or through the command bus, answers compared with the
outbox."""

from __future__ import annotations

import json
import random
import threading
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import psycopg
import pytest

from api import bootstrap
from api.settings import Settings
from read_model.checkpoint import Checkpoint
from tests.e2e._live import LiveClient
from tests.e2e.conftest import (
    OUTPUT,
    GraphQLClient,
    admin_token,
    customer_token,
    module_service,
    running_service,
)
from tests.e2e.test_mutations_http import act, create_product, place, register
from tests.e2e.test_projections_http import scrape
from tests.integration._waiting import until
from write_model import commands
from write_model.outbox import CommandContext

# One server for the module: each test follows only what it wrote (its own ids; `events` from its own start).
settings, server = module_service()

ORDER_UPDATED = "subscription($id: ID!) { orderUpdated(id: $id) { id status amountPaid version } }"
PRODUCT_UPDATED = "subscription($ids: [ID!]!) { productUpdated(ids: $ids) { id price stock } }"
EVENTS = "subscription($after: String) { events(after: $after) { position type aggregateId } }"
ORDER = "query($id: ID!, $t: String) { order(id: $id, consistentWith: $t) { id } }"


@pytest.fixture(scope="module")
def admin(server: str) -> GraphQLClient:
    return GraphQLClient(server, admin_token())


def shown_order(admin: GraphQLClient, customer: str) -> str:
    """An order of `customer` for one of a new product, once the read model shows it."""
    product = create_product(admin, initialStock=5, price="12.50")["productId"]
    placed = place(admin, customer, (product, 1))
    assert admin(ORDER, id=placed["orderId"], t=placed["consistencyToken"])["data"]["order"] is not None
    return str(placed["orderId"])


def test_an_order_paid_over_http_reaches_its_customers_subscription(server: str, admin: GraphQLClient) -> None:
    customer = register(admin)
    order = shown_order(admin, customer)
    with LiveClient(server, customer_token(customer)) as live:
        live.subscribe("o", ORDER_UPDATED, id=order)
        act(GraphQLClient(server, customer_token(customer)), "payOrder", id=order)
        update = live.next_data("o")["orderUpdated"]
    assert (update["id"], update["status"], update["amountPaid"]) == (order, "PAID", "12.50")


def test_a_customers_new_name_reaches_the_subscribers_of_their_orders(server: str, admin: GraphQLClient) -> None:
    customer = register(admin)
    order = shown_order(admin, customer)
    query = "subscription($id: ID!) { orderUpdated(id: $id) { status customer { name } buyer { name } } }"
    with LiveClient(server, customer_token(customer)) as live:
        live.subscribe("o", query, id=order)
        act(admin, "payOrder", id=order)
        paid = live.next_data("o")["orderUpdated"]
        assert paid == {"status": "PAID", "customer": {"name": "Ada Lovelace"}, "buyer": {"name": "Ada Lovelace"}}
        renamed = admin(
            "mutation($i: UpdateCustomerInput!) { updateCustomer(input: $i) { __typename } }",
            i={"id": customer, "name": "Ada King"},
        )
        assert renamed["data"]["updateCustomer"]["__typename"] == "CustomerChanged"
        update = live.next_data("o")["orderUpdated"]
    # The order carries its customer's name: the rename is a change of the order, read anew, buyer included.
    assert update == {"status": "PAID", "customer": {"name": "Ada King"}, "buyer": {"name": "Ada King"}}


def test_a_customer_following_someone_elses_order_gets_an_error_not_the_order(
    server: str, admin: GraphQLClient
) -> None:
    order = shown_order(admin, register(admin))
    with LiveClient(server, customer_token(register(admin))) as live:
        live.subscribe("o", ORDER_UPDATED, id=order)
        answer = live.receive()
        assert (answer["id"], answer["type"]) == ("o", "error")
        assert [error["extensions"]["code"] for error in answer["payload"]] == ["FORBIDDEN"]
        live.send({"type": "ping"})
        assert live.receive() == {"type": "pong"}  # the connection carries on


def test_a_product_change_reaches_an_anonymous_subscriber_once(server: str, admin: GraphQLClient) -> None:
    product = create_product(admin, initialStock=5, price="3.00")["productId"]
    other = create_product(admin, initialStock=5, price="4.00")["productId"]
    with LiveClient(server) as live:
        live.subscribe("p", PRODUCT_UPDATED, ids=[product, product])
        admin(
            "mutation($i: RestockProductInput!) { restockProduct(input: $i) { __typename } }",
            i={"id": other, "quantity": 1},
        )
        admin(
            "mutation($i: RestockProductInput!) { restockProduct(input: $i) { __typename } }",
            i={"id": product, "quantity": 2},
        )
        assert live.next_data("p")["productUpdated"] == {"id": product, "price": "3.00", "stock": 7}
        live.send({"type": "ping"})
        assert live.receive() == {"type": "pong"}  # nothing else was sent: the other product is not followed


def test_no_token_where_one_is_needed_closes_as_the_protocol_says(server: str, admin: GraphQLClient) -> None:
    order = shown_order(admin, register(admin))
    with LiveClient(server, init=False) as live:
        live.subscribe("o", ORDER_UPDATED, id=order)  # before connection_init
        assert live.closed()[0] == 4401
    with LiveClient(server) as live:  # acknowledged, but anonymous
        live.subscribe("o", ORDER_UPDATED, id=order)
        assert live.closed()[0] == 4401
    with LiveClient(server, init=False) as live:
        live.send({"type": "connection_init", "payload": {"Authorization": "Bearer not-a-token"}})
        code, reason = live.closed()
        assert code == 4403
        assert "malformed" in (reason or "")


HOSTILE: dict[str, tuple[list[Any], int]] = {
    "not JSON": (["{nope"], 4400),
    "a JSON array": (["[1, 2]"], 4400),
    "an unknown type": ([{"type": "start", "id": "1"}], 4400),
    "a subscribe without a payload": ([{"type": "subscribe", "id": "1"}], 4400),
    "a subscribe without an id": (
        [{"type": "subscribe", "payload": {"query": "subscription { events { type } }"}}],
        4400,
    ),
    "an id that is a number": ([{"type": "subscribe", "id": 7, "payload": {"query": "{ x }"}}], 4400),
    "a query that does not parse": ([{"type": "subscribe", "id": "1", "payload": {"query": "subscription {"}}], 4400),
    "a binary frame": ([b"\x00\x01"], 4400),
    "a second connection_init": ([{"type": "connection_init"}], 4429),
    "a message over the size limit": ([json.dumps({"type": "ping", "payload": {"x": "a" * 70_000}})], 1009),
}


@pytest.mark.parametrize("name", list(HOSTILE))
def test_a_malformed_message_closes_with_the_protocols_code_and_the_server_carries_on(server: str, name: str) -> None:
    messages, code = HOSTILE[name]
    with LiveClient(server, admin_token()) as live:
        for message in messages:
            live.send(message)
        assert live.closed()[0] == code
    with LiveClient(server) as live:  # the next connection is served as ever
        live.send({"type": "ping"})
        assert live.receive() == {"type": "pong"}


def test_a_duplicate_id_closes_with_4409_and_an_11th_subscription_gets_an_error(server: str) -> None:
    with LiveClient(server, admin_token()) as live:
        for number in range(10):
            live.subscribe(str(number), EVENTS)
        live.subscribe("eleventh", EVENTS)
        answer = live.receive()
        assert (answer["id"], answer["type"]) == ("eleventh", "error")
        assert "limit" in answer["payload"][0]["message"].lower()
        live.subscribe("3", EVENTS)
        assert live.closed()[0] == 4409


# The subscriptions' arguments, decoded at the edge: each refusal an `error` message with its code.
BAD_ARGUMENTS: dict[str, tuple[str, dict[str, Any], str]] = {
    "101 product ids": (PRODUCT_UPDATED, {"ids": [f"id{n}" for n in range(101)]}, "BAD_USER_INPUT"),
    "no product ids": (PRODUCT_UPDATED, {"ids": []}, "BAD_USER_INPUT"),
    "an order's id for a product": (PRODUCT_UPDATED, {"ids": ["T3JkZXI6MA"]}, "BAD_USER_INPUT"),
    "a malformed order id": (ORDER_UPDATED, {"id": "%%%"}, "BAD_USER_INPUT"),
    "an after that is nothing of ours": (EVENTS, {"after": "not-a-cursor"}, "BAD_CURSOR"),
    "a forged consistency token": (EVENTS, {"after": "djE6LTE6MQ"}, "BAD_CURSOR"),
    "21 event types": (
        "subscription($t: [String!]) { events(types: $t) { type } }",
        {"t": [f"T{n}" for n in range(21)]},
        "BAD_USER_INPUT",
    ),
    "a variable of the wrong type": (ORDER_UPDATED, {"id": 5}, "BAD_USER_INPUT"),
    "a field the type lacks": ('subscription { orderUpdated(id: "x") { nope } }', {}, "GRAPHQL_VALIDATION_FAILED"),
}


@pytest.mark.parametrize("name", list(BAD_ARGUMENTS))
def test_bad_arguments_get_an_error_message_with_their_code(server: str, name: str) -> None:
    query, variables, code = BAD_ARGUMENTS[name]
    with LiveClient(server, admin_token()) as live:
        live.subscribe("x", query, **variables)
        answer = live.receive()
        assert (answer["id"], answer["type"]) == ("x", "error"), answer
        assert answer["payload"][0]["extensions"]["code"] == code, answer


def test_each_connection_and_subscription_shows_in_the_request_log_and_the_metrics(
    server: str, admin: GraphQLClient
) -> None:
    product = create_product(admin, initialStock=5, price="3.00")["productId"]
    before = scrape(server)
    with LiveClient(server, request_id="live-log-1") as live:
        live.subscribe("p", PRODUCT_UPDATED, ids=[product])
        until(lambda: scrape(server)['twofold_ws_subscriptions{field="productUpdated"}'] >= 1)
        assert scrape(server)["twofold_ws_connections"] >= 1
        admin(
            "mutation($i: RestockProductInput!) { restockProduct(input: $i) { __typename } }",
            i={"id": product, "quantity": 1},
        )
        live.next_data("p")
        live.send({"id": "p", "type": "complete"})
        live.send({"type": "ping"})
        assert live.receive() == {"type": "pong"}
    after = scrape(server)
    assert after['twofold_ws_messages_sent_total{type="next"}'] > before.get(
        'twofold_ws_messages_sent_total{type="next"}', 0
    )
    log = OUTPUT / "e2e" / "test_subscriptions_http" / "serve.log"

    def lines() -> list[dict[str, Any]]:
        found = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
        return [line for line in found if str(line.get("request_id", "")).startswith("live-log-1")]

    until(lambda: len(lines()) == 2)
    subscription, connection = lines()
    assert (subscription["message"], subscription["request_id"]) == (
        "SUBSCRIPTION productUpdated completed by client",
        "live-log-1/p",
    )
    assert (subscription["messages"], subscription["actor"]) == (1, "anonymous")
    assert (connection["message"], connection["method"], connection["status"]) == (
        "WEBSOCKET /graphql 1000",
        "WEBSOCKET",
        1000,
    )


def test_queries_and_mutations_are_refused_over_websocket(server: str) -> None:
    with LiveClient(server, admin_token()) as live:
        live.subscribe("q", "{ projections { name } }")
        answer = live.receive()
        assert (answer["id"], answer["type"]) == ("q", "error")
        assert answer["payload"][0]["extensions"]["code"] == "BAD_REQUEST"


def test_the_legacy_graphql_ws_protocol_is_not_served(server: str) -> None:
    with LiveClient(server, init=False, subprotocol="graphql-ws") as live:
        assert live.closed() == (4406, "Subprotocol not acceptable")


def test_events_after_a_consistency_token_or_an_event_cursor_start_right_after_it(
    server: str, admin: GraphQLClient
) -> None:
    first = create_product(admin, initialStock=1, price="1.00")
    mine = "subscription($after: String) { events(after: $after) { position type aggregateId } }"
    trail = admin(
        "query($t: String) { events(first: 1, consistentWith: $t) { edges { cursor node { position } } } }",
        t=first["consistencyToken"],
    )["data"]["events"]["edges"][0]
    second = create_product(admin, initialStock=1, price="2.00")
    for after in (first["consistencyToken"], trail["cursor"], trail["node"]["position"]):
        with LiveClient(server, admin_token()) as live:
            live.subscribe("e", mine, after=after)
            event = live.next_data("e")["events"]
        # "Everything after my write": the next product's creation, not the write itself.
        assert (event["type"], event["aggregateId"]) == ("ProductCreated", second["productId"]), after


# ---- events(after:) resumed while writers commit out of order, across a restart of the API


def _outbox_after(database_url: str, start: Checkpoint) -> list[str]:
    with psycopg.connect(database_url) as connection:
        rows = connection.execute(
            "SELECT transaction_id::text::bigint, position FROM outbox"
            " WHERE (transaction_id::text::bigint, position) > (%s, %s) ORDER BY 1, 2",
            (start.transaction_id, start.position),
        ).fetchall()
    return [f"{transaction}:{position}" for transaction, position in rows]


@pytest.fixture
def writers(settings: Settings) -> Iterator[Callable[[], None]]:
    """Five threads restocking products of their own through the command bus; calling what it yields stops
    them and returns once every write they began has committed (or failed), so the outbox is final."""
    engine = bootstrap.create_engine(settings)
    bus = bootstrap.build_command_bus(engine)
    context = CommandContext(actor="writer", request_id="w")
    stop = threading.Event()
    failures: list[BaseException] = []

    def write(seed: int) -> None:
        rng = random.Random(seed)
        try:
            product = bus.handle(
                commands.CreateProduct(
                    sku=f"LIVE-{uuid.uuid4().hex[:10]}", name="Live", brand="B", category="C", price="1.00"
                ),
                context,
            ).aggregate_id
            while not stop.is_set():
                bus.handle(commands.RestockProduct(product_id=product, quantity=rng.randint(1, 5)), context)
                stop.wait(rng.uniform(0.02, 0.1))  # about 80 events a second from the five
        except BaseException as exc:
            failures.append(exc)
            raise

    threads = [threading.Thread(target=write, args=(seed,)) for seed in range(5)]
    for thread in threads:
        thread.start()

    def stop_and_wait() -> None:
        stop.set()
        for thread in threads:
            thread.join()

    yield stop_and_wait
    stop_and_wait()
    engine.dispose()
    assert not failures, failures


def test_events_resumed_at_random_points_arrive_once_each_in_commit_order_across_an_api_restart(
    settings: Settings, admin: GraphQLClient, writers: Callable[[], None]
) -> None:
    rng = random.Random(18)
    start = Checkpoint(*(int(part) for part in _latest_position(admin).split(":")))
    seen: list[str] = []
    after = f"{start.transaction_id}:{start.position}"
    logs = OUTPUT / "e2e" / "test_subscriptions_http" / "restarts"
    for life in range(2):  # an API (with its projector) of its own, stopped and started again between halves
        with running_service(settings, logs / str(life)) as base:
            for _ in range(10):
                with LiveClient(base, admin_token()) as live:
                    live.subscribe("e", EVENTS, after=after)
                    for _ in range(rng.randint(1, 40)):
                        after = live.next_data("e")["events"]["position"]
                        seen.append(after)
            if life == 1:
                writers()  # a write still in flight would commit after the outbox is read, out of its order
                expected = _outbox_after(settings.database_url, start)
                with LiveClient(base, admin_token()) as live:  # the rest, once the writers are done
                    live.subscribe("e", EVENTS, after=after)
                    while len(seen) < len(expected):
                        seen.append(live.next_data("e")["events"]["position"])
    assert len(seen) == len(set(seen)), "an event came twice"
    assert seen == expected
    assert len(expected) > 100


def _latest_position(admin: GraphQLClient) -> str:
    page = admin("{ events(first: 1) { edges { node { position } } } }")["data"]["events"]["edges"]
    return str(page[0]["node"]["position"]) if page else "0:0"
