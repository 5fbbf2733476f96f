"""`customers` and `me` through HTTP, over customers and orders written through the mutations."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from tests.e2e.conftest import GraphQLClient, admin_token, customer_token, module_service
from tests.e2e.test_mutations_http import REGISTER, act, create_product, place
from tests.e2e.test_products_http import error_codes

CUSTOMERS = """
query Customers($q: String, $filter: CustomerFilter, $sort: [CustomerSort!], $first: Int, $after: String,
                $last: Int, $before: String, $token: String) {
  customers(query: $q, filter: $filter, sort: $sort, first: $first, after: $after, last: $last, before: $before,
            consistentWith: $token) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges {
      cursor
      highlights { field snippets }
      node { id name email orderCount lifetimeValue averageOrderValue firstOrderAt lastOrderAt createdAt updatedAt }
    }
  }
}
"""
ME = "query($token: String) { me(consistentWith: $token) { id name email orderCount } }"

# One server for the module, on a store of its own: the searches rank and count every customer in it.
settings, server = module_service(own_database=True)


def register(gql: GraphQLClient, name: str, email: str) -> dict[str, Any]:
    registered: dict[str, Any] = gql(REGISTER, input={"name": name, "email": email})["data"]["registerCustomer"]
    assert registered["__typename"] == "CustomerChanged", registered
    return registered


def customers(gql: GraphQLClient, **variables: Any) -> dict[str, Any]:
    body = gql(CUSTOMERS, **variables)
    assert "errors" not in body, body["errors"]
    result: dict[str, Any] = body["data"]["customers"]
    return result


def test_an_admin_finds_customers_by_a_typo_with_highlights_statistics_and_pages_both_ways(server: str) -> None:
    gql = GraphQLClient(server, admin_token())
    tag = uuid.uuid4().hex[:6]
    ada = register(gql, f"Ada Quillfeather{tag}", f"ada.{tag}@example.com")["customerId"]
    for n in range(3):
        register(gql, f"Byron Quillfeather{tag} {n}", f"byron{n}.{tag}@example.com")
    kettle = create_product(gql, name="Copper Kettle", price="40.00", initialStock=100)
    for quantity in (1, 2):  # the lifetime value counts what was paid
        token = act(gql, "payOrder", id=place(gql, ada, (kettle["productId"], quantity))["orderId"])["consistencyToken"]

    found = customers(gql, q=f"ada quilfeather{tag}", token=token)
    top = found["edges"][0]
    assert top["node"]["id"] == ada
    assert (top["node"]["orderCount"], top["node"]["lifetimeValue"], top["node"]["averageOrderValue"]) == (
        2,
        "120.00",
        "60.00",
    )
    assert top["node"]["firstOrderAt"] < top["node"]["lastOrderAt"] <= top["node"]["updatedAt"]
    assert {"field": "name", "snippets": [f"<em>Ada</em> <em>Quillfeather{tag}</em>"]} in top["highlights"]

    assert [e["node"]["id"] for e in customers(gql, q=f"ADA.{tag}@example.com")["edges"]][:1] == [ada]
    assert customers(gql, q=f"byron1.{tag}")["edges"][0]["node"]["email"] == f"byron1.{tag}@example.com"
    assert customers(gql, q=f"quillfeather{tag}", filter={"minOrderCount": 1})["totalCount"] == 1
    assert customers(gql, q=f"quillfeather{tag}", filter={"minLifetimeValue": "120.01"})["totalCount"] == 0

    everyone = customers(gql, q=f"quillfeather{tag}", sort=[{"field": "NAME"}])
    names = [edge["node"]["name"] for edge in everyone["edges"]]
    assert names == sorted(names, key=str.lower)
    assert everyone["totalCount"] == 4
    forward, after = [], None
    while True:
        page = customers(gql, q=f"quillfeather{tag}", sort=[{"field": "NAME"}], first=1, after=after)
        forward += [edge["node"]["name"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert forward == names
    backward, before = [], None
    while True:
        page = customers(gql, q=f"quillfeather{tag}", sort=[{"field": "NAME"}], last=1, before=before)
        backward = [edge["node"]["name"] for edge in page["edges"]] + backward
        if not page["pageInfo"]["hasPreviousPage"]:
            break
        before = page["pageInfo"]["startCursor"]
    assert backward == names


def test_only_an_admin_searches_customers_and_me_is_the_callers_own_record(server: str) -> None:
    admin = GraphQLClient(server, admin_token())
    tag = uuid.uuid4().hex[:6]
    registered = register(admin, f"Grace Hopper{tag}", f"grace.{tag}@example.com")
    grace, token = registered["customerId"], registered["consistencyToken"]
    as_grace = GraphQLClient(server, customer_token(grace))

    assert error_codes(as_grace(CUSTOMERS, q="grace")) == ["FORBIDDEN"]
    anonymous = httpx.post(f"{server}/graphql", json={"query": CUSTOMERS}, timeout=30)
    assert anonymous.status_code == 401
    assert [error["extensions"]["code"] for error in anonymous.json()["errors"]] == ["UNAUTHENTICATED"]

    assert as_grace(ME, token=token)["data"]["me"] == {
        "id": grace,
        "name": f"Grace Hopper{tag}",
        "email": f"grace.{tag}@example.com",
        "orderCount": 0,
    }
    assert admin(ME)["data"]["me"] is None
    assert GraphQLClient(server)(ME)["data"]["me"] is None
    assert error_codes(admin(CUSTOMERS, q="x" * 257)) == ["BAD_USER_INPUT"]


GRAPH = """
query($id: ID!, $token: String) {
  customer(id: $id, consistentWith: $token) {
    id
    orders(first: 10) { totalCount edges { node { id buyer { id } lines { product { name } } } } }
  }
}
"""
MY_ORDERS = """
query($token: String) {
  me(consistentWith: $token) {
    id
    orders(sort: [{field: TOTAL, direction: ASC}]) {
      totalCount edges { node { total buyer { id email } lines { quantity product { name stock } } } }
    }
  }
  orders { edges { node { buyer { id } } } }
}
"""


def test_a_customer_walks_to_their_orders_buyer_and_products_and_reaches_no_one_else(server: str) -> None:
    admin = GraphQLClient(server, admin_token())
    tag = uuid.uuid4().hex[:6]
    ada = register(admin, f"Ada Walker{tag}", f"ada.w.{tag}@example.com")["customerId"]
    bob = register(admin, f"Bob Walker{tag}", f"bob.w.{tag}@example.com")["customerId"]
    lamp = create_product(admin, name=f"Walker Lamp {tag}", price="30.00", initialStock=50)
    place(admin, ada, (lamp["productId"], 1))
    place(admin, ada, (lamp["productId"], 2))
    token = place(admin, bob, (lamp["productId"], 3))["consistencyToken"]

    mine = GraphQLClient(server, customer_token(ada))(MY_ORDERS, token=token)
    assert "errors" not in mine, mine["errors"]
    me = mine["data"]["me"]
    assert me["id"] == ada
    assert [edge["node"]["total"] for edge in me["orders"]["edges"]] == ["30.00", "60.00"]
    for edge in me["orders"]["edges"] + mine["data"]["orders"]["edges"]:
        assert edge["node"]["buyer"]["id"] == ada, "only Ada, through every path"
    assert me["orders"]["edges"][0]["node"]["lines"][0]["product"] == {"name": f"Walker Lamp {tag}", "stock": 44}

    as_ada = GraphQLClient(server, customer_token(ada))
    assert error_codes(as_ada(GRAPH, id=bob)) == ["FORBIDDEN"]
    bobs = admin(GRAPH, id=bob, token=token)["data"]["customer"]["orders"]
    assert bobs["totalCount"] == 1
    assert bobs["edges"][0]["node"]["buyer"]["id"] == bob
    other = admin("query($id: ID!, $c: ID) { customer(id: $id) { orders(filter: {customerId: $c}) { totalCount } } }",
                  id=bob, c=ada)  # fmt: skip
    assert error_codes(other) == ["BAD_USER_INPUT"]


REPORT = """
query($from: DateTime!, $to: DateTime!, $token: String) {
  customerReport(from: $from, to: $to, interval: DAY, consistentWith: $token) {
    newCustomers orderingCustomers repeatCustomers
    buckets { start newCustomers orderingCustomers }
    topCustomers { customer { id name } orderCount revenue }
  }
}
"""


def test_an_admin_reads_the_customer_report_and_a_customer_may_not(server: str) -> None:
    admin = GraphQLClient(server, admin_token())
    tag = uuid.uuid4().hex[:6]
    spender = register(admin, f"Report Spender{tag}", f"spender.{tag}@example.com")["customerId"]
    lamp = create_product(admin, name=f"Report Lamp {tag}", price="1000.00", initialStock=50)
    place(admin, spender, (lamp["productId"], 1))
    token = place(admin, spender, (lamp["productId"], 2))["consistencyToken"]
    window = {"from": "2020-01-01T00:00:00Z", "to": "2030-01-01T00:00:00Z"}

    too_many = admin(REPORT, **window)
    assert error_codes(too_many) == ["BAD_USER_INPUT"], "ten years of days are more than 1,000 buckets"
    body = admin(REPORT.replace("interval: DAY", "interval: MONTH"), token=token, **window)
    assert "errors" not in body, body["errors"]
    found = body["data"]["customerReport"]
    assert found["repeatCustomers"] >= 1
    assert len(found["buckets"]) == 120
    assert sum(bucket["newCustomers"] for bucket in found["buckets"]) == found["newCustomers"]
    assert found["topCustomers"][0] == {
        "customer": {"id": spender, "name": f"Report Spender{tag}"},
        "orderCount": 2,
        "revenue": "3000.00",
    }
    assert error_codes(GraphQLClient(server, customer_token(spender))(REPORT, **window)) == ["FORBIDDEN"]


UPDATE = """
mutation Update($input: UpdateCustomerInput!) {
  updateCustomer(input: $input) {
    __typename
    ... on CustomerChanged { consistencyToken customerId version customer { name email } }
    ... on ValidationFailed { code fields { field message } }
    ... on NotFound { code id }
    ... on VersionConflict { code expectedVersion actualVersion }
    ... on DuplicateEmail { code email }
  }
}
"""
ORDERS_OF = """
query($q: String, $token: String) {
  orders(query: $q, consistentWith: $token) { totalCount edges { node { customer { id name email } } } }
}
"""


def update(gql: GraphQLClient, **fields: Any) -> dict[str, Any]:
    body = gql(UPDATE, input=fields)
    assert "errors" not in body, body["errors"]
    result: dict[str, Any] = body["data"]["updateCustomer"]
    return result


def test_a_customer_changes_their_name_and_every_order_shows_and_is_found_by_it(server: str) -> None:
    admin = GraphQLClient(server, admin_token())
    tag = uuid.uuid4().hex[:6]
    ada = register(admin, f"Ada Oldname{tag}", f"ada.o.{tag}@example.com")["customerId"]
    kettle = create_product(admin, name=f"Rename Kettle {tag}", price="10.00", initialStock=50)
    for quantity in (1, 2, 3):
        place(admin, ada, (kettle["productId"], quantity))

    as_ada = GraphQLClient(server, customer_token(ada))
    changed = update(as_ada, id=ada, expectedVersion=1, name=f"Ada Newname{tag}", email=f"ADA.N.{tag}@example.com")
    assert changed["__typename"] == "CustomerChanged", changed
    assert changed["version"] == 2
    assert changed["customer"] == {"name": f"Ada Newname{tag}", "email": f"ada.n.{tag}@example.com"}
    token = changed["consistencyToken"]

    renamed = admin(ORDERS_OF, q=f"newname{tag}", token=token)["data"]["orders"]
    assert renamed["totalCount"] == 3
    assert {edge["node"]["customer"]["name"] for edge in renamed["edges"]} == {f"Ada Newname{tag}"}
    assert {edge["node"]["customer"]["email"] for edge in renamed["edges"]} == {f"ada.n.{tag}@example.com"}
    assert admin(ORDERS_OF, q=f"oldname{tag}", token=token)["data"]["orders"]["totalCount"] == 0
    assert as_ada(ME, token=token)["data"]["me"]["name"] == f"Ada Newname{tag}"


def test_a_change_gets_the_documented_error_and_writes_nothing(server: str) -> None:
    admin = GraphQLClient(server, admin_token())
    tag = uuid.uuid4().hex[:6]
    ada = register(admin, f"Ada Errant{tag}", f"ada.e.{tag}@example.com")["customerId"]
    grace = register(admin, f"Grace Errant{tag}", f"grace.e.{tag}@example.com")["customerId"]
    as_ada = GraphQLClient(server, customer_token(ada))

    invalid = update(as_ada, id=ada, name="", email="not-an-email")
    assert (invalid["__typename"], [f["field"] for f in invalid["fields"]]) == ("ValidationFailed", ["name", "email"])
    assert update(as_ada, id=ada)["fields"] == [{"field": "input", "message": "give at least one of name, email"}]
    duplicate = update(as_ada, id=ada, email=f"GRACE.E.{tag}@example.com")
    assert (duplicate["__typename"], duplicate["email"]) == ("DuplicateEmail", f"grace.e.{tag}@example.com")
    conflict = update(admin, id=ada, expectedVersion=7, name="Late")
    assert (conflict["__typename"], conflict["expectedVersion"], conflict["actualVersion"]) == ("VersionConflict", 7, 1)
    missing = update(admin, id="nope", name="Nobody")
    assert (missing["__typename"], missing["id"]) == ("NotFound", "nope")

    assert error_codes(as_ada(UPDATE, input={"id": grace, "name": "Taken Over"})) == ["FORBIDDEN"]
    anonymous = httpx.post(f"{server}/graphql", json={"query": UPDATE, "variables": {"input": {"id": ada}}}, timeout=30)
    assert anonymous.status_code == 401
    # Nothing of the above was written: both are still at their first version.
    for customer in (ada, grace):
        assert update(admin, id=customer, expectedVersion=1, name=f"Checked {tag}")["version"] == 2
