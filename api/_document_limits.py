"""How deep, how aliased and how large an operation is, measured through its fragments in time linear in the document.

Depth: a top-level field is at depth 0 and each selection set below it one more, so `{ a { b } }` has
depth 1. Fields under `__schema` and `__type` are counted the same way against the introspection limit,
which the standard introspection query (GraphiQL's, graphql-core's `get_introspection_query()`) fits
exactly; every other top-level field is counted against the operation limit. Aliases: every aliased field
the operation would run, a fragment's counted each time it is spread. Fields: every field the operation
would select once its fragments are expanded, `__typename` included.

Each fragment is measured once per document, so fragments that spread others twice over
(`F0 { ...F1 ...F1 }`, `F1 { ...F2 ...F2 }`, ...) cost the size of the document, not 2 to the power of
their nesting, as Strawberry's own depth and alias limiters do. A fragment cycle counts as nothing here:
graphql-core's own rule refuses it.
"""

from __future__ import annotations

from typing import NamedTuple

from graphql import (
    FieldNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationContext,
    ValidationRule,
)

INTROSPECTION_ROOTS = frozenset({"__schema", "__type"})


def document_limits_rule(
    *, max_depth: int, max_introspection_depth: int, max_aliases: int, max_fields: int
) -> type[ValidationRule]:
    """A validation rule refusing operations past these limits; built once, shared by every request."""

    class DocumentLimits(ValidationRule):
        def enter_operation_definition(self, node: OperationDefinitionNode, *_: object) -> None:
            name = node.name.value if node.name else "anonymous"
            shape = _Measure(self.context).selections(node.selection_set, root=True)
            if shape.depth > max_depth:
                self.report_error(GraphQLError(f"'{name}' exceeds maximum operation depth of {max_depth}", node))
            if shape.introspection_depth > max_introspection_depth:
                message = (
                    f"'{name}' exceeds maximum introspection depth of {max_introspection_depth}:"
                    f" its fields nest {shape.introspection_depth} levels below __schema or __type"
                )
                self.report_error(GraphQLError(message, node))
            if shape.aliases > max_aliases:
                self.report_error(GraphQLError(f"{shape.aliases} aliases found. Allowed: {max_aliases}", node))
            if shape.fields > max_fields:
                message = (
                    f"'{name}' selects {shape.fields} fields once its fragments are expanded;"
                    f" at most {max_fields} are allowed"
                )
                self.report_error(GraphQLError(message, node))

    return DocumentLimits


class Shape(NamedTuple):
    """Of a selection set: how deeply its fields nest (-1: none), below `__schema`/`__type` apart at the
    top of an operation, and how many fields and aliased fields it runs."""

    depth: int = -1
    introspection_depth: int = -1
    aliases: int = 0
    fields: int = 0

    def add(self, other: Shape) -> Shape:
        return Shape(
            max(self.depth, other.depth),
            max(self.introspection_depth, other.introspection_depth),
            self.aliases + other.aliases,
            self.fields + other.fields,
        )


class _Measure:
    """Shapes of the selection sets of one document, each fragment's measured once (at the top, and below)."""

    def __init__(self, context: ValidationContext) -> None:
        self._context = context
        self._fragments: dict[tuple[str, bool], Shape] = {}
        self._in_progress: set[tuple[str, bool]] = set()

    def selections(self, selection_set: SelectionSetNode, *, root: bool) -> Shape:
        shape = Shape()
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                shape = shape.add(self._field(selection, root=root))
            elif isinstance(selection, InlineFragmentNode):
                shape = shape.add(self.selections(selection.selection_set, root=root))
            elif isinstance(selection, FragmentSpreadNode):
                shape = shape.add(self._fragment(selection.name.value, root=root))
        return shape

    def _field(self, field: FieldNode, *, root: bool) -> Shape:
        inner = Shape() if field.selection_set is None else self.selections(field.selection_set, root=False)
        depth = 0 if field.selection_set is None else 1 + max(inner.depth, 0)
        aliases = inner.aliases + (1 if field.alias else 0)
        fields = inner.fields + 1
        if root and field.name.value in INTROSPECTION_ROOTS:
            return Shape(introspection_depth=depth, aliases=aliases, fields=fields)
        return Shape(depth=depth, aliases=aliases, fields=fields)

    def _fragment(self, name: str, *, root: bool) -> Shape:
        key = (name, root)
        if key in self._fragments:
            return self._fragments[key]
        fragment = self._context.get_fragment(name)
        if fragment is None or key in self._in_progress:
            return Shape()
        self._in_progress.add(key)
        shape = self._fragments[key] = self.selections(fragment.selection_set, root=root)
        self._in_progress.discard(key)
        return shape
