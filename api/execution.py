"""graphql-core's execution, with a shortcut for the fields that make up most of a large page.

A search page is hundreds of fields (a product's id, sku, name and price, each highlight's field and
snippets, each facet bucket's value and count) that only read an attribute of their parent and return a
scalar, an enum or a list of them. graphql-core runs each through the same machinery as a field with a
resolver: resolve info, a resolver call, an awaitable check, then completion through `complete_value`'s
type dispatch. That is about half the API's CPU for a search (docs/benchmarks.md, "Where the time goes").

`TwofoldExecutionContext` completes such a field in place: the attribute, coerced by its scalar or enum.
Whatever the shortcut would have to report an error for (a null where the type says non-null, a value the
scalar refuses, anything raised) goes the usual way instead, so the results and errors are graphql-core's
own. A field with a resolver, arguments, a permission or any other Strawberry extension always goes the
usual way.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from graphql import (
    GraphQLField,
    GraphQLLeafType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLSchema,
    Undefined,
    is_leaf_type,
)
from graphql.execution import Executor
from graphql.execution.collect_fields import FieldDetailsList, GroupedFieldSet
from graphql.pyutils import AwaitableOrValue, Path, gather_with_cancel
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.schema.schema_converter import GraphQLCoreConverter


@dataclass(frozen=True, slots=True)
class _Plain:
    """How to complete a field that only reads `attribute` of its parent. Its type is `leaf` (coerced by
    `coerce`) or `object`, or a list of either; `non_null` and `items_non_null` are its type's wrappers."""

    attribute: str
    non_null: bool
    is_list: bool
    items_non_null: bool
    type: GraphQLOutputType
    item_type: GraphQLOutputType | None
    coerce: Callable[[Any], Any] | None = None
    object: GraphQLObjectType | None = None
    is_type_of: Callable[[Any, Any], Any] | None = None


def _plans(schema: GraphQLSchema) -> dict[tuple[str, str], _Plain | None]:
    """Each field's plan (None when it must go the usual way), computed once and kept on the schema."""
    plans: dict[tuple[str, str], _Plain | None] | None = getattr(schema, "_twofold_plans", None)
    if plans is None:
        plans = schema._twofold_plans = {}  # type: ignore[attr-defined]
    return plans


def _plan_of(schema: GraphQLSchema, field: GraphQLField) -> _Plain | None:
    if field.args or not getattr(field.resolve, "_is_default", False):
        return None
    definition = (field.extensions or {}).get(GraphQLCoreConverter.DEFINITION_BACKREF)
    if definition is None or definition.default_resolver is not getattr:
        return None
    kind = field.type
    non_null = isinstance(kind, GraphQLNonNull)
    kind = kind.of_type if isinstance(kind, GraphQLNonNull) else kind
    is_list = isinstance(kind, GraphQLList)
    items_non_null = False
    item_type = None
    if isinstance(kind, GraphQLList):
        kind = item_type = kind.of_type
        items_non_null = isinstance(kind, GraphQLNonNull)
        kind = kind.of_type if isinstance(kind, GraphQLNonNull) else kind
    shape = {
        "attribute": definition.python_name,
        "non_null": non_null,
        "is_list": is_list,
        "items_non_null": items_non_null,
        "type": field.type,
        "item_type": item_type,
    }
    if is_leaf_type(kind):
        leaf: GraphQLLeafType = kind
        return _Plain(**shape, coerce=leaf.coerce_output_value)
    # Incremental delivery (@defer, @stream) goes the usual way: the schema has neither.
    if not isinstance(kind, GraphQLObjectType) or any(schema.get_directive(name) for name in ("defer", "stream")):
        return None
    is_type_of = kind.is_type_of
    # Strawberry's own checks only look at the value; one of our own might need the resolve info.
    if is_type_of is not None and "_get_is_type_of.<locals>" not in getattr(is_type_of, "__qualname__", ""):
        return None
    return _Plain(**shape, object=kind, is_type_of=is_type_of)


class _Usual(Exception):
    """The shortcut cannot complete this value without an error: the usual way reports it."""


_USUAL = _Usual()


def _complete(plan: _Plain, source: Any) -> Any:
    value = getattr(source, plan.attribute)
    if value is None:
        if plan.non_null:
            raise _USUAL
        return None
    coerce = plan.coerce
    assert coerce is not None
    if not plan.is_list:
        return _leaf(coerce, value)
    if not isinstance(value, list | tuple):
        raise _USUAL
    completed: list[Any] = []
    for item in value:
        if item is None:
            if plan.items_non_null:
                raise _USUAL
            completed.append(None)
        else:
            completed.append(_leaf(coerce, item))
    return completed


def _plain_leaves(plan: _Plain, source: Any) -> Any:
    try:
        return _complete(plan, source)
    except Exception:  # the usual way reports it
        return _USUAL


def _leaf(coerce: Callable[[Any], Any], value: Any) -> Any:
    if isinstance(value, BaseException):
        raise _USUAL
    coerced = coerce(value)
    if coerced is None or coerced is Undefined:
        raise _USUAL
    return coerced


def _objects(plan: _Plain, source: Any, is_awaitable: Callable[[Any], bool]) -> Any:
    """The value of an object field, when every object in it can be completed without an error of its own
    (null where non-null, an error value, a value of another type, not a list): checked before any of them
    is, so that the usual way can still take over."""
    value = getattr(source, plan.attribute)
    if value is None:
        if plan.non_null:
            raise _USUAL
        return None
    items = value if plan.is_list else (value,)
    if plan.is_list and not isinstance(value, list | tuple):
        raise _USUAL
    is_type_of = plan.is_type_of
    for item in items:
        if item is None:
            if plan.items_non_null:
                raise _USUAL
        elif (
            isinstance(item, BaseException)
            or is_awaitable(item)
            or (is_type_of is not None and is_type_of(item, None) is not True)
        ):
            raise _USUAL
    return value


def _gathered(values: Any, waiting: list[Any]) -> Awaitable[Any]:
    """`values` (a dict or a list) once the awaitables at the keys `waiting` are replaced by their results."""

    async def gathered() -> Any:
        if len(waiting) == 1:
            values[waiting[0]] = await values[waiting[0]]
        else:
            awaited = await gather_with_cancel(*(values[key] for key in waiting))
            for key, result in zip(waiting, awaited, strict=True):
                values[key] = result
        return values

    return gathered()


class TwofoldExecutionContext(Executor[Any]):
    """Strawberry's execution context (its resolve info, the operation's extensions) on graphql-core's plain
    executor: the schema serves neither @defer nor @stream, so the incremental executor Strawberry builds on
    only adds its bookkeeping to every operation."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        operation_extensions = kwargs.pop("operation_extensions", None)
        super().__init__(*args, **kwargs)
        self.operation_extensions = operation_extensions
        # The shortcut skips resolvers, so it is off when a middleware wraps them (none does today).
        wrapped = self.middleware_manager is not None and bool(self.middleware_manager.middlewares)
        self._plans = None if wrapped else _plans(self.schema)

    build_resolve_info = StrawberryGraphQLCoreExecutionContext.build_resolve_info

    def execute_fields(
        self,
        parent_type: GraphQLObjectType,
        source_value: Any,
        path: Path | None,
        grouped_field_set: GroupedFieldSet,
        position_context: Any,
    ) -> AwaitableOrValue[dict[str, Any]]:
        """graphql-core's `execute_fields`, with plain fields completed in place (see the module)."""
        plans = self._plans
        if plans is None:
            return super().execute_fields(parent_type, source_value, path, grouped_field_set, position_context)
        results: dict[str, Any] = {}
        is_awaitable = self.is_awaitable
        awaitable_fields: list[str] = []
        try:
            for response_name, field_details_list in grouped_field_set.items():
                field_name = field_details_list[0].node.name.value
                key = (parent_type.name, field_name)
                try:
                    plan = plans[key]
                except KeyError:
                    field = self.schema.get_field(parent_type, field_name)
                    plan = plans[key] = None if field is None else _plan_of(self.schema, field)
                if (
                    plan is not None
                    and plan.object is None
                    and (value := _plain_leaves(plan, source_value)) is not _USUAL
                ):
                    results[response_name] = value
                    continue
                field_path = Path(path, response_name, parent_type.name)
                if (
                    plan is not None
                    and plan.object is not None
                    and position_context is None
                    and (value := self._plain_objects(plan, source_value)) is not _USUAL
                ):
                    result = self._complete_objects(plan, value, field_details_list, field_path)
                else:
                    result = self.execute_field(
                        parent_type, source_value, field_details_list, field_path, position_context
                    )
                if result is not Undefined:
                    results[response_name] = result
                    if is_awaitable(result):
                        awaitable_fields.append(response_name)
        except Exception:
            self.settle_in_background([results[field] for field in awaitable_fields])
            raise
        return _gathered(results, awaitable_fields) if awaitable_fields else results

    def _plain_objects(self, plan: _Plain, source: Any) -> Any:
        try:
            return _objects(plan, source, self.is_awaitable)
        except Exception:  # the usual way reports it
            return _USUAL

    def _complete_objects(
        self, plan: _Plain, value: Any, field_details_list: FieldDetailsList, path: Path
    ) -> AwaitableOrValue[Any]:
        """What `execute_field` and `complete_value` make of `value`, checked by `_objects`: its objects'
        fields executed, and their errors handled as graphql-core handles them."""
        if value is None:
            return None
        try:
            assert plan.object is not None
            grouped_field_set = self.collect_subfields(plan.object, field_details_list)[0]
            completed: AwaitableOrValue[Any] = (
                self._complete_items(plan, value, field_details_list, path, grouped_field_set)
                if plan.is_list
                else self.execute_fields(plan.object, value, path, grouped_field_set, None)
            )
        except Exception as error:
            self.handle_field_error(error, plan.type, field_details_list, path)
            return None
        if not self.is_awaitable(completed):
            return completed
        return self._awaited(completed, plan.type, field_details_list, path)

    def _complete_items(
        self,
        plan: _Plain,
        items: list[Any] | tuple[Any, ...],
        field_details_list: FieldDetailsList,
        path: Path,
        grouped_field_set: GroupedFieldSet,
    ) -> AwaitableOrValue[list[Any]]:
        """graphql-core's `complete_iterable_value` for a list of objects."""
        assert plan.object is not None
        assert plan.item_type is not None
        completed: list[Any] = []
        waiting: list[int] = []
        try:
            for index, item in enumerate(items):
                if item is None:
                    completed.append(None)
                    continue
                item_path = path.add_key(index, None)
                try:
                    result = self.execute_fields(plan.object, item, item_path, grouped_field_set, None)
                except Exception as error:
                    self.handle_field_error(error, plan.item_type, field_details_list, item_path)
                    completed.append(None)
                    continue
                if self.is_awaitable(result):
                    completed.append(self._awaited(result, plan.item_type, field_details_list, item_path))
                    waiting.append(index)
                else:
                    completed.append(result)
        except Exception:
            self.settle_in_background([completed[index] for index in waiting])
            raise
        return _gathered(completed, waiting) if waiting else completed

    async def _awaited(
        self,
        completed: Awaitable[Any],
        return_type: GraphQLOutputType,
        field_details_list: FieldDetailsList,
        path: Path,
    ) -> Any:
        try:
            return await completed
        except Exception as error:
            self.handle_field_error(error, return_type, field_details_list, path)
            return None
