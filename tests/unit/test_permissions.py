"""A mutation operation is refused whole, before any of its fields runs, when the caller may not run one."""

from __future__ import annotations

import uuid

import pytest
from graphql import parse

from api.auth import ANONYMOUS, Actor, Role
from api.cost import RequestBudget
from api.ids import to_global_id
from api.permissions import MUTATIONS, mutation_fields
from tests.unit.test_cost import SCHEMA, served

CUSTOMER = Actor(Role.CUSTOMER, str(uuid.UUID(int=1)), uuid.UUID(int=1))


@pytest.mark.parametrize(
    ("actor", "code"),
    [
        (ANONYMOUS, "UNAUTHENTICATED"),
        (CUSTOMER, "FORBIDDEN"),
    ],
)
def test_a_mutation_operation_is_refused_whole_when_one_of_its_fields_is_not_allowed(actor: Actor, code: str) -> None:
    query = (
        'mutation { registerCustomer(input: {name: "Ada", email: "ada@example.com"}) { __typename } '
        '...Staff } fragment Staff on Mutation { shipOrder(input: {id: "x"}) { __typename } }'
    )
    result = served(query, budget=RequestBudget(2000), actor=actor)
    assert result.data is None
    assert [(e.extensions or {}).get("code") for e in result.errors] == [code]


def test_every_mutation_has_its_permission_and_the_operation_names_its_fields() -> None:
    names = set(SCHEMA._schema.mutation_type.fields) if SCHEMA._schema.mutation_type else set()
    assert set(MUTATIONS) <= names
    query = (
        'mutation M { a: payOrder(input: {id: "x"}) { __typename } '
        '... on Mutation { cancelOrder(input: {id: "x"}) { __typename } } }'
    )
    assert [field.name.value for field in mutation_fields(parse(query), "M")] == ["payOrder", "cancelOrder"]
    assert mutation_fields(parse("{ products { totalCount } }"), None) == []


def test_a_customer_placing_an_order_for_someone_else_is_refused_before_anything_runs() -> None:
    query = (
        'mutation($i: PlaceOrderInput!) { registerCustomer(input: {name: "Ada", email: "ada@example.com"}) '
        "{ __typename } placeOrder(input: $i) { __typename } }"
    )
    someone_else = {"customerId": to_global_id("Customer", uuid.UUID(int=2)), "lines": []}
    result = served(query, budget=RequestBudget(2000), actor=CUSTOMER, variables={"i": someone_else})
    assert result.data is None
    assert [(e.extensions or {}).get("code") for e in result.errors or []] == ["FORBIDDEN"]
