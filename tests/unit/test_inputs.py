"""Input objects built by their plans (api/inputs.py) against Strawberry's own conversion, for every input
type of the served schema, from values generated from the schema itself."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import strawberry
from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLScalarType,
    coerce_input_value,
)
from strawberry.types.arguments import convert_argument
from strawberry.types.base import StrawberryObjectDefinition

from api import inputs
from api.schema import build_schema

SCHEMA = build_schema()
SAMPLES: dict[str, list[Any]] = {
    "String": ["text", "other"],
    "ID": ["UHJvZHVjdDox", "Q3VzdG9tZXI6Mg=="],
    "Int": [2, 0],
    "Float": [1.5, 0.0],
    "Boolean": [True, False],
    "Decimal": ["12.50", "0.01"],
    "DateTime": ["2026-01-02T03:04:05Z", "2025-12-31T23:59:59+01:00"],
    "JSON": [{"a": [1, "b"]}, None],
}


def sample(kind: GraphQLInputType, variant: int) -> Any:
    """A JSON value of `kind`: variant 0 sets every field, 1 only the required ones, 2 nulls the nullable."""
    if isinstance(kind, GraphQLNonNull):
        return sample(kind.of_type, variant)
    if isinstance(kind, GraphQLList):
        return [sample(kind.of_type, 0), sample(kind.of_type, variant)]
    if isinstance(kind, GraphQLScalarType):
        return SAMPLES[kind.name][variant % 2]
    if isinstance(kind, GraphQLEnumType):
        names = list(kind.values)
        return names[variant % len(names)]
    assert isinstance(kind, GraphQLInputObjectType)
    values = {}
    for name, field in kind.fields.items():
        required = isinstance(field.type, GraphQLNonNull)
        if variant == 1 and not required:
            continue
        values[name] = None if variant == 2 and not required else sample(field.type, variant)
    return values


@contextmanager
def strawberrys_own_conversion() -> Iterator[None]:
    definitions = [
        concrete.definition
        for concrete in SCHEMA.schema_converter.type_map.values()
        if isinstance(concrete.definition, StrawberryObjectDefinition) and concrete.definition.is_input
    ]
    plans = [definition.from_input for definition in definitions]
    for definition in definitions:
        definition.from_input = None
    try:
        yield
    finally:
        for definition, plan in zip(definitions, plans, strict=True):
            definition.from_input = plan


INPUT_TYPES = sorted(
    name
    for name, kind in SCHEMA._schema.type_map.items()
    if isinstance(kind, GraphQLInputObjectType) and not name.startswith("__")
)


def test_every_input_type_of_the_served_schema_has_a_plan() -> None:
    assert INPUT_TYPES
    for name in INPUT_TYPES:
        concrete = SCHEMA.schema_converter.type_map[name]
        assert isinstance(concrete.definition.from_input, inputs._Plan), name  # type: ignore[union-attr]


@pytest.mark.parametrize("name", INPUT_TYPES)
@pytest.mark.parametrize("variant", [0, 1, 2])
def test_a_plan_builds_what_strawberry_builds(name: str, variant: int) -> None:
    graphql_type = SCHEMA._schema.type_map[name]
    assert isinstance(graphql_type, GraphQLInputObjectType)
    coerced = coerce_input_value(sample(graphql_type, variant), graphql_type)
    python_type = SCHEMA.schema_converter.type_map[name].definition.origin  # type: ignore[union-attr]
    registry, config = SCHEMA.schema_converter.scalar_registry, SCHEMA.config
    planned = convert_argument(coerced, python_type, registry, config)
    with strawberrys_own_conversion():
        expected = convert_argument(coerced, python_type, registry, config)
    assert planned == expected
    assert type(planned) is type(expected)


def test_a_list_is_copied_so_that_a_shared_default_never_changes() -> None:
    graphql_type = SCHEMA._schema.type_map["ProductFilter"]
    assert isinstance(graphql_type, GraphQLInputObjectType)
    coerced = coerce_input_value({"brands": ["acme"]}, graphql_type)
    python_type = SCHEMA.schema_converter.type_map["ProductFilter"].definition.origin  # type: ignore[union-attr]
    built = convert_argument(coerced, python_type, SCHEMA.schema_converter.scalar_registry, SCHEMA.config)
    assert built.brands == ["acme"]
    assert built.brands is not coerced["brands"]


@strawberry.input
class Probe:
    name: str
    note: str | None  # no default of its own: Strawberry makes an omitted one None
    tags: list[str] | None = None


@strawberry.type
class ProbeQuery:
    @strawberry.field
    def echo(self, probe: Probe) -> str:
        return repr(probe)


def test_a_field_left_out_without_a_default_is_none_as_strawberry_makes_it() -> None:
    plain = strawberry.Schema(ProbeQuery)
    expected = plain.execute_sync('{ echo(probe: { name: "a" }) }').data
    assert expected == {"echo": "Probe(name='a', note=None, tags=None)"}
    planned = strawberry.Schema(ProbeQuery)
    inputs.install(planned)
    try:
        assert planned.execute_sync('{ echo(probe: { name: "a" }) }').data == expected
        assert planned.execute_sync('{ echo(probe: { name: "a", tags: ["x"] }) }').data == {
            "echo": "Probe(name='a', note=None, tags=['x'])"
        }
    finally:
        Probe.__strawberry_definition__.from_input = None  # type: ignore[attr-defined]
