"""What operations cost, and that a request's budget refuses what it cannot pay for before anything runs."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from graphql import parse

from api.auth import ANONYMOUS
from api.cost import Paging, Prices, RequestBudget, operation_cost
from api.schema import build_schema
from api.settings import Settings

SETTINGS = Settings(database_url="postgresql://unused", elasticsearch_url="http://unused")
SCHEMA = build_schema(SETTINGS)
PAGING = Paging(default=20, maximum=100)


def cost(query: str, **variables: Any) -> int | None:
    return operation_cost(SCHEMA._schema, parse(query), None, variables, PAGING)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("{ __typename }", 0),
        ("{ __schema { types { name fields { name } } } }", 0),
        # A search (10), its connection object (1).
        ("{ products(first: 1) { totalCount } }", 11),
        # ... and 100 edges, each an object with an object inside.
        ("{ products(first: 100) { edges { cursor node { id name } } } }", 10 + 1 + 100 * 2),
        # Without first, the default page of 20.
        ("{ products { edges { node { id } } } }", 10 + 1 + 20 * 2),
        # A size past the maximum is priced at the maximum: the resolver refuses it with its own error.
        ("{ products(last: 100000) { edges { node { id } } } }", 10 + 1 + 100 * 2),
        # Facets: an aggregation (10), the facets object, and each facet list at its bound.
        (
            "{ products(first: 0) { facets { brands { value } priceRanges { count } } } }",
            10 + 1 + 10 + 1 + 100 + 7,
        ),
        ("{ products(first: 10) { didYouMean edges { highlights { snippets } } } }", 10 + 1 + 5 + 10 * (1 + 5)),
        # An order's lines are priced at 10.
        ("{ orders(first: 2) { edges { node { lines { sku } } } } }", 10 + 1 + 2 * (1 + 1 + 10)),
        # A page of 50 orders walking to their buyers and every line's product: batched, each priced as an object.
        (
            "{ orders(first: 50) { edges { node { buyer { name } lines { product { sku } } } } } }",
            10 + 1 + 50 * (1 + 1 + 1 + 10 * (1 + 1)),
        ),
        # A customer's orders are a search of their own; a customer search, like the others.
        ('{ customer(id: "x") { orders(first: 5) { totalCount } } }', 2 + 1 + 10 + 1),
        ("{ customers(first: 10) { edges { highlights { snippets } node { name } } } }", 10 + 1 + 10 * (1 + 2 + 1)),
        ("{ me { name } }", 2 + 1),
        # Three searches' worth (registrations, ordering customers, the best ones), ten days by day.
        (
            '{ customerReport(from: "2026-01-01T00:00:00Z", to: "2026-01-11T00:00:00Z")'
            " { buckets { newCustomers } topCustomers { customer { name } } } }",
            30 + 1 + 10 + 10 * (1 + 1),
        ),
        ('{ product(id: "x") { id } }', 2 + 1),
        ('{ productSuggestions(prefix: "ke", first: 5) { id } }', 5 + 5),
        # Thirty aliased searches are thirty searches.
        ("{ " + " ".join(f"a{n}: products(first: 1) {{ totalCount }}" for n in range(30)) + " }", 30 * 11),
        # Ten days by day: ten buckets.
        (
            '{ salesReport(from: "2026-01-01T00:00:00Z", to: "2026-01-11T00:00:00Z") { buckets { orderCount } } }',
            20 + 1 + 10,
        ),
        (
            '{ salesReport(from: "2026-01-01T00:00:00Z", to: "2026-01-11T00:00:00Z", interval: HOUR)'
            " { buckets { orderCount } } }",
            20 + 1 + 240,
        ),
        # A write (10), its result (1), the record read back (2 + 1).
        (
            'mutation { registerCustomer(input: {name: "Ada", email: "ada@example.com"}) '
            "{ ... on CustomerChanged { customer { id } } } }",
            10 + 1 + 2 + 1,
        ),
    ],
)
def test_each_field_costs_the_work_it_makes(query: str, expected: int) -> None:
    assert cost(query) == expected


def test_variables_size_the_page() -> None:
    query = "query($n: Int) { products(first: $n) { edges { node { id } } } }"
    assert cost(query, n=50) == 10 + 1 + 50 * 2
    assert cost(query) == 10 + 1 + 20 * 2


def test_an_operation_that_cannot_run_is_not_priced() -> None:
    assert cost("query($n: Int!) { products(first: $n) { totalCount } }") is None
    assert cost("query($n: Int) { products(first: $n) { totalCount } }", n="ten") is None


def test_inputs_in_variables_are_priced_as_the_same_inputs_written_inline() -> None:
    search = "query($f: ProductFilter, $n: Int) { products(filter: $f, first: $n) { edges { node { id } } } }"
    assert cost(search, f={"brands": ["Acme"]}, n=5) == cost(
        '{ products(filter: {brands: ["Acme"]}, first: 5) { edges { node { id } } } }'
    )
    register = (
        "mutation($input: RegisterCustomerInput!) { registerCustomer(input: $input)"
        " { ... on CustomerChanged { customer { id } } } }"
    )
    assert cost(register, input={"name": "Ada", "email": "ada@example.com"}) == 10 + 1 + 2 + 1


def test_a_price_does_not_depend_on_inputs_it_does_not_read() -> None:
    # An input of the wrong shape is execution's to refuse (BAD_USER_INPUT); its price is the same.
    register = "mutation($input: RegisterCustomerInput!) { registerCustomer(input: $input) { __typename } }"
    assert cost(register, input={"name": "Ada", "email": "ada@example.com"}) == cost(register, input={"nope": 1})
    search = "query($f: ProductFilter, $n: Int) { products(filter: $f, first: $n) { edges { node { id } } } }"
    assert cost(search, f={"nope": 1}, n=5) == cost(search, f={"brands": ["Acme"]}, n=5) == 10 + 1 + 5 * 2


def test_kept_prices_are_the_prices_of_the_values_given() -> None:
    # One document's prices kept across requests: each answer must be what pricing it afresh says, whatever
    # came before (True and 1 are equal keys in Python; a list cannot be a key at all).
    search = "query($q: String, $n: Int) { products(query: $q, first: $n) { edges { node { id } } } }"
    report = "query($from: DateTime!, $to: DateTime!) { salesReport(from: $from, to: $to) { buckets { orderCount } } }"
    for query, runs in [
        (search, [{"n": 1}, {"n": True}, {"n": 1.0}, {"n": "1"}, {"n": [1]}, {}, {"n": None}, {"n": 1, "q": "x"}]),
        (search, [{"n": n, "q": f"word {n}"} for n in range(Prices.KEPT + 10)] + [{"n": 3}, {"n": Prices.KEPT + 5}]),
        (
            report,
            [
                {"from": "2026-01-01T00:00:00Z", "to": "2026-01-11T00:00:00Z"},
                {"from": "2026-01-01T00:00:00Z", "to": "2026-02-11T00:00:00Z"},
                {"from": "2026-01-01T00:00:00Z"},
                {"from": "2026-01-01T00:00:00Z", "to": "2026-01-11T00:00:00Z"},
            ],
        ),
    ]:
        document, prices = parse(query), Prices()
        for variables in runs:
            fresh = operation_cost(SCHEMA._schema, document, None, variables, PAGING)
            assert prices.of(SCHEMA._schema, document, None, variables, PAGING) == fresh, variables
    assert len({prices.of(SCHEMA._schema, document, None, v, PAGING) for v in runs}) == 3  # the report's differ


def test_fragments_are_priced_once_each_however_often_they_are_spread() -> None:
    levels = 60
    fragments = " ".join(f"fragment F{n} on Query {{ ...F{n + 1} ...F{n + 1} }}" for n in range(levels))
    query = f"{{ ...F0 }} {fragments} fragment F{levels} on Query {{ products(first: 1) {{ totalCount }} }}"
    assert cost(query) == 2**levels * 11


def test_a_budget_pays_while_it_can_and_takes_nothing_when_it_cannot() -> None:
    budget = RequestBudget(100)
    assert budget.spend(60)
    assert not budget.spend(41)
    assert budget.remaining == 40
    assert budget.spend(40)
    assert budget.remaining == 0


def served(query: str, variables: dict[str, Any] | None = None, **context: Any) -> Any:
    """Runs `query` through the served schema's pipeline, with a context holding only what the limits read:
    anything that reached a resolver would fail for want of a read model or a command bus."""
    return SCHEMA.execute_sync(query, variable_values=variables, context_value=SimpleNamespace(**context))


def test_an_operation_over_the_budget_is_refused_whole_before_it_runs() -> None:
    budget = RequestBudget(200)
    result = served("{ products(first: 100) { edges { node { id } } } }", budget=budget, actor=ANONYMOUS)
    assert result.data is None
    assert [(e.extensions or {}).get("code") for e in result.errors] == ["COST_LIMIT_EXCEEDED"]
    assert result.errors[0].message.startswith("This operation costs 211, more than the budget of 200")
    assert result.extensions == {"cost": {"requested": 211, "budget": 200, "remaining": 200}}
    assert budget.remaining == 200


def test_the_cost_is_reported_and_spent_from_the_request_budget() -> None:
    budget = RequestBudget(200)
    result = served("{ __typename }", budget=budget, actor=ANONYMOUS)
    assert result.errors is None
    assert result.extensions == {"cost": {"requested": 0, "budget": 200, "remaining": 200}}
