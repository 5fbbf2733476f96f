"""Every mutation of the contract over HTTP, with each error type its union names."""

from __future__ import annotations

import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import sqlalchemy as sa

from api.ids import from_global_id, to_global_id
from api.settings import Settings
from tests.e2e.conftest import GraphQLClient, as_admin, module_service
from tests.e2e.test_products_http import CREATE, product_input

ERRORS = """
    ... on ValidationFailed { code message fields { field message } }
    ... on NotFound { code message id }
    ... on VersionConflict { code message expectedVersion actualVersion }
"""
PRODUCT_CHANGE = """
mutation Change($input: %sInput!) {
  %s(input: $input) {
    __typename
    ... on ProductChanged { consistencyToken productId version product { price stock status name tags } }
    %s
  }
}
"""
REGISTER = """
mutation Register($input: RegisterCustomerInput!) {
  registerCustomer(input: $input) {
    __typename
    ... on CustomerChanged { consistencyToken customerId version }
    ... on ValidationFailed { code fields { field message } }
    ... on DuplicateEmail { code message email }
  }
}
"""
PLACE = """
mutation Place($input: PlaceOrderInput!) {
  placeOrder(input: $input) {
    __typename
    ... on OrderChanged { consistencyToken orderId version status }
    ... on ValidationFailed { code fields { field message } }
    ... on NotFound { code id }
    ... on InsufficientStock { code productId requested available }
    ... on ProductUnavailable { code productId }
  }
}
"""
ACTION = """
mutation Act($input: OrderActionInput!) {
  %s(input: $input) {
    __typename
    ... on OrderChanged { consistencyToken orderId version status }
    ... on NotFound { code id }
    ... on VersionConflict { code expectedVersion actualVersion }
    ... on InvalidTransition { code message status action }
    ... on ValidationFailed { code fields { field message } }
    ... on PaymentMismatch { code message expected received }
  }
}
"""

# One server for the module: each test reads only what it wrote (unique SKUs, emails and ids).
settings, server = module_service()


def change(gql: GraphQLClient, mutation: str, **fields: Any) -> dict[str, Any]:
    name = mutation[0].upper() + mutation[1:]
    body = gql(PRODUCT_CHANGE % (name, mutation, ERRORS), input=fields)
    assert "errors" not in body, body
    result: dict[str, Any] = body["data"][mutation]
    return result


def create_product(gql: GraphQLClient, **overrides: Any) -> dict[str, Any]:
    created: dict[str, Any] = gql(CREATE, input=product_input(**overrides))["data"]["createProduct"]
    assert created["__typename"] == "ProductChanged", created
    return created


def register(gql: GraphQLClient, email: str | None = None) -> str:
    email = email or f"ada-{uuid.uuid4().hex[:8]}@example.com"
    registered = gql(REGISTER, input={"name": "Ada Lovelace", "email": email})["data"]["registerCustomer"]
    assert registered["__typename"] == "CustomerChanged", registered
    return str(registered["customerId"])


def place(gql: GraphQLClient, customer: str, *lines: tuple[str, int], key: str | None = None) -> dict[str, Any]:
    order_input = {"customerId": customer, "lines": [{"productId": p, "quantity": q} for p, q in lines]}
    if key is not None:
        order_input["idempotencyKey"] = key
    body = gql(PLACE, input=order_input)
    assert "errors" not in body, body
    result: dict[str, Any] = body["data"]["placeOrder"]
    return result


def act(gql: GraphQLClient, action: str, **fields: Any) -> dict[str, Any]:
    body = gql(ACTION % action, input=fields)
    assert "errors" not in body, body
    result: dict[str, Any] = body["data"][action]
    return result


def test_product_mutations_answer_with_their_union_members(gql: GraphQLClient) -> None:
    created = create_product(gql, initialStock=2, price="10.00")
    product = created["productId"]

    updated = change(gql, "updateProductDetails", id=product, expectedVersion=1, name="Tin Kettle", tags=["tin"])
    assert (updated["__typename"], updated["version"]) == ("ProductChanged", 2)
    assert (updated["product"]["name"], updated["product"]["tags"]) == ("Tin Kettle", ["tin"])
    priced = change(gql, "changeProductPrice", id=product, price="12.5")
    assert (priced["version"], priced["product"]["price"]) == (3, "12.50")
    restocked = change(gql, "restockProduct", id=product, quantity=5, expectedVersion=3)
    assert (restocked["version"], restocked["product"]["stock"]) == (4, 7)
    same = change(gql, "changeProductPrice", id=product, price="12.50")
    assert (same["version"], same["consistencyToken"]) == (4, restocked["consistencyToken"])

    stale = change(gql, "restockProduct", id=product, quantity=1, expectedVersion=1)
    assert stale == {
        "__typename": "VersionConflict",
        "code": "VERSION_CONFLICT",
        "message": "Expected version 1, but it is at version 4: read it again and retry.",
        "expectedVersion": 1,
        "actualVersion": 4,
    }
    invalid = change(gql, "updateProductDetails", id=product, name="", brand="x" * 101)
    assert invalid["__typename"] == "ValidationFailed"
    assert {f["field"] for f in invalid["fields"]} == {"name", "brand"}
    assert change(gql, "changeProductPrice", id=product, price="1000000000.01")["fields"] == [
        {"field": "price", "message": "must be at most 1000000000.00"}
    ]
    assert change(gql, "restockProduct", id=product, quantity=0)["fields"][0]["field"] == "quantity"

    unknown = to_global_id("Product", uuid.uuid4())
    missing = change(gql, "changeProductPrice", id=unknown, price="1.00")
    assert (missing["__typename"], missing["code"], missing["id"]) == ("NotFound", "NOT_FOUND", unknown)
    malformed = change(gql, "discontinueProduct", id="not-an-id")
    assert (malformed["__typename"], malformed["id"]) == ("NotFound", "not-an-id")
    customer_id = to_global_id("Customer", uuid.uuid4())
    assert change(gql, "restockProduct", id=customer_id, quantity=1)["__typename"] == "NotFound"

    discontinued = change(gql, "discontinueProduct", id=product)
    assert (discontinued["version"], discontinued["product"]["status"]) == (5, "DISCONTINUED")
    refused = change(gql, "restockProduct", id=product, quantity=1)
    assert (refused["__typename"], refused["code"]) == ("ValidationFailed", "PRODUCT_DISCONTINUED")


def test_create_product_errors_and_its_idempotency_key(gql: GraphQLClient) -> None:
    invalid = gql(CREATE, input=product_input(sku="no spaces", name="", price="-1", initialStock=-1))
    result = invalid["data"]["createProduct"]
    assert result["__typename"] == "ValidationFailed"
    assert {f["field"] for f in result["fields"]} == {"sku", "name", "price", "initialStock"}

    fields = product_input()
    create_product(gql, sku=fields["sku"])
    duplicate = gql(CREATE, input=product_input(sku=fields["sku"]))["data"]["createProduct"]
    assert (duplicate["__typename"], duplicate["sku"]) == ("DuplicateSku", fields["sku"])

    keyed = product_input(idempotencyKey=f"create-{uuid.uuid4()}")
    first = create_product(gql, **keyed)
    assert create_product(gql, **keyed) == first


def test_register_customer_and_its_errors(gql: GraphQLClient) -> None:
    email = f"Grace-{uuid.uuid4().hex[:8]}@Example.com"
    register(gql, email)
    duplicate = gql(REGISTER, input={"name": "G", "email": email.upper()})["data"]["registerCustomer"]
    assert duplicate == {
        "__typename": "DuplicateEmail",
        "code": "DUPLICATE_EMAIL",
        "message": f"A customer with email {email.lower()!r} is already registered.",
        "email": email.lower(),
    }
    invalid = gql(REGISTER, input={"name": " ", "email": "nobody"})["data"]["registerCustomer"]
    assert invalid["__typename"] == "ValidationFailed"
    assert {f["field"] for f in invalid["fields"]} == {"name", "email"}


def test_place_order_and_each_of_its_errors(gql: GraphQLClient) -> None:
    customer = register(gql)
    kettle = create_product(gql, initialStock=3)["productId"]
    gone = create_product(gql)["productId"]
    change(gql, "discontinueProduct", id=gone)

    placed = place(gql, customer, (kettle, 1), (kettle, 1))
    assert (placed["__typename"], placed["version"], placed["status"]) == ("OrderChanged", 1, "PLACED")

    short = place(gql, customer, (kettle, 2))
    assert short == {
        "__typename": "InsufficientStock",
        "code": "INSUFFICIENT_STOCK",
        "productId": kettle,
        "requested": 2,
        "available": 1,
    }
    unavailable = place(gql, customer, (kettle, 1), (gone, 1))
    assert unavailable == {"__typename": "ProductUnavailable", "code": "PRODUCT_UNAVAILABLE", "productId": gone}
    nobody = to_global_id("Customer", uuid.uuid4())
    assert place(gql, nobody, (kettle, 1)) == {"__typename": "NotFound", "code": "NOT_FOUND", "id": nobody}
    nothing = to_global_id("Product", uuid.uuid4())
    assert place(gql, customer, (nothing, 1)) == {"__typename": "NotFound", "code": "NOT_FOUND", "id": nothing}

    bad_ids = place(gql, "bogus", (kettle, 1), ("bogus", 1))
    assert bad_ids["__typename"] == "ValidationFailed"
    assert {f["field"] for f in bad_ids["fields"]} == {"customerId", "lines[1].productId"}
    assert place(gql, customer)["fields"] == [{"field": "lines", "message": "must hold 1 to 100 lines"}]
    assert place(gql, customer, (kettle, 1001))["fields"][0]["field"] == "lines[0].quantity"

    key = f"order-{uuid.uuid4()}"
    first = place(gql, customer, (kettle, 1), key=key)
    assert first["__typename"] == "OrderChanged"
    assert place(gql, customer, (kettle, 1), key=key) == first
    reused = place(gql, customer, (gone, 1), key=key)
    assert (reused["__typename"], reused["code"]) == ("ValidationFailed", "IDEMPOTENCY_KEY_REUSED")


def test_ten_concurrent_retries_with_one_key_get_ten_identical_answers(server: str, gql: GraphQLClient) -> None:
    customer = register(gql)
    product = create_product(gql, initialStock=100)["productId"]
    order_input = {
        "customerId": customer,
        "lines": [{"productId": product, "quantity": 2}],
        "idempotencyKey": f"retry-{uuid.uuid4()}",
    }

    def post(_: int) -> dict[str, Any]:
        response = httpx.post(
            f"{server}/graphql",
            json={"query": PLACE, "variables": {"input": order_input}},
            headers=as_admin(),
            timeout=30,
        )
        assert response.status_code == 200
        result: dict[str, Any] = response.json()["data"]["placeOrder"]
        return result

    with ThreadPoolExecutor(max_workers=10) as pool:
        answers = list(pool.map(post, range(10)))
    assert answers[0]["__typename"] == "OrderChanged"
    assert all(answer == answers[0] for answer in answers)
    stock = gql(
        "query($id: ID!, $t: String) { product(id: $id, consistentWith: $t) { stock } }",
        id=product,
        t=answers[0]["consistencyToken"],
    )
    assert stock == {"data": {"product": {"stock": 98}}}


def test_the_order_lifecycle_over_http(gql: GraphQLClient, server: str, settings: Settings) -> None:
    customer = register(gql)
    product = create_product(gql, initialStock=5)["productId"]
    order = place(gql, customer, (product, 2))["orderId"]

    early = act(gql, "shipOrder", id=order)
    assert early == {
        "__typename": "InvalidTransition",
        "code": "INVALID_TRANSITION",
        "message": "An order that is PLACED cannot be shipped.",
        "status": "PLACED",
        "action": "ship",
    }
    assert act(gql, "payOrder", id=order, expectedVersion=1)["status"] == "PAID"
    stale = act(gql, "shipOrder", id=order, expectedVersion=1)
    assert (stale["__typename"], stale["actualVersion"]) == ("VersionConflict", 2)
    assert act(gql, "shipOrder", id=order)["status"] == "SHIPPED"
    delivered = act(gql, "deliverOrder", id=order, reason="left at the door")
    assert (delivered["version"], delivered["status"]) == (4, "DELIVERED")
    assert act(gql, "cancelOrder", id=order)["__typename"] == "InvalidTransition"
    unknown = to_global_id("Order", uuid.uuid4())
    assert act(gql, "payOrder", id=unknown) == {"__typename": "NotFound", "code": "NOT_FOUND", "id": unknown}
    assert act(gql, "payOrder", id="garbage")["__typename"] == "NotFound"

    second = place(gql, customer, (product, 3))["orderId"]
    too_long = act(gql, "cancelOrder", id=second, reason="x" * 501)
    assert too_long["fields"] == [{"field": "reason", "message": "must be at most 500 characters"}]
    response = httpx.post(
        f"{server}/graphql",
        json={"query": ACTION % "cancelOrder", "variables": {"input": {"id": second, "reason": "changed my mind"}}},
        headers={"X-Request-ID": "req-cancel-42", **as_admin()},
        timeout=30,
    )
    cancelled = response.json()["data"]["cancelOrder"]
    assert (cancelled["status"], cancelled["version"]) == ("CANCELLED", 2)
    stock = gql(
        "query($id: ID!, $t: String) { product(id: $id, consistentWith: $t) { stock } }",
        id=product,
        t=cancelled["consistencyToken"],
    )
    assert stock == {"data": {"product": {"stock": 3}}}

    engine = sa.create_engine(settings.sqlalchemy_url)
    try:
        with engine.connect() as connection:
            metadata = connection.execute(
                sa.text("SELECT metadata FROM outbox WHERE event_type = 'OrderCancelled' AND payload->>'reason' = :r"),
                {"r": "changed my mind"},
            ).scalar_one()
    finally:
        engine.dispose()
    assert metadata["request_id"] == "req-cancel-42"
    assert metadata["actor"] == "admin:e2e-admin"


def test_each_change_mutation_answers_not_found_and_version_conflict(gql: GraphQLClient) -> None:
    product = create_product(gql)["productId"]
    changes: dict[str, dict[str, Any]] = {
        "updateProductDetails": {"name": "Renamed"},
        "changeProductPrice": {"price": "3.00"},
        "restockProduct": {"quantity": 1},
        "discontinueProduct": {},
    }
    for mutation, fields in changes.items():
        stale = change(gql, mutation, id=product, expectedVersion=99, **fields)
        assert (stale["__typename"], stale["expectedVersion"]) == ("VersionConflict", 99), mutation
        missing = change(gql, mutation, id=to_global_id("Product", uuid.uuid4()), **fields)
        assert missing["__typename"] == "NotFound", mutation
    invalid = change(gql, "updateProductDetails", id=product)
    assert invalid["fields"] == [
        {"field": "input", "message": "give at least one of name, description, brand, category, tags"}
    ]


def test_each_order_action_answers_each_of_its_errors(gql: GraphQLClient) -> None:
    customer = register(gql)
    product = create_product(gql, initialStock=10)["productId"]
    order = place(gql, customer, (product, 1))["orderId"]
    act(gql, "cancelOrder", id=order)
    for action in ("payOrder", "shipOrder", "deliverOrder", "cancelOrder"):
        refused = act(gql, action, id=order)
        assert (refused["__typename"], refused["status"]) == ("InvalidTransition", "CANCELLED"), action
        stale = act(gql, action, id=order, expectedVersion=1)
        assert (stale["__typename"], stale["actualVersion"]) == ("VersionConflict", 2), action
        missing = act(gql, action, id=to_global_id("Order", uuid.uuid4()))
        assert missing["__typename"] == "NotFound", action


RESTOCK = "mutation($id: ID!) { restockProduct(input: {id: $id, quantity: 1}) { __typename } }"


def test_the_readiness_probe_answers_while_commands_hold_every_pooled_connection(
    server: str, gql: GraphQLClient, settings: Settings
) -> None:
    product = create_product(gql, initialStock=0)["productId"]
    raw_id = str(from_global_id(product, "Product")[1])
    blocker = sa.create_engine(settings.sqlalchemy_url, poolclass=sa.pool.NullPool)
    commands = 20  # every connection of the API's pool
    with ThreadPoolExecutor(max_workers=commands) as pool, blocker.connect() as connection:
        # Holds the product's row: every restock waits for it inside its transaction, holding a connection.
        connection.execute(sa.text("SELECT 1 FROM products WHERE id = :id FOR UPDATE"), {"id": raw_id})
        restocks = [pool.submit(gql, RESTOCK, id=product) for _ in range(commands)]
        waiting = sa.text(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()"
        )
        deadline = time.monotonic() + 30
        # Counted from a connection of its own: within a transaction, pg_stat_activity is read once and kept.
        while _scalar(blocker, waiting) < commands:
            assert time.monotonic() < deadline, "the commands never all reached the locked row"
            time.sleep(0.02)
        started = time.monotonic()
        ready = httpx.get(f"{server}/readyz", timeout=10)
        took = time.monotonic() - started
        connection.rollback()
        answers = [restock.result(timeout=60) for restock in restocks]
        stock = connection.execute(sa.text("SELECT stock FROM products WHERE id = :id"), {"id": raw_id}).scalar_one()
    blocker.dispose()
    assert ready.status_code == 200, ready.text
    assert took < 5, took  # behind the commands, it waited the pool's 30 s for a connection
    assert all(answer == {"data": {"restockProduct": {"__typename": "ProductChanged"}}} for answer in answers)
    assert stock == commands


def _scalar(engine: sa.Engine, statement: sa.TextClause) -> int:
    with engine.connect() as connection:
        return int(connection.execute(statement).scalar_one())
