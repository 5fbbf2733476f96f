"""What an operation costs, and the budget each request spends it from (docs/security.md, "Cost").

The cost is computed from the document and its variables before anything runs, so an operation over the
budget is refused whole and costs the server next to nothing. Each field is priced by the work it makes:

- an object is 1, a scalar or an enum 0, and a list multiplies its items' cost by how many it may hold
  (`first` or `last` for the edges of a connection, else the page size's default; the bound of the list
  for the others, such as 100 facet values; an order's lines at 10, a large order's, since its buyer
  chose them and not the asker: at their bound of 100 a default page of orders with lines would cost
  2,083);
- a field that asks Elasticsearch adds what that asks: a search 10, a lookup by id 2, facets 10, a
  spelling suggestion 5, a sales report 20;
- a mutation adds 10 for its transaction.

Introspection fields cost nothing (their depth is bounded instead, and production turns them off).
Every operation of a request, a batch's included, draws on one budget: an operation that would overspend
what is left is refused with `COST_LIMIT_EXCEEDED`, and every answer reports in `extensions.cost` what the
operation cost and what is left.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLField,
    GraphQLInputObjectType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLSchema,
    InlineFragmentNode,
    ListTypeNode,
    NamedTypeNode,
    Node,
    NonNullTypeNode,
    OperationDefinitionNode,
    SelectionSetNode,
    TypeNode,
    VariableNode,
    get_named_type,
    is_composite_type,
)
from graphql.execution.values import VariableValues, get_argument_values, get_variable_values
from graphql.utilities import get_operation_ast

from api._prices import (
    BUCKET_LENGTH,
    DEFAULT_SUGGESTIONS,
    LIST_BOUNDS,
    MAX_BUCKETS,
    MUTATION,
    REPORTS,
    SIZED_LISTS,
    WORK,
)
from api.errors import graphql_error
from api.types.enums import Interval

# The arguments a price depends on (`_extent`, `_count`); a field with none of them is priced without
# coercing its arguments.
PRICED = frozenset({"first", "last", "from", "to", "interval"})


@dataclass(frozen=True)
class Paging:
    default: int
    maximum: int


class _Pricing:
    """Walks one operation, each fragment priced once per place it is spread in."""

    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: Mapping[str, FragmentDefinitionNode],
        variables: VariableValues,
        paging: Paging,
    ) -> None:
        self.schema = schema
        self.fragments = fragments
        self.variables = variables
        self.paging = paging
        self.priced: dict[tuple[str, str, int], int] = {}

    def selections(self, selection_set: SelectionSetNode, parent: GraphQLNamedType, extent: int) -> int:
        total = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                total += self.field(selection, parent, extent)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                inner = parent if condition is None else self.schema.get_type(condition.name.value)
                total += 0 if inner is None else self.selections(selection.selection_set, inner, extent)
            elif isinstance(selection, FragmentSpreadNode):
                total += self.fragment(selection.name.value, extent)
        return total

    def fragment(self, name: str, extent: int) -> int:
        definition = self.fragments.get(name)
        condition = None if definition is None else self.schema.get_type(definition.type_condition.name.value)
        if definition is None or condition is None:
            return 0
        key = (name, condition.name, extent)
        if key not in self.priced:
            self.priced[key] = 0  # a cycle is invalid and refused by validation; price it as nothing meanwhile
            self.priced[key] = self.selections(definition.selection_set, condition, extent)
        return self.priced[key]

    def field(self, node: FieldNode, parent: GraphQLNamedType, extent: int) -> int:
        name = node.name.value
        fields = getattr(parent, "fields", None)
        if name.startswith("__") or not fields or name not in fields:
            return 0
        definition = fields[name]
        coordinate = f"{parent.name}.{name}"
        priced = _priced_arguments(definition)
        arguments = get_argument_values(priced, node, self.variables) if priced.args else {}
        named = get_named_type(definition.type)
        inner_extent = self._extent(coordinate, named, arguments, extent)
        children = 0 if node.selection_set is None else self.selections(node.selection_set, named, inner_extent)
        item = (1 if is_composite_type(named) else 0) + children
        own = WORK.get(coordinate, 0)
        if parent is self.schema.mutation_type:
            own += MUTATION
        return own + self._count(coordinate, definition.type, arguments, extent) * item

    def _extent(self, coordinate: str, named: GraphQLNamedType, arguments: dict[str, Any], extent: int) -> int:
        """How many items the sized lists below this field hold: a connection's page, a report's buckets."""
        if named.name.endswith("Connection"):
            first, last = arguments.get("first"), arguments.get("last")
            return self._page(last if first is None else first)
        if coordinate in REPORTS:
            return _buckets(arguments)
        return extent

    def _count(self, coordinate: str, field_type: Any, arguments: dict[str, Any], extent: int) -> int:
        if isinstance(field_type, GraphQLNonNull):
            field_type = field_type.of_type
        if not isinstance(field_type, GraphQLList):
            return 1
        if coordinate in SIZED_LISTS:
            return extent
        if coordinate == "Query.productSuggestions":
            size = arguments.get("first")
            return DEFAULT_SUGGESTIONS if size is None else max(0, min(int(size), self.paging.maximum))
        return LIST_BOUNDS.get(coordinate, self.paging.maximum)

    def _page(self, size: object) -> int:
        # A size out of bounds is priced at the bound: the resolver refuses it with its own clearer error.
        if not isinstance(size, int):
            return self.paging.default
        return max(0, min(size, self.paging.maximum))


def _buckets(arguments: dict[str, Any]) -> int:
    start, end, interval = arguments.get("from"), arguments.get("to"), arguments.get("interval")
    length = BUCKET_LENGTH.get(str(getattr(interval, "value", interval)), BUCKET_LENGTH[Interval.DAY.value])
    if not isinstance(start, datetime) or not isinstance(end, datetime) or end <= start:
        return 1
    return min(MAX_BUCKETS, math.ceil((end - start).total_seconds() / length))


class Prices:
    """The prices of one document, kept for the values of the variables its priced arguments use (a search's
    text and filter change with each request, its page size seldom), with the parsed document
    (api/pipeline.py, `Prepared`). A price depends on nothing else: the first `KEPT` are kept, keyed by
    those values and their types (`first: true` is not `first: 1`); the others are priced each time."""

    KEPT = 64
    __slots__ = ("_kept", "_variables")

    def __init__(self) -> None:
        self._variables: tuple[str, ...] | None = None
        self._kept: dict[Any, int | None] = {}

    def of(
        self,
        schema: GraphQLSchema,
        document: DocumentNode,
        operation_name: str | None,
        variables: dict[str, Any] | None,
        paging: Paging,
    ) -> int | None:
        if self._variables is None:
            self._variables = _priced_variables(document)
        given = variables or {}
        values = ((type(value), value) for value in (given.get(name, _ABSENT) for name in self._variables))
        key: tuple[Any, ...] | None = (schema, operation_name, paging, *values)
        try:
            return self._kept[key]
        except KeyError:
            pass
        except TypeError:  # a value that cannot be a key (a list, an object): no priced argument takes one
            key = None
        price = operation_cost(schema, document, operation_name, variables, paging)
        if key is not None and len(self._kept) < self.KEPT:
            self._kept[key] = price
        return price


_ABSENT = object()


def _priced_variables(document: DocumentNode) -> tuple[str, ...]:
    """The variables that the priced arguments (`PRICED`) of `document` use, anywhere in their values."""
    found: set[str] = set()
    for node in _nodes(document):
        if isinstance(node, FieldNode):
            for argument in node.arguments or ():
                if argument.name.value in PRICED:
                    found.update(v.name.value for v in _nodes(argument.value) if isinstance(v, VariableNode))
    return tuple(sorted(found))


def _nodes(root: Node) -> Iterator[Node]:
    """`root` and every node under it."""
    pending = [root]
    while pending:
        node = pending.pop()
        yield node
        for key in node.keys:
            child = getattr(node, key, None)
            if isinstance(child, Node):
                pending.append(child)
            elif isinstance(child, tuple | list):
                pending.extend(item for item in child if isinstance(item, Node))


def operation_cost(
    schema: GraphQLSchema,
    document: Any,
    operation_name: str | None,
    variables: dict[str, Any] | None,
    paging: Paging,
) -> int | None:
    """The cost of the operation `operation_name` of `document`; `None` when it cannot be priced because it
    cannot run (no such operation, or variables that do not fit: execution reports those itself)."""
    operation = get_operation_ast(document, operation_name)
    if not isinstance(operation, OperationDefinitionNode):
        return None
    root = schema.get_root_type(operation.operation)
    # The arguments that change a price are scalars and enums: variables of input types are left to execution.
    priced = [
        definition
        for definition in operation.variable_definitions or ()
        if not isinstance(_named(definition.type, schema), GraphQLInputObjectType)
    ]
    coerced = get_variable_values(schema, priced, variables or {})
    if root is None or isinstance(coerced, list):
        return None
    fragments = {
        definition.name.value: definition
        for definition in document.definitions
        if isinstance(definition, FragmentDefinitionNode)
    }
    try:
        return _Pricing(schema, fragments, coerced, paging).selections(operation.selection_set, root, paging.default)
    except GraphQLError:
        return None  # an argument that does not coerce: execution reports it


def _priced_arguments(definition: GraphQLField) -> GraphQLField:
    """`definition` with only the arguments a price depends on: the others (a mutation's input, a search's
    filter) are coerced once, when the operation runs, not here too. Made once, and kept on the field."""
    priced: GraphQLField | None = getattr(definition, "_twofold_priced", None)
    if priced is None:
        args = {name: arg for name, arg in definition.args.items() if name in PRICED}
        priced = GraphQLField(definition.type, args)
        definition._twofold_priced = priced  # type: ignore[attr-defined]
    return priced


def _named(node: TypeNode, schema: GraphQLSchema) -> GraphQLNamedType | None:
    while isinstance(node, NonNullTypeNode | ListTypeNode):
        node = node.type
    return schema.get_type(node.name.value) if isinstance(node, NamedTypeNode) else None


def batch_cost(
    schema: GraphQLSchema,
    operations: list[tuple[str | None, str | None, dict[str, Any] | None]],
    paging: Paging,
    parse_document: Callable[[str], DocumentNode],
) -> int:
    """What the operations of a batch, each `(query, operation name, variables)`, cost together, each parsed
    by `parse_document` (the schema's document cache, which each then runs from); one that does not parse
    counts as nothing here (it is refused on its own as it runs)."""
    total = 0
    for query, operation_name, variables in operations:
        try:
            document = parse_document(query or "")
        except GraphQLError:
            continue
        total += operation_cost(schema, document, operation_name, variables, paging) or 0
    return total


class RequestBudget:
    """What one request may still spend; its operations (a batch's) draw on it in the order they start."""

    def __init__(self, budget: int) -> None:
        self.budget = budget
        self.remaining = budget

    def spend(self, cost: int) -> bool:
        """Take `cost` from what is left; `False`, taking nothing, when it is more than that."""
        if cost > self.remaining:
            return False
        self.remaining -= cost
        return True


def over_budget(cost: int, budget: RequestBudget, *, what: str = "operation") -> GraphQLError:
    left = "" if budget.remaining == budget.budget else f" ({budget.remaining} of it left to this request)"
    return graphql_error(
        "COST_LIMIT_EXCEEDED",
        f"This {what} costs {cost}, more than the budget of {budget.budget} a request may spend{left}: ask "
        "for fewer items (first, last) or fields, or split it across requests. Nothing was run.",
    )
