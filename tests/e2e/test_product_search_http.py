"""Product search through HTTP: filters, disjunctive facets, price ranges, sorting, paging both ways."""

from __future__ import annotations

import base64
import itertools
import json
import threading
from decimal import Decimal
from typing import Any

from elasticsearch import Elasticsearch

from tests.conftest import own_database
from tests.e2e.conftest import GraphQLClient
from tests.e2e.test_products_http import CREATE, error_codes, product_input

SEARCH = """
query Search($q: String, $filter: ProductFilter, $sort: [ProductSort!], $first: Int, $after: String,
             $last: Int, $before: String, $token: String) {
  products(query: $q, filter: $filter, sort: $sort, first: $first, after: $after, last: $last, before: $before,
           consistentWith: $token) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { sku name brand price } }
    facets {
      brands { value count selected }
      categories { value count selected }
      tags { value count selected }
      priceRanges { from to count }
    }
  }
}
"""


# A database of each test's own: counts and orders are over the whole catalog, which must be this one.
database_url = own_database()


CATALOG = [
    # brand, category, tags, price
    ("Acme", "Kitchen", ["steel"], "4.50"),
    ("Acme", "Kitchen", ["steel", "gift"], "12.00"),
    ("Acme", "Garden", ["gift"], "30.00"),
    ("Bolt", "Kitchen", ["copper"], "9.99"),
    ("Bolt", "Garden", ["steel"], "75.00"),
    ("Bolt", "Garden", [], "250.00"),
    ("Crest", "Kitchen", ["copper", "gift"], "24.99"),
    ("Crest", "Bath", ["gift"], "10.00"),
    ("Crest", "Bath", [], "999.00"),
]


def load_catalog(gql: GraphQLClient) -> str:
    token = ""
    for number, (brand, category, tags, price) in enumerate(CATALOG):
        fields = product_input(name=f"Item {number}", brand=brand, category=category, tags=tags, price=price)
        created = gql(CREATE, input=fields)["data"]["createProduct"]
        assert created["__typename"] == "ProductChanged", created
        token = created["consistencyToken"]
    return token


def search(gql: GraphQLClient, **variables: Any) -> dict[str, Any]:
    body = gql(SEARCH, **variables)
    assert "errors" not in body, body["errors"]
    result: dict[str, Any] = body["data"]["products"]
    return result


def test_facet_counts_equal_the_totals_of_the_filtered_searches(gql: GraphQLClient) -> None:
    token = load_catalog(gql)
    chosen = {"brands": ["Acme"], "tags": ["gift"]}
    found = search(gql, filter=chosen, token=token)
    assert found["totalCount"] == 2  # Acme and gift: 12.00 and 30.00
    facets = found["facets"]

    # A facet counts its values under the other facets' selections: every brand shows, Acme selected.
    for facet, name in (("brands", "brands"), ("categories", "categories"), ("tags", "tags")):
        assert facets[facet], facet
        for entry in facets[facet]:
            alone = {**chosen, name: [entry["value"]]}
            assert entry["count"] == search(gql, filter=alone)["totalCount"], (facet, entry)
            assert entry["selected"] == (entry["value"] in chosen.get(name, []))
    assert {e["value"] for e in facets["brands"]} == {"Acme", "Crest"}  # Bolt has no gift
    for bucket in facets["priceRanges"]:
        bounds = {"minPrice": bucket["from"] or "0"}
        if bucket["to"] is not None:
            bounds["maxPrice"] = str(Decimal(bucket["to"]) - Decimal("0.01"))
        assert bucket["count"] == search(gql, filter={**chosen, **bounds})["totalCount"], bucket
    assert [b["from"] for b in facets["priceRanges"]] == [None, "10.00", "25.00", "50.00", "100.00", "250.00", "500.00"]


def test_filters_combine_and_sorts_order(gql: GraphQLClient) -> None:
    token = load_catalog(gql)
    cheap_kitchen = search(
        gql, filter={"categories": ["Kitchen"], "maxPrice": "10"}, sort=[{"field": "PRICE"}], token=token
    )
    assert [e["node"]["price"] for e in cheap_kitchen["edges"]] == ["4.50", "9.99"]
    by_price_down = search(gql, sort=[{"field": "PRICE", "direction": "DESC"}], first=3)
    assert [e["node"]["price"] for e in by_price_down["edges"]] == ["999.00", "250.00", "75.00"]
    by_name = search(gql, sort=[{"field": "NAME"}], first=2)
    assert [e["node"]["name"] for e in by_name["edges"]] == ["Item 0", "Item 1"]
    assert search(gql, filter={"brands": ["Nobody"]})["totalCount"] == 0


def test_paging_forward_then_backward_gives_the_same_products_in_reverse(gql: GraphQLClient) -> None:
    load_catalog(gql)
    sort = [{"field": "PRICE"}]
    forward: list[str] = []
    after = None
    for _ in itertools.count():
        page = search(gql, sort=sort, first=2, after=after)
        forward += [edge["node"]["sku"] for edge in page["edges"]]
        assert page["pageInfo"]["hasPreviousPage"] == (after is not None)
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    backward: list[str] = []
    before = None
    while True:
        page = search(gql, sort=sort, last=2, before=before)
        backward = [edge["node"]["sku"] for edge in page["edges"]] + backward
        if not page["pageInfo"]["hasPreviousPage"]:
            break
        before = page["pageInfo"]["startCursor"]
    assert len(forward) == len(set(forward)) == len(CATALOG)
    assert backward == forward


def test_bad_search_input_is_a_typed_error(gql: GraphQLClient) -> None:
    for variables in (
        {"filter": {"minPrice": "abc"}},
        {"filter": {"minPrice": "5", "maxPrice": "1"}},
        {"filter": {"maxPrice": "-1"}},
        {"filter": {"brands": ["x"] * 51}},
        {"sort": [{"field": "PRICE"}, {"field": "PRICE"}]},
        {"first": 2, "last": 2},
        {"last": -1},
    ):
        assert error_codes(gql(SEARCH, **variables)) == ["BAD_USER_INPUT"], variables


SUGGEST = "query($p: String!, $n: Int) { productSuggestions(prefix: $p, first: $n) { id sku name } }"


def test_suggestions_complete_a_prefix_despite_a_typo_and_leave_out_discontinued_products(
    gql: GraphQLClient,
) -> None:
    token = ""
    for name in ("Copper Kettle", "Copper Pan", "Cobalt Mug", "Copper Pot"):
        created = gql(CREATE, input=product_input(name=name))["data"]["createProduct"]
        token = created["consistencyToken"]
    pot = created["productId"]
    gone = gql(
        "mutation($i: DiscontinueProductInput!) { discontinueProduct(input: $i) { ... on ProductChanged {"
        " consistencyToken } } }",
        i={"id": pot},
    )["data"]["discontinueProduct"]
    gql("query($t: String) { products(consistentWith: $t) { totalCount } }", t=gone["consistencyToken"])
    assert token

    def names(prefix: str, first: int | None = None) -> list[str]:
        body = gql(SUGGEST, p=prefix, n=first)
        assert "errors" not in body, body
        return [s["name"] for s in body["data"]["productSuggestions"]]

    assert sorted(names("copp")) == ["Copper Kettle", "Copper Pan"]
    assert sorted(names("Coper")) == ["Copper Kettle", "Copper Pan"]  # one letter missing
    assert names("cob") == ["Cobalt Mug"]
    assert len(names("co", first=1)) == 1
    assert names("zzz") == []
    for bad in ({"p": ""}, {"p": "x" * 101}, {"p": "co", "n": 21}):
        assert error_codes(gql(SUGGEST, **bad)) == ["BAD_USER_INPUT"], bad


def test_did_you_mean_offers_a_better_spelling_when_a_query_finds_little(gql: GraphQLClient) -> None:
    token = ""
    for name in ("Copper Kettle", "Cast Iron Skillet", "Copper Pan"):
        token = gql(CREATE, input=product_input(name=name))["data"]["createProduct"]["consistencyToken"]
    spelled = "query($q: String, $t: String) { products(query: $q, consistentWith: $t) { totalCount didYouMean } }"

    misspelled = gql(spelled, q="coper ketle", t=token)["data"]["products"]
    assert misspelled["totalCount"] < 10
    assert misspelled["didYouMean"] == "copper kettle"
    assert gql(spelled, q="copper kettle")["data"]["products"]["didYouMean"] is None
    assert gql(spelled, q="xyzzy")["data"]["products"]["didYouMean"] is None


def test_paging_reads_one_snapshot_while_products_are_written(gql: GraphQLClient) -> None:
    load_catalog(gql)
    stop = threading.Event()

    def write() -> None:
        for number in itertools.count():
            if stop.wait(0.05):
                return
            gql(CREATE, input=product_input(name=f"Late {number}", price=f"{number % 900}.50"))

    writer = threading.Thread(target=write)
    writer.start()
    try:
        sort = [{"field": "PRICE"}]
        forward: list[str] = []
        page = search(gql, sort=sort, first=2)
        total = page["totalCount"]
        while True:
            forward += [edge["node"]["sku"] for edge in page["edges"]]
            if not page["pageInfo"]["hasNextPage"]:
                break
            page = search(gql, sort=sort, first=2, after=page["pageInfo"]["endCursor"])
        last_cursor = page["pageInfo"]["endCursor"]
        backward: list[str] = []
        before = last_cursor
        while True:
            page = search(gql, sort=sort, last=3, before=before)
            backward = [edge["node"]["sku"] for edge in page["edges"]] + backward
            if not page["pageInfo"]["hasPreviousPage"]:
                break
            before = page["pageInfo"]["startCursor"]
    finally:
        stop.set()
        writer.join()
    assert len(forward) == len(set(forward)) == total
    assert [*backward, forward[-1]] == forward


def test_a_forged_edited_or_foreign_cursor_is_a_bad_cursor(gql: GraphQLClient) -> None:
    load_catalog(gql)
    page = search(gql, first=2)
    cursor = page["pageInfo"]["endCursor"]
    # A cursor is a 16-byte signature, then the position and point in time as JSON.
    raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
    signature, content = raw[:16], json.loads(raw[16:])

    def reissued(edited: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(signature + json.dumps(edited).encode()).decode().rstrip("=")

    forged = {**content, "p": base64.urlsafe_b64encode(b"not a point in time").decode()}
    assert error_codes(gql(SEARCH, first=2, after=reissued(forged))) == ["BAD_CURSOR"]
    assert error_codes(gql(SEARCH, first=2, after=reissued({**content, "s": ["x", "y", "z", "w"]}))) == ["BAD_CURSOR"]
    # The same cursor with other search arguments, or given to another connection.
    assert error_codes(gql(SEARCH, q="kettle", first=2, after=cursor)) == ["BAD_CURSOR"]
    assert error_codes(gql(SEARCH, first=2, after=cursor, sort=[{"field": "PRICE"}])) == ["BAD_CURSOR"]
    assert error_codes(gql("query($a: String) { orders(after: $a) { totalCount } }", a=cursor)) == ["BAD_CURSOR"]
    assert search(gql, first=2, after=cursor)["edges"], "the genuine cursor still works"


def open_searches(es: Elasticsearch) -> int:
    """Search contexts open on the node: each point in time holds one per shard it reads."""
    stats = es.nodes.stats(metric="indices", index_metric="search")
    return sum(node["indices"]["search"]["open_contexts"] for node in stats["nodes"].values())


def test_a_search_that_asks_for_no_cursor_leaves_no_point_in_time_open(gql: GraphQLClient, es: Elasticsearch) -> None:
    token = load_catalog(gql)
    before = open_searches(es)
    for _ in range(10):
        page = gql(
            "query($t: String) { products(first: 1, consistentWith: $t) { totalCount edges { node { name } } } }",
            t=token,
        )
        assert page["data"]["products"]["totalCount"] > 1  # more than one page: a pager would have kept one open
    assert open_searches(es) == before
    paged = gql("{ products(first: 1) { pageInfo { hasNextPage endCursor } } }")
    assert paged["data"]["products"]["pageInfo"]["hasNextPage"]
    assert open_searches(es) > before  # this one can page on: its point in time stays for the next page
