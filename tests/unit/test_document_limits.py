"""The depth and alias limits count every field, introspection's included, and measure each fragment once."""

from __future__ import annotations

import pytest
from graphql import get_introspection_query, parse, specified_rules, validate

from api.limits import validation_rules
from api.schema import build_schema
from api.settings import Settings

SETTINGS = Settings(database_url="postgresql://unused", elasticsearch_url="http://unused")


def errors_of(query: str, settings: Settings = SETTINGS) -> list[tuple[str, str]]:
    """What validating `query` against the served schema with GraphQL's rules and our limits reports.

    Nothing is executed: the schema's resolvers would need a running read model."""
    schema = build_schema(settings)._schema
    errors = validate(schema, parse(query), [*specified_rules, *validation_rules(settings)])
    return [(error.message, "GRAPHQL_VALIDATION_FAILED") for error in errors]


def served(query: str, settings: Settings = SETTINGS) -> list[tuple[str, str]]:
    """The errors of running `query` (one that reads no data) through the served schema's whole pipeline."""
    result = build_schema(settings).execute_sync(query)
    return [(error.message, (error.extensions or {}).get("code", "")) for error in result.errors or []]


def type_chain(of_types: int) -> str:
    return '{ __type(name: "Query") { fields { type { ' + "ofType { " * of_types + "name" + " }" * of_types + " } } } }"


def test_the_standard_introspection_query_is_answered() -> None:
    result = build_schema(SETTINGS).execute_sync(get_introspection_query(descriptions=True))
    assert result.errors is None
    assert result.data is not None
    assert result.data["__schema"]["queryType"]["name"] == "Query"


def test_every_option_of_the_standard_introspection_query_fits_too() -> None:
    query = get_introspection_query(
        descriptions=True,
        specified_by_url=True,
        directive_is_repeatable=True,
        schema_description=True,
        input_value_deprecation=True,
    )
    assert errors_of(query) == []


def test_a_seventeen_level_introspection_query_is_refused_with_a_clear_message() -> None:
    assert served(type_chain(14)) == [
        (
            "'anonymous' exceeds maximum introspection depth of 14: its fields nest 17 levels below __schema or __type",
            "GRAPHQL_VALIDATION_FAILED",
        )
    ]


def test_introspection_is_refused_one_level_past_the_standard_query() -> None:
    assert errors_of(type_chain(11)) == []  # depth 14, the standard query's
    assert [code for _, code in errors_of(type_chain(12))] == ["GRAPHQL_VALIDATION_FAILED"]


def test_the_introspection_limit_is_a_setting() -> None:
    tight = Settings(database_url="postgresql://unused", elasticsearch_url="http://unused", max_introspection_depth=13)
    assert [code for _, code in served(get_introspection_query(), tight)] == ["GRAPHQL_VALIDATION_FAILED"]


@pytest.mark.parametrize(
    "query",
    [
        "{ products { edges { node { " + "__typename " + "} } } }",
        "query Deep { ...A } fragment A on Query { products { ...B } } fragment B on ProductConnection { edges { node "
        "{ ...C } } } fragment C on Product { ... on Product { id } }",
    ],
)
def test_a_query_within_the_limit_passes_through_fragments_and_inline_fragments(query: str) -> None:
    assert [message for message, _ in errors_of(query) if "depth" in message] == []


def test_depth_hidden_in_fragments_is_counted() -> None:
    # products(0) edges(1) node(2), then nine more levels spread through fragments: 13 > 12.
    nested = "fragment N on Product { ... on Product { " + "a { " * 10 + "b" + " }" * 10 + " } }"
    query = "query Hidden { ...R } fragment R on Query { products { edges { node { ...N } } } } " + nested
    messages = [message for message, _ in errors_of(query)]
    assert "'Hidden' exceeds maximum operation depth of 12" in messages


def fan_out(levels: int, leaf: str = "__typename") -> str:
    """2**levels paths through levels + 1 fragments, each spreading the next twice."""
    fragments = " ".join(f"fragment F{n} on Query {{ ...F{n + 1} ...F{n + 1} }}" for n in range(levels))
    return f"{{ ...F0 }} {fragments} fragment F{levels} on Query {{ {leaf} }}"


@pytest.mark.parametrize("levels", [20, 40, 60])
def test_fragments_that_double_at_each_level_are_measured_once_each_and_refused_for_their_size(levels: int) -> None:
    # Following every spread would never end; measuring each fragment once counts the 2**levels fields.
    assert served(fan_out(levels)) == [
        (
            f"'anonymous' selects {2**levels} fields once its fragments are expanded; at most 2000 are allowed",
            "GRAPHQL_VALIDATION_FAILED",
        )
    ]


def test_fragments_within_the_field_limit_are_answered() -> None:
    result = build_schema(SETTINGS).execute_sync(fan_out(10))  # 1,024 fields
    assert result.errors is None
    assert result.data == {"__typename": "Query"}


def test_a_fragment_cycle_is_refused_by_graphql_and_does_not_loop_here() -> None:
    messages = [
        message for message, _ in errors_of("{ ...A } fragment A on Query { ...B } fragment B on Query { ...A }")
    ]
    assert any("Cannot spread fragment 'A' within itself" in message for message in messages)


def test_aliases_are_counted_each_time_their_fragment_is_spread() -> None:
    assert served(fan_out(5, leaf="a: __typename")) == [("32 aliases found. Allowed: 30", "GRAPHQL_VALIDATION_FAILED")]


def test_aliases_within_the_limit_pass_and_one_more_is_refused() -> None:
    def aliased(count: int) -> str:
        return "{ " + " ".join(f"a{n}: __typename" for n in range(count)) + " }"

    assert served(aliased(30)) == []
    assert served(aliased(31)) == [("31 aliases found. Allowed: 30", "GRAPHQL_VALIDATION_FAILED")]
