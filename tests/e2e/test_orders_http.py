"""Orders, customers and `node` through HTTP, over data written through the mutations."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

from tests.conftest import fresh_database
from tests.e2e.conftest import GraphQLClient
from tests.e2e.test_mutations_http import ACTION, create_product, place, register
from tests.e2e.test_products_http import error_codes

ORDERS = """
query Orders($q: String, $filter: OrderFilter, $sort: [OrderSort!], $first: Int, $after: String, $last: Int,
             $before: String, $token: String) {
  orders(query: $q, filter: $filter, sort: $sort, first: $first, after: $after, last: $last, before: $before,
         consistentWith: $token) {
    totalCount
    statusCounts { status count }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { id total status customer { name } lines { sku quantity lineTotal } } }
  }
}
"""
ORDER = """
query($id: ID!, $token: String) {
  order(id: $id, consistentWith: $token) {
    id status version total placedAt updatedAt
    customer { id name email }
    lines { productId sku name unitPrice quantity lineTotal }
  }
}
"""
CUSTOMER = """
query($id: ID!, $token: String) {
  customer(id: $id, consistentWith: $token) { id name email version orderCount lifetimeValue createdAt }
}
"""


@pytest.fixture
def database_url(server_database_url: str) -> Iterator[str]:
    """A database of each test's own: totals and counts are over every order, which must be this test's."""
    with fresh_database(server_database_url) as url:
        yield url


def orders(gql: GraphQLClient, **variables: Any) -> dict[str, Any]:
    body = gql(ORDERS, **variables)
    assert "errors" not in body, body["errors"]
    result: dict[str, Any] = body["data"]["orders"]
    return result


def shop(gql: GraphQLClient) -> dict[str, Any]:
    ada, grace = register(gql), register(gql)
    kettle = create_product(gql, name="Copper Kettle", price="40.00", initialStock=100)
    mug = create_product(gql, name="Enamel Mug", price="7.50", initialStock=100)
    first = place(gql, ada, (kettle["productId"], 1), (mug["productId"], 2))  # 55.00
    second = place(gql, ada, (mug["productId"], 1))  # 7.50, cancelled after payment
    third = place(gql, grace, (kettle["productId"], 2))  # 80.00, paid
    gql(ACTION % "payOrder", input={"id": second["orderId"]})
    gql(ACTION % "cancelOrder", input={"id": second["orderId"], "reason": "changed my mind"})
    paid = gql(ACTION % "payOrder", input={"id": third["orderId"]})["data"]["payOrder"]
    return {
        "ada": ada,
        "grace": grace,
        "kettle": kettle,
        "mug": mug,
        "orders": [first["orderId"], second["orderId"], third["orderId"]],
        "token": paid["consistencyToken"],
    }


def test_an_order_and_its_customer_read_back_as_written(gql: GraphQLClient) -> None:
    data = shop(gql)
    found = gql(ORDER, id=data["orders"][0], token=data["token"])["data"]["order"]
    assert (found["status"], found["version"], found["total"]) == ("PLACED", 1, "55.00")
    assert found["customer"]["id"] == data["ada"]
    assert [(line["sku"], line["unitPrice"], line["quantity"], line["lineTotal"]) for line in found["lines"]] == [
        (data_sku(gql, data["kettle"]["productId"]), "40.00", 1, "40.00"),
        (data_sku(gql, data["mug"]["productId"]), "7.50", 2, "15.00"),
    ]
    cancelled = gql(ORDER, id=data["orders"][1], token=data["token"])["data"]["order"]
    assert (cancelled["status"], cancelled["version"]) == ("CANCELLED", 3)

    ada = gql(CUSTOMER, id=data["ada"], token=data["token"])["data"]["customer"]
    assert (ada["orderCount"], ada["lifetimeValue"], ada["version"]) == (1, "55.00", 1)
    grace = gql(CUSTOMER, id=data["grace"], token=data["token"])["data"]["customer"]
    assert (grace["orderCount"], grace["lifetimeValue"]) == (1, "80.00")

    node = gql("query($id: ID!) { node(id: $id) { id ... on Customer { email } } }", id=data["ada"])
    assert node["data"]["node"]["email"] == ada["email"]
    node = gql("query($id: ID!) { node(id: $id) { id ... on Order { total } } }", id=data["orders"][2])
    assert node["data"]["node"]["total"] == "80.00"


def data_sku(gql: GraphQLClient, product_id: str) -> str:
    sku: str = gql("query($id: ID!) { product(id: $id) { sku } }", id=product_id)["data"]["product"]["sku"]
    return sku


def test_mutation_payloads_resolve_the_order_and_the_customer_they_wrote(gql: GraphQLClient) -> None:
    registered = gql(
        "mutation($i: RegisterCustomerInput!) { registerCustomer(input: $i) {"
        " ... on CustomerChanged { customer { name email orderCount lifetimeValue } } } }",
        i={"name": "Lin", "email": "lin@example.com"},
    )["data"]["registerCustomer"]
    expected = {"name": "Lin", "email": "lin@example.com", "orderCount": 0, "lifetimeValue": "0.00"}
    assert registered["customer"] == expected
    customer = register(gql)
    product = create_product(gql, price="3.00", initialStock=5)["productId"]
    placed = gql(
        "mutation($i: PlaceOrderInput!) { placeOrder(input: $i) { ... on OrderChanged { order { total status } } } }",
        i={"customerId": customer, "lines": [{"productId": product, "quantity": 3}]},
    )["data"]["placeOrder"]
    assert placed["order"] == {"total": "9.00", "status": "PLACED"}


def test_order_search_filters_full_text_status_counts_sort_and_paging(gql: GraphQLClient) -> None:
    data = shop(gql)
    token = data["token"]
    everything = orders(gql, token=token)
    assert everything["totalCount"] == 3
    assert {c["status"]: c["count"] for c in everything["statusCounts"]} == {
        "PLACED": 1,
        "PAID": 1,
        "SHIPPED": 0,
        "DELIVERED": 0,
        "CANCELLED": 1,
    }
    assert orders(gql, filter={"customerId": data["ada"]})["totalCount"] == 2
    assert orders(gql, filter={"productId": data["kettle"]["productId"]})["totalCount"] == 2
    paid = orders(gql, filter={"statuses": ["PAID"]})
    assert paid["totalCount"] == 1
    # Status counts ignore the statuses chosen: each shows what choosing it would give.
    assert {c["status"]: c["count"] for c in paid["statusCounts"]}["CANCELLED"] == 1
    assert orders(gql, filter={"minTotal": "50", "maxTotal": "80"})["totalCount"] == 2
    by_total = orders(gql, sort=[{"field": "TOTAL", "direction": "ASC"}])
    assert [e["node"]["total"] for e in by_total["edges"]] == ["7.50", "55.00", "80.00"]
    grace = orders(gql, q=gql(CUSTOMER, id=data["grace"])["data"]["customer"]["name"])
    assert {e["node"]["total"] for e in grace["edges"]} >= {"80.00"}
    assert orders(gql, q="Enamle Mug")["totalCount"] == 2  # a typo in a product name
    sku = data_sku(gql, data["kettle"]["productId"])
    assert orders(gql, q=sku)["totalCount"] == 2

    forward, after = [], None
    while True:
        page = orders(gql, first=1, after=after)
        forward += [e["node"]["id"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    backward, before = [], None
    while True:
        page = orders(gql, last=2, before=before)
        backward = [e["node"]["id"] for e in page["edges"]] + backward
        if not page["pageInfo"]["hasPreviousPage"]:
            break
        before = page["pageInfo"]["startCursor"]
    assert forward == backward
    assert sorted(forward) == sorted(data["orders"])
    assert sum(Decimal(e["node"]["total"]) for e in everything["edges"]) == Decimal("142.50")


def test_bad_order_queries_are_typed_errors(gql: GraphQLClient) -> None:
    for query, variables in (
        (ORDERS, {"filter": {"customerId": "nope"}}),
        (ORDERS, {"filter": {"minTotal": "9", "maxTotal": "1"}}),
        (ORDERS, {"filter": {"placedFrom": "2026-02-01T00:00:00Z", "placedTo": "2026-01-01T00:00:00Z"}}),
        (ORDERS, {"first": 1, "last": 1}),
        (ORDERS, {"after": "forged"}),
        (ORDER, {"id": "nope"}),
        (CUSTOMER, {"id": "nope"}),
    ):
        codes = error_codes(gql(query, **variables))
        assert codes in (["BAD_USER_INPUT"], ["BAD_CURSOR"]), (variables, codes)
