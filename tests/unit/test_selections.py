"""What a resolver learns of its selection (api/queries/_read.py): the fields it costs a search to answer,
and whether the client can page on, through aliases, fragments and inline fragments."""

from __future__ import annotations

from typing import Any

import pytest
import strawberry

from api.queries._read import can_page_on, selects


@strawberry.type
class Edge:
    cursor: str = "c"
    node: int = 1


@strawberry.type
class Page:
    has_next_page: bool = False


@strawberry.type
class Connection:
    edges: list[Edge] = strawberry.field(default_factory=lambda: [Edge()])
    page_info: Page = strawberry.field(default_factory=Page)
    facets: int = 0
    total_count: int = 0


observed: dict[str, Any] = {}


@strawberry.type
class Query:
    @strawberry.field
    def search(self, info: strawberry.Info) -> Connection:
        observed.update(facets=selects(info, "facets"), pageable=can_page_on(info))
        return Connection()


SCHEMA = strawberry.Schema(Query)


@pytest.mark.parametrize(
    ("query", "facets", "pageable"),
    [
        ("{ search { totalCount } }", False, False),
        ("{ search { facets edges { node } } }", True, False),
        ("{ search { edges { cursor } } }", False, True),
        ("{ search { pageInfo { hasNextPage } } }", False, True),
        ("{ s: search { f: facets e: edges { c: cursor } } }", True, True),
        (
            "{ search { ...F } } fragment F on Connection { facets edges { ...E } } fragment E on Edge { cursor }",
            True,
            True,
        ),
        ("{ search { ... on Connection { edges { ... { cursor } } } } }", False, True),
        ("{ search { ... @include(if: false) { facets pageInfo { hasNextPage } } } }", True, True),
    ],
)
def test_a_resolver_sees_what_its_selection_asks_for(query: str, facets: bool, pageable: bool) -> None:
    observed.clear()
    result = SCHEMA.execute_sync(query)
    assert result.errors is None
    assert observed == {"facets": facets, "pageable": pageable}
