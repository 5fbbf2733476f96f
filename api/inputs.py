"""Input objects (a mutation's `input`, a search's `filter`) built from a plan made once per input type.

Strawberry builds an input object from graphql-core's coerced value field by field, and resolves each
field's type annotation anew for every value it builds: a seventh of a `placeOrder`'s CPU on the event
loop. Through Strawberry's own hook for that (`from_input` on the type's definition), `install` gives
every input type of the schema a `_Plan`: each field's GraphQL name, Python name and type, resolved on
first use. A field whose value graphql-core has already made final (a scalar, an enum, a list of them) is
taken as it is, as Strawberry would; a nested input or a list of them is converted by Strawberry, which
comes back to the nested type's plan. A unit test builds every input type of the served schema both ways
and compares the objects.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Mapping
from typing import Any

import strawberry
from strawberry.relay.types import GlobalID
from strawberry.schema.compat import is_scalar
from strawberry.types.arguments import InputContext
from strawberry.types.base import (
    StrawberryList,
    StrawberryMaybe,
    StrawberryObjectDefinition,
    StrawberryOptional,
    StrawberryType,
)
from strawberry.types.enum import StrawberryEnumDefinition, has_enum_definition
from strawberry.types.unset import UNSET


class _Kind(enum.Enum):
    FINAL = "final"  # graphql-core's coerced value is the field's value
    FINAL_LIST = "final list"  # a list of final values: copied, as graphql-core may share a default
    CONVERTED = "converted"  # an input object, a list of them: Strawberry converts it


@dataclasses.dataclass(frozen=True, slots=True)
class _Field:
    graphql_name: str
    python_name: str
    kind: _Kind
    type: StrawberryType | type


class _Plan:
    """Builds values of one input type (its definition's `from_input`)."""

    def __init__(self, definition: StrawberryObjectDefinition, schema: strawberry.Schema) -> None:
        self.definition = definition
        self.schema = schema
        self._fields: tuple[_Field, ...] | None = None
        self._nulls: dict[str, None] = {}

    def __call__(self, cls: type, value: Mapping[str, Any], context: InputContext) -> Any:
        fields = self._fields if self._fields is not None else self._plan()
        # As Strawberry: a field the client left out and that has no default of its own is None.
        kwargs: dict[str, Any] = dict(self._nulls)
        for field in fields:
            if field.graphql_name not in value:
                continue
            item = value[field.graphql_name]
            if field.kind is _Kind.FINAL or item is None or item is UNSET:
                kwargs[field.python_name] = item
            elif field.kind is _Kind.FINAL_LIST:
                kwargs[field.python_name] = list(item)
            else:
                kwargs[field.python_name] = context.convert(item, field.type, field.graphql_name)
        return cls(**kwargs)

    def _plan(self) -> tuple[_Field, ...]:
        definition, registry = self.definition, self.schema.schema_converter.scalar_registry
        names = self.schema.config.name_converter
        fields = []
        for field in definition.fields:
            resolved = field.resolve_type(type_definition=definition)
            fields.append(_Field(names.from_field(field), field.python_name, _kind(resolved, registry), resolved))
        self._nulls = {
            field.python_name: None
            for field in definition.fields
            if field.default_value is dataclasses.MISSING and field.default_factory is dataclasses.MISSING
        }
        self._fields = tuple(fields)
        return self._fields


def _kind(type_: StrawberryType | type, registry: Mapping[object, Any]) -> _Kind:
    if isinstance(type_, StrawberryMaybe):
        raise TypeError("an input field of type Maybe has its own null rules: give it a plan of its own")
    if isinstance(type_, StrawberryOptional):
        type_ = type_.of_type
    if isinstance(type_, StrawberryList):
        item = type_.of_type
        item = item.of_type if isinstance(item, StrawberryOptional) else item
        return _Kind.FINAL_LIST if _is_final(item, registry) else _Kind.CONVERTED
    return _Kind.FINAL if _is_final(type_, registry) else _Kind.CONVERTED


def _is_final(type_: StrawberryType | type, registry: Mapping[object, Any]) -> bool:
    """Whether graphql-core's coerced value of `type_` is already the Python value: a scalar (a relay
    GlobalID aside, which Strawberry parses) or an enum, whose member graphql-core has looked up."""
    if type_ is GlobalID:
        return False
    return is_scalar(type_, registry) or has_enum_definition(type_) or isinstance(type_, StrawberryEnumDefinition)


def install(schema: strawberry.Schema) -> None:
    """Every input type of `schema` builds its values through a plan of its own."""
    for concrete in schema.schema_converter.type_map.values():
        definition = concrete.definition
        if isinstance(definition, StrawberryObjectDefinition) and definition.is_input and definition.from_input is None:
            definition.from_input = _Plan(definition, schema)
