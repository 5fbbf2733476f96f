"""With customer A's token, nothing of customer B's is reachable: not by any query, not by any mutation."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import httpx

from tests.conftest import own_database
from tests.e2e.conftest import GraphQLClient, admin_token, customer_token
from tests.e2e.test_mutations_http import ACTION, PLACE, create_product, place, register
from tests.e2e.test_orders_http import CUSTOMER, ORDER
from tests.e2e.test_products_http import CREATE, error_codes, product_input

# A database of each test's own: the counts below are over everything in it.
database_url = own_database()


@dataclass(frozen=True)
class Customer:
    id: str
    email: str
    order: str
    written: str  # the consistency token of the order's placing
    client: GraphQLClient


def customer_with_an_order(server: str, admin: GraphQLClient, product: str, name: str) -> Customer:
    email = f"{name}-{product[-8:]}@example.com".lower()
    customer_id = register(GraphQLClient(server), email=email)  # anyone may register
    token = customer_token(customer_id)
    client = GraphQLClient(server, token)
    placed = place(client, customer_id, (product, 1))
    assert placed["__typename"] == "OrderChanged", placed
    # Wait until the read model shows the order, so "not reachable" below never means "not there yet".
    assert admin(ORDER, id=placed["orderId"], token=placed["consistencyToken"])["data"]["order"] is not None
    return Customer(customer_id, email, placed["orderId"], placed["consistencyToken"], client)


def test_customer_a_reaches_nothing_of_customer_b(server: str) -> None:
    admin = GraphQLClient(server, admin_token())
    product = create_product(admin, initialStock=10)["productId"]
    a = customer_with_an_order(server, admin, product, "Ada")
    b = customer_with_an_order(server, admin, product, "Bob")
    seen: list[dict[str, Any]] = []

    def as_a(query: str, **variables: Any) -> dict[str, Any]:
        body = a.client(query, **variables)
        seen.append(body)
        return body

    forbidden_reads = {
        "order": (ORDER, {"id": b.order}),
        "customer": (CUSTOMER, {"id": b.id}),
        "node(order)": ("query($id: ID!) { node(id: $id) { id ... on Order { total } } }", {"id": b.order}),
        "node(customer)": ("query($id: ID!) { node(id: $id) { id ... on Customer { email } } }", {"id": b.id}),
        "orders(filter)": (
            "query($c: ID) { orders(filter: {customerId: $c}) { totalCount } }",
            {"c": b.id},
        ),
        "events(order)": ("query($id: ID) { events(aggregateId: $id) { totalCount } }", {"id": b.order}),
        "events(customer)": ("query($id: ID) { events(aggregateId: $id) { totalCount } }", {"id": b.id}),
        "events(product)": ("query($id: ID) { events(aggregateId: $id) { totalCount } }", {"id": product}),
        "events(all)": ("{ events { totalCount } }", {}),
        "salesReport": (
            '{ salesReport(from: "2020-01-01T00:00:00Z", to: "2030-01-01T00:00:00Z", interval: MONTH) { orderCount } }',
            {},
        ),
        "projections": ("{ projections { name } }", {}),
    }
    for name, (query, variables) in forbidden_reads.items():
        assert error_codes(as_a(query, **variables)) == ["FORBIDDEN"], name

    # `orders` without a filter is A's own orders, whatever the text asks for.
    mine = as_a("{ orders { totalCount edges { node { id customer { id } } } } }")["data"]["orders"]
    assert mine["totalCount"] == 1
    assert [edge["node"]["id"] for edge in mine["edges"]] == [a.order]
    # Both customers are called Ada Lovelace: a text search finds A's order only.
    assert as_a('{ orders(query: "Lovelace") { totalCount } }')["data"]["orders"]["totalCount"] == 1

    forbidden_writes = {
        "placeOrder for B": (PLACE, {"input": {"customerId": b.id, "lines": [{"productId": product, "quantity": 1}]}}),
        "payOrder of B's": (ACTION % "payOrder", {"input": {"id": b.order}}),
        "cancelOrder of B's": (ACTION % "cancelOrder", {"input": {"id": b.order}}),
        "shipOrder (staff only)": (ACTION % "shipOrder", {"input": {"id": a.order}}),
        "deliverOrder (staff only)": (ACTION % "deliverOrder", {"input": {"id": a.order}}),
        "createProduct": (CREATE, {"input": product_input()}),
        "restockProduct": (
            "mutation($id: ID!) { restockProduct(input: {id: $id, quantity: 5}) { __typename } }",
            {"id": product},
        ),
    }
    for name, (query, variables) in forbidden_writes.items():
        assert error_codes(as_a(query, **variables)) == ["FORBIDDEN"], name

    # B's order and the stock are as B left them: no write of A's went through.
    b_order = admin(ORDER, id=b.order)["data"]["order"]
    assert (b_order["status"], b_order["version"]) == ("PLACED", 1)
    stock = admin(
        "query($id: ID!, $t: String) { product(id: $id, consistentWith: $t) { stock } }", id=product, t=b.written
    )
    assert stock["data"]["product"]["stock"] == 8
    assert admin("{ orders { totalCount } }")["data"]["orders"]["totalCount"] == 2

    text = json.dumps(seen)
    for secret in (b.id, b.order, b.email):
        assert secret not in text


MIXED = """
mutation($customer: RegisterCustomerInput!, $input: %sInput!) {
  registerCustomer(input: $customer) { __typename }
  %s(input: $input) { __typename }
}
"""


def test_a_refused_operation_writes_nothing_and_one_refused_midway_reports_what_it_wrote(server: str) -> None:
    admin = GraphQLClient(server, admin_token())
    product = create_product(admin, initialStock=10)["productId"]
    a = customer_with_an_order(server, admin, product, "Ada")
    b = customer_with_an_order(server, admin, product, "Bob")
    email = f"carol-{product[-8:]}@example.com".lower()
    newcomer = {"name": "Carol", "email": email}

    # Placing an order for B is refused before any field runs: Carol is not registered.
    for_b = {"customerId": b.id, "lines": [{"productId": product, "quantity": 1}]}
    refused = a.client(MIXED % ("PlaceOrder", "placeOrder"), customer=newcomer, input=for_b)
    assert (refused["data"], error_codes(refused)) == (None, ["FORBIDDEN"])
    assert "written" not in a.client.extensions

    # Whose order B's is takes the write model's record: payOrder is refused as it runs, after Carol's
    # registration, and the answer, whose data is null, says what was written.
    midway = a.client(MIXED % ("OrderAction", "payOrder"), customer=newcomer, input={"id": b.order})
    assert (midway["data"], error_codes(midway)) == (None, ["FORBIDDEN"])
    (written,) = a.client.extensions["written"]
    assert (written["field"], written["version"]) == ("registerCustomer", 1)
    carol = admin(CUSTOMER, id=written["id"], token=written["consistencyToken"])["data"]["customer"]
    assert carol["email"] == email


def test_a_customer_reads_and_acts_on_their_own_orders(server: str) -> None:
    admin = GraphQLClient(server, admin_token())
    product = create_product(admin, initialStock=10)["productId"]
    a = customer_with_an_order(server, admin, product, "Ada")

    assert a.client(ORDER, id=a.order)["data"]["order"]["customer"]["email"] == a.email
    assert a.client(CUSTOMER, id=a.id, token=a.written)["data"]["customer"]["orderCount"] == 1
    events = a.client(
        "query($id: ID, $t: String) { events(aggregateId: $id, consistentWith: $t) { totalCount } }",
        id=a.order,
        t=a.written,
    )
    assert events["data"]["events"]["totalCount"] == 1
    # Straight after placing, with the write's token: the ownership check waits for the order too.
    second = place(a.client, a.id, (product, 1))
    fresh = a.client(
        "query($id: ID, $t: String) { events(aggregateId: $id, consistentWith: $t) { edges { node { type } } } }",
        id=second["orderId"],
        t=second["consistencyToken"],
    )
    assert fresh["data"]["events"]["edges"] == [{"node": {"type": "OrderPlaced"}}]
    paid = a.client(
        "mutation($id: ID!) { payOrder(input: {id: $id}) { ... on OrderChanged { status order { status } } } }",
        id=a.order,
    )["data"]["payOrder"]
    assert paid == {"status": "PAID", "order": {"status": "PAID"}}


def test_anonymous_callers_read_the_catalog_and_register_and_nothing_else(server: str) -> None:
    admin = GraphQLClient(server, admin_token())
    product = create_product(admin, name="Linen Apron")["productId"]
    anonymous = GraphQLClient(server)
    assert anonymous("query($id: ID!) { product(id: $id) { name } }", id=product)["data"]["product"] == {
        "name": "Linen Apron"
    }
    assert anonymous("query($id: ID!) { node(id: $id) { id } }", id=product)["data"]["node"] == {"id": product}
    assert anonymous('{ productSuggestions(prefix: "Line") { name } }')["data"]["productSuggestions"] is not None
    registered = anonymous(
        'mutation { registerCustomer(input: {name: "Cy", email: "cy-anon@example.com"})'
        " { ... on CustomerChanged { customerId customer { email } } } }"
    )["data"]["registerCustomer"]
    assert registered["customer"] == {"email": "cy-anon@example.com"}

    needs_a_token = [
        "{ orders { totalCount } }",
        '{ order(id: "T3JkZXI6MDAwMDAwMDAtMDAwMC0wMDAwLTAwMDAtMDAwMDAwMDAwMDAw") { id } }',
        f'{{ customer(id: "{registered["customerId"]}") {{ email }} }}',
        "{ events { totalCount } }",
        "{ projections { name } }",
        f'mutation {{ placeOrder(input: {{customerId: "{registered["customerId"]}", lines: []}}) {{ __typename }} }}',
        f'mutation {{ discontinueProduct(input: {{id: "{product}"}}) {{ __typename }} }}',
    ]
    for query in needs_a_token:
        response = httpx.post(anonymous.url, json={"query": query}, timeout=30)
        assert response.status_code == 401, query
        assert error_codes(response.json()) == ["UNAUTHENTICATED"], query
