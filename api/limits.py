"""The limits on what one GraphQL document may ask, against hostile and careless queries alike.

Tokens are counted while parsing; depth, aliases and the fields once fragments are expanded while
validating; then, before anything runs, a mutation operation's permissions (api/permissions.py) and every
operation's cost against the request's budget (api/cost.py). `max_operations` bounds a batch
(api/schema.py), `max_body_bytes` and the read timeout the request (api/observation.py).
docs/security.md has the defaults and the errors each limit answers with.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator

from graphql import ASTValidationRule, DocumentNode, GraphQLSyntaxError, SelectionSetNode, Source, Visitor, visit
from strawberry.extensions import (
    AddValidationRules,
    DisableIntrospection,
    MaxTokensLimiter,
    SchemaExtension,
)

from api._document_limits import document_limits_rule
from api.cost import CostLimiter, Paging
from api.permissions import MutationPermissions
from api.settings import Settings


class _EmptySelections(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.found: SelectionSetNode | None = None

    def enter_selection_set(self, node: SelectionSetNode, *_: object) -> None:
        if not node.selections and self.found is None:
            self.found = node


@functools.lru_cache(maxsize=1000)
def _empty_selection_at(query: str, document: DocumentNode) -> int | None:
    """Where the first empty selection set of `document` starts; cached, as the parser's own cache is."""
    visitor = _EmptySelections()
    visit(document, visitor)
    return None if visitor.found is None or visitor.found.loc is None else visitor.found.loc.start


class RejectEmptySelectionSets(SchemaExtension):
    """`{ }` selects nothing; the parser lets it through, and the depth limit would trip over it."""

    def on_parse(self) -> Iterator[None]:
        yield
        execution = self.execution_context
        if execution.graphql_document is None or execution.query is None:
            return
        start = _empty_selection_at(execution.query, execution.graphql_document)
        if start is not None:
            raise GraphQLSyntaxError(Source(execution.query), start, "A selection set must select at least one field.")


def validation_rules(settings: Settings) -> list[type[ASTValidationRule]]:
    """The validation rules, beside GraphQL's own, that enforce `settings`' limits on depth, aliases and
    introspection. The depth and alias rule is ours: Strawberry's skip introspection fields and follow
    fragment spreads without memoising them."""
    rules: list[type[ASTValidationRule]] = [
        document_limits_rule(
            max_depth=settings.max_depth,
            max_introspection_depth=settings.max_introspection_depth,
            max_aliases=settings.max_aliases,
            max_fields=settings.max_fields,
        ),
    ]
    if not settings.introspection:
        rules += DisableIntrospection().validation_rules
    return rules


def limit_extensions(settings: Settings) -> list[Callable[[], SchemaExtension] | type[SchemaExtension]]:
    """The extensions that enforce `settings`' limits, as factories (one instance per operation).

    A new validation rule class per request would defeat the validation cache (its key holds the rules) and
    cost a full validation each time, as Strawberry's own depth and alias limiters do. So the rules are
    built once here, and each operation gets an extension that merely adds them.
    """
    rules = validation_rules(settings)
    paging = Paging(default=settings.default_page_size, maximum=settings.max_page_size)
    return [
        lambda: MaxTokensLimiter(max_token_count=settings.max_tokens),
        RejectEmptySelectionSets,
        lambda: AddValidationRules(rules),
        MutationPermissions,
        lambda: CostLimiter(paging=paging),
    ]
