"""The execution shortcut (api/execution.py) gives graphql-core's own results and errors: every query here runs
through both executors, and their answers must be the same."""

from __future__ import annotations

import asyncio
import enum
from decimal import Decimal
from typing import Any

import pytest
import strawberry
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from api.execution import TwofoldExecutionContext


class Colour(enum.Enum):
    RED = "red"
    BLUE = "blue"


@strawberry.interface
class Named:
    name: str


@strawberry.type
class Leaf(Named):
    count: int
    price: Decimal
    colour: Colour
    tags: list[str]
    maybe: str | None
    maybe_tags: list[str | None] | None

    @strawberry.field
    async def later(self) -> str:
        await asyncio.sleep(0)
        return f"later {self.name}"

    @strawberry.field
    async def failing_later(self) -> str:
        await asyncio.sleep(0)
        raise ValueError(f"no {self.name}")

    @strawberry.field
    def failing(self) -> str | None:
        raise ValueError(f"failed {self.name}")


@strawberry.type
class Branch:
    leaf: Leaf
    maybe_leaf: Leaf | None
    leaves: list[Leaf]
    maybe_leaves: list[Leaf | None] | None
    named: Named


@strawberry.type
class Other:
    name: str


def leaf(label: str, **changes: Any) -> Leaf:
    values: dict[str, Any] = {
        "name": label,
        "count": 3,
        "price": Decimal("9.90"),
        "colour": Colour.RED,
        "tags": ["a", "b"],
        "maybe": None,
        "maybe_tags": ["x", None],
    }
    return Leaf(**{**values, **changes})


def branch(**changes: Any) -> Branch:
    values: dict[str, Any] = {
        "leaf": leaf("one"),
        "maybe_leaf": None,
        "leaves": [leaf("two"), leaf("three")],
        "maybe_leaves": [leaf("four"), None],
        "named": leaf("five"),
    }
    return Branch(**{**values, **changes})


BRANCHES: dict[str, Branch] = {
    "fine": branch(),
    "null_leaf": branch(leaf=leaf("x", name=None)),
    "null_in_list": branch(leaves=[leaf("y"), None]),
    "bad_int": branch(leaves=[leaf("z", count="many")]),
    "bad_enum": branch(leaf=leaf("w", colour="green")),
    "null_tag": branch(leaf=leaf("v", tags=["a", None])),
    "not_a_list": branch(leaves=leaf("u")),
    "wrong_type": branch(leaves=[Other(name="o")]),
    "nested_null": branch(maybe_leaves=[leaf("t", name=None), leaf("s")]),
    "error_value": branch(maybe_leaf=ValueError("a value that is an error")),
}


@strawberry.type
class Query:
    @strawberry.field
    def branch(self, case: str) -> Branch:
        return BRANCHES[case]

    @strawberry.field
    def maybe_branch(self, case: str) -> Branch | None:
        return BRANCHES[case]


SELECTION = """
  leaf { name count price colour tags maybe maybeTags later }
  maybeLeaf { name }
  leaves { name count later ... on Leaf { again: name tags } }
  maybeLeaves { name failing }
  named { name ... on Leaf { count } }
"""

QUERIES = [
    *(f'{{ branch(case: "{case}") {{ {SELECTION} }} }}' for case in BRANCHES),
    *(f'{{ maybeBranch(case: "{case}") {{ {SELECTION} }} }}' for case in BRANCHES),
    '{ maybeBranch(case: "fine") { leaves { name failingLater } } }',
    '{ maybeBranch(case: "fine") { maybeLeaves { name failingLater } } }',
    '{ branch(case: "fine") { leaf { n: name n: name count @skip(if: true) tags @include(if: true) } } }',
    'query($s: Boolean!) { branch(case: "fine") { leaves { name @skip(if: $s) count } } }',
]


def answer(execution_context_class: type, query: str) -> dict[str, Any]:
    schema = strawberry.Schema(query=Query, types=[Leaf], execution_context_class=execution_context_class)
    result = asyncio.run(schema.execute(query, variable_values={"s": True}))
    errors = sorted(
        ((error.message, tuple(error.path or ()), tuple((at.line, at.column) for at in error.locations or ())))
        for error in result.errors or ()
    )
    return {"data": result.data, "errors": errors}


@pytest.mark.parametrize("query", QUERIES)
def test_the_shortcut_answers_what_graphql_core_answers(query: str) -> None:
    usual = answer(StrawberryGraphQLCoreExecutionContext, query)
    assert answer(TwofoldExecutionContext, query) == usual


def test_the_cases_cover_answers_with_data_and_with_errors() -> None:
    answers = [answer(StrawberryGraphQLCoreExecutionContext, query) for query in QUERIES]
    assert any(a["errors"] and a["data"] and a["data"].get("maybeBranch") for a in answers)
    assert any(a["errors"] and a["data"] is None for a in answers)
    assert any(not a["errors"] for a in answers)
