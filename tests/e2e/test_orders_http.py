"""Orders, customers and `node` through HTTP, over data written through the mutations."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from api.ids import from_global_id
from tests.conftest import own_database
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


# A database of each test's own: totals and counts are over every order, which must be this test's.
database_url = own_database()


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
    assert (cancelled["status"], cancelled["version"]) == ("CANCELLED", 4)  # placed, paid, refunded, cancelled

    ada = gql(CUSTOMER, id=data["ada"], token=data["token"])["data"]["customer"]
    assert (ada["orderCount"], ada["lifetimeValue"], ada["version"]) == (1, "0.00", 1), "her order is not paid yet"
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
    # An order's id as the API shows it (a global id) finds that order, as its bare UUID does.
    some = by_total["edges"][0]["node"]["id"]
    assert [e["node"]["id"] for e in orders(gql, q=some)["edges"]] == [some]
    assert [e["node"]["id"] for e in orders(gql, q=str(from_global_id(some, "Order")[1]))["edges"]] == [some]

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
        ("query($id: ID!) { node(id: $id) { id } }", {"id": "nope"}),
    ):
        codes = error_codes(gql(query, **variables))
        assert codes in (["BAD_USER_INPUT"], ["BAD_CURSOR"]), (variables, codes)


EVENTS = """
query($aggregate: ID, $types: [String!], $first: Int, $after: String, $token: String) {
  events(aggregateId: $aggregate, types: $types, first: $first, after: $after, consistentWith: $token) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { node { position aggregateType aggregateId version type occurredAt payload } }
  }
}
"""


def test_the_audit_trail_shows_an_aggregates_events_newest_first(gql: GraphQLClient) -> None:
    data = shop(gql)
    cancelled = data["orders"][1]
    trail = gql(EVENTS, aggregate=cancelled, token=data["token"])["data"]["events"]
    nodes = [edge["node"] for edge in trail["edges"]]
    assert [(n["type"], n["version"]) for n in nodes] == [
        ("OrderCancelled", 4),
        ("OrderRefunded", 3),
        ("OrderPaid", 2),
        ("OrderPlaced", 1),
    ]
    assert {n["aggregateId"] for n in nodes} == {cancelled}
    assert nodes[0]["payload"]["reason"] == "changed my mind"
    assert nodes[0]["payload"]["refund"] == "7.50"

    paid = gql(EVENTS, types=["OrderPaid"])["data"]["events"]
    assert paid["totalCount"] == 2
    first = gql(EVENTS, types=["OrderPaid", "OrderCancelled"], first=1)["data"]["events"]
    assert first["pageInfo"]["hasNextPage"]
    rest = gql(EVENTS, types=["OrderPaid", "OrderCancelled"], first=5, after=first["pageInfo"]["endCursor"])
    assert [e["node"]["type"] for e in first["edges"] + rest["data"]["events"]["edges"]] == [
        "OrderPaid",
        "OrderCancelled",
        "OrderPaid",
    ]
    everything = gql(EVENTS, first=100)["data"]["events"]
    positions = [tuple(map(int, e["node"]["position"].split(":"))) for e in everything["edges"]]
    assert positions == sorted(positions, reverse=True)
    assert error_codes(gql(EVENTS, aggregate="nope")) == ["BAD_USER_INPUT"]


REPORT = """
query($from: DateTime!, $to: DateTime!, $interval: Interval, $token: String) {
  salesReport(from: $from, to: $to, interval: $interval, consistentWith: $token) {
    totalRevenue orderCount
    buckets { start revenue orderCount }
    topProducts { productId name unitsSold revenue }
  }
}
"""


def test_the_sales_report_adds_up_to_the_orders_placed_leaving_out_cancelled_ones(gql: GraphQLClient) -> None:
    data = shop(gql)
    placed = [gql(ORDER, id=order, token=data["token"])["data"]["order"] for order in data["orders"]]
    kept = [order for order in placed if order["status"] != "CANCELLED"]
    expected_revenue = sum((Decimal(order["total"]) for order in kept), Decimal("0"))

    day = placed[0]["placedAt"][:10]
    report = gql(REPORT, **{"from": f"{day}T00:00:00Z", "to": f"{day}T23:59:59Z", "interval": "HOUR"})
    figures = report["data"]["salesReport"]
    assert (Decimal(figures["totalRevenue"]), figures["orderCount"]) == (expected_revenue, len(kept))
    assert len(figures["buckets"]) == 24
    assert sum(Decimal(b["revenue"]) for b in figures["buckets"]) == expected_revenue
    assert sum(b["orderCount"] for b in figures["buckets"]) == len(kept)
    assert all(b["start"].endswith("+00:00") or b["start"].endswith("Z") for b in figures["buckets"])

    by_product: dict[str, tuple[int, Decimal]] = {}
    for order in kept:
        for line in order["lines"]:
            units, revenue = by_product.get(line["productId"], (0, Decimal("0")))
            by_product[line["productId"]] = (units + line["quantity"], revenue + Decimal(line["lineTotal"]))
    top = {p["productId"]: (p["unitsSold"], Decimal(p["revenue"])) for p in figures["topProducts"]}
    assert top == by_product
    assert [p["productId"] for p in figures["topProducts"]] == sorted(by_product, key=lambda k: -by_product[k][1])

    empty = gql(REPORT, **{"from": "2001-01-01T00:00:00Z", "to": "2001-03-01T00:00:00Z", "interval": "MONTH"})
    assert empty["data"]["salesReport"]["totalRevenue"] == "0.00"
    assert [b["start"][:10] for b in empty["data"]["salesReport"]["buckets"]] == ["2001-01-01", "2001-02-01"]
    for bad in (
        {"from": "2026-02-01T00:00:00Z", "to": "2026-01-01T00:00:00Z"},
        {"from": "2020-01-01T00:00:00Z", "to": "2026-01-01T00:00:00Z", "interval": "HOUR"},
    ):
        assert error_codes(gql(REPORT, **bad)) == ["BAD_USER_INPUT"], bad
