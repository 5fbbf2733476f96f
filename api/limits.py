"""The limits on what one GraphQL document may ask, against hostile and careless queries alike.

Tokens are counted while parsing, depth and aliases while validating; `max_operations` bounds a batch
(api/schema.py) and `max_body_bytes` the request body (api/observation.py). docs/security.md has the
defaults and the errors each limit answers with.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from graphql import GraphQLSyntaxError, SelectionSetNode, Visitor, visit
from strawberry.extensions import (
    DisableIntrospection,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    QueryDepthLimiter,
    SchemaExtension,
)

from api.settings import Settings


class _EmptySelections(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.found: SelectionSetNode | None = None

    def enter_selection_set(self, node: SelectionSetNode, *_: object) -> None:
        if not node.selections and self.found is None:
            self.found = node


class RejectEmptySelectionSets(SchemaExtension):
    """`{ }` selects nothing; the parser lets it through, and the depth limit would trip over it."""

    def on_parse(self) -> Iterator[None]:
        yield
        document = self.execution_context.graphql_document
        if document is None:
            return
        visitor = _EmptySelections()
        visit(document, visitor)
        if visitor.found is not None and visitor.found.loc is not None:
            raise GraphQLSyntaxError(
                visitor.found.loc.source, visitor.found.loc.start, "A selection set must select at least one field."
            )


def limit_extensions(settings: Settings) -> list[Callable[[], SchemaExtension] | type[SchemaExtension]]:
    """The extensions that enforce `settings`' limits, as factories (one instance per operation)."""
    extensions: list[Callable[[], SchemaExtension] | type[SchemaExtension]] = [
        lambda: MaxTokensLimiter(max_token_count=settings.max_tokens),
        RejectEmptySelectionSets,
        lambda: QueryDepthLimiter(max_depth=settings.max_depth),
        lambda: MaxAliasesLimiter(max_alias_count=settings.max_aliases),
    ]
    if not settings.introspection:
        extensions.append(DisableIntrospection)
    return extensions
