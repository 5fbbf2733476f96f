"""The product flow over HTTP, through every layer and both processes."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from api.consistency import encode_token
from api.migrate import head_revision
from tests.e2e.conftest import GraphQLClient, module_service

CREATE = """
mutation Create($input: CreateProductInput!) {
  createProduct(input: $input) {
    __typename
    ... on ProductChanged { consistencyToken productId version product { id name price status } }
    ... on ValidationFailed { code message fields { field message } }
    ... on DuplicateSku { code message sku }
  }
}
"""

SEARCH = """
query Search($q: String, $token: String, $first: Int, $after: String) {
  products(query: $q, consistentWith: $token, first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage endCursor }
    edges { cursor highlights { field snippets } node { id sku name price tags stock status version } }
  }
}
"""

# One server for the module: each test reads only the products it wrote (unique SKUs and names).
settings, server = module_service()


def product_input(**overrides: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "sku": f"E2E-{uuid.uuid4().hex[:10]}",
        "name": "Copper Kettle",
        "brand": "Hearth",
        "category": "Kitchen",
        "price": "49.90",
        "tags": ["kettle", "copper"],
        "initialStock": 7,
        "description": "A kettle for the stove.",
    }
    fields.update(overrides)
    return fields


def error_codes(body: dict[str, Any]) -> list[str]:
    return [error["extensions"]["code"] for error in body.get("errors", [])]


def test_a_product_created_over_http_is_found_over_http_on_the_first_try(gql: GraphQLClient) -> None:
    name = f"Kettle {uuid.uuid4().hex[:6]}"
    fields = product_input(name=name)
    created = gql(CREATE, input=fields)["data"]["createProduct"]
    assert created["__typename"] == "ProductChanged"
    assert created["version"] == 1
    assert created["product"] == {"id": created["productId"], "name": name, "price": "49.90", "status": "ACTIVE"}

    found = gql(SEARCH, q=name, token=created["consistencyToken"])["data"]["products"]
    assert found["totalCount"] >= 1
    top = found["edges"][0]
    assert top["node"]["id"] == created["productId"]
    assert top["node"]["tags"] == ["kettle", "copper"]
    assert top["node"]["stock"] == 7
    # The unified highlighter marks an adjacent phrase match as one span.
    assert {"field": "name", "snippets": [f"<em>{name}</em>"]} in top["highlights"]

    by_id = gql(
        "query($id: ID!, $t: String) { product(id: $id, consistentWith: $t) { sku price } }",
        id=created["productId"],
        t=created["consistencyToken"],
    )
    assert by_id == {"data": {"product": {"sku": fields["sku"], "price": "49.90"}}}


def test_highlights_escape_the_markup_of_what_they_quote(gql: GraphQLClient) -> None:
    word = f"marquee{uuid.uuid4().hex[:6]}"
    created = gql(CREATE, input=product_input(name=f"<img src=x onerror=alert(1)> {word} & co"))["data"]
    found = gql(SEARCH, q=word, token=created["createProduct"]["consistencyToken"])["data"]["products"]
    (top,) = found["edges"]
    (name,) = [h["snippets"] for h in top["highlights"] if h["field"] == "name"]
    assert name == [f"&lt;img src=x onerror=alert(1)&gt; <em>{word}</em> &amp; co"]
    assert top["node"]["name"] == f"<img src=x onerror=alert(1)> {word} & co"  # the field itself is as written


def test_a_misspelled_search_still_finds_the_product(gql: GraphQLClient) -> None:
    word = f"zanzibar{uuid.uuid4().hex[:4]}"
    fields = product_input(name=f"{word} lamp", description=f"A {word} for reading.", tags=["desk", word])
    created = gql(CREATE, input=fields)["data"]["createProduct"]
    typo = word[:3] + ("x" if word[3] != "x" else "y") + word[4:]
    found = gql(SEARCH, q=f"{typo} lamp", token=created["consistencyToken"])["data"]["products"]
    assert [edge["node"]["id"] for edge in found["edges"]][:1] == [created["productId"]]
    # Each field marks the words within one edit of the query's, the misspelled one included.
    highlights = {h["field"]: h["snippets"] for h in found["edges"][0]["highlights"]}
    assert highlights["name"] == [f"<em>{word}</em> <em>lamp</em>"]
    assert highlights["description"] == [f"A <em>{word}</em> for reading."]
    assert highlights["tags"] == [f"<em>{word}</em>"]


def test_bad_input_is_validation_failed_per_field_and_writes_nothing(gql: GraphQLClient) -> None:
    sku = f"BAD-{uuid.uuid4().hex[:8]}"
    result = gql(CREATE, input=product_input(sku=sku, name="  ", price="-5"))["data"]["createProduct"]
    assert result["__typename"] == "ValidationFailed"
    assert result["code"] == "VALIDATION_FAILED"
    assert result["fields"] == [
        {"field": "name", "message": "must not be empty"},
        {"field": "price", "message": "must not be negative"},
    ]
    for text in ["NUL\x00", "lone \ud800"]:
        result = gql(CREATE, input=product_input(sku=sku, description=text, tags=[text]))["data"]["createProduct"]
        assert (result["__typename"], [f["field"] for f in result["fields"]]) == (
            "ValidationFailed",
            ["description", "tags"],
        )
    # A price that is not decimal text never reaches the domain: the Decimal scalar refuses it.
    for price in ["12,50", "1E+30", "\u0663.\u0660\u0660", 12.5]:
        refused = gql(CREATE, input=product_input(sku=sku, price=price))
        assert refused["data"] is None
        assert error_codes(refused) == ["BAD_USER_INPUT"], price
        assert "Decimal must be a string of ASCII digits" in refused["errors"][0]["message"]
    # A later successful write's token proves the projector has seen everything before it.
    marker = gql(CREATE, input=product_input())["data"]["createProduct"]
    found = gql(SEARCH, q=sku, token=marker["consistencyToken"])["data"]["products"]
    assert sku not in [edge["node"]["sku"] for edge in found["edges"]]


def test_a_duplicate_sku_is_a_typed_error(gql: GraphQLClient) -> None:
    first = product_input()
    assert gql(CREATE, input=first)["data"]["createProduct"]["__typename"] == "ProductChanged"
    again = gql(CREATE, input=product_input(sku=first["sku"]))["data"]["createProduct"]
    assert again == {
        "__typename": "DuplicateSku",
        "code": "DUPLICATE_SKU",
        "message": f"A product with SKU {first['sku']!r} already exists.",
        "sku": first["sku"],
    }


def test_paging_forward_visits_every_match_once(gql: GraphQLClient) -> None:
    word = f"pager{uuid.uuid4().hex[:6]}"
    token = ""
    for i in range(5):
        token = gql(CREATE, input=product_input(name=f"{word} item {i}"))["data"]["createProduct"]["consistencyToken"]
    seen: list[str] = []
    after = None
    while True:
        page = gql(SEARCH, q=word, token=token, first=2, after=after)["data"]["products"]
        seen += [edge["node"]["id"] for edge in page["edges"]]
        assert page["totalCount"] == 5
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert len(seen) == 5
    assert len(set(seen)) == 5


def test_malformed_ids_tokens_and_cursors_are_typed_errors_not_500s(gql: GraphQLClient) -> None:
    assert error_codes(gql('{ product(id: "nope") { id } }')) == ["BAD_USER_INPUT"]
    assert error_codes(gql('{ products(consistentWith: "forged") { totalCount } }')) == ["BAD_USER_INPUT"]
    assert error_codes(gql('{ products(after: "forged") { totalCount } }')) == ["BAD_CURSOR"]
    assert error_codes(gql("{ products(first: -1) { totalCount } }")) == ["BAD_USER_INPUT"]
    assert error_codes(gql("{ products(first: 1000) { totalCount } }")) == ["BAD_USER_INPUT"]
    assert error_codes(gql('{ products(query: "%s") { totalCount } }' % ("x" * 300))) == ["BAD_USER_INPUT"]
    assert error_codes(gql('{ productSuggestions(prefix: "") { id } }')) == ["BAD_USER_INPUT"]
    unknown = gql('{ product(id: "UHJvZHVjdDowMDAwMDAwMC0wMDAwLTAwMDAtMDAwMC0wMDAwMDAwMDAwMDA") { id } }')
    assert unknown == {"data": {"product": None}}


def test_waiting_for_a_write_that_never_comes_times_out_with_its_code(server: str) -> None:
    far_future = encode_token(2**62, 1)
    response = httpx.post(
        f"{server}/graphql",
        json={
            "query": "query($t: String) { products(consistentWith: $t) { totalCount } }",
            "variables": {"t": far_future},
        },
        timeout=30,
    )
    assert response.status_code == 200
    assert [e["extensions"]["code"] for e in response.json()["errors"]] == ["CONSISTENCY_TIMEOUT"]


def test_health_and_readiness(server: str) -> None:
    assert httpx.get(f"{server}/healthz").json() == {"status": "ok"}
    ready = httpx.get(f"{server}/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"]["database"] == {"ok": True, "detail": f"schema at {head_revision()}"}
    assert ready.json()["checks"]["search"]["ok"] is True
