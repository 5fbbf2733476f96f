"""The limits on what one GraphQL document may ask, against hostile and careless queries alike.

Tokens are counted while parsing; depth, aliases and the fields once fragments are expanded while
validating; then, before anything runs, a mutation operation's permissions (api/permissions.py) and every
operation's cost against the request's budget (api/cost.py); the operation pipeline (api/pipeline.py)
applies them in that order. `max_operations` bounds a batch (api/schema.py), `max_body_bytes` and the
read timeout the request (api/observation.py). docs/security.md has the defaults and the errors each
limit answers with.
"""

from __future__ import annotations

from graphql import ASTValidationRule, DocumentNode, GraphQLSyntaxError, SelectionSetNode, Source, Visitor, visit
from strawberry.extensions import DisableIntrospection

from api._document_limits import document_limits_rule
from api.settings import Settings


class _EmptySelections(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.found: SelectionSetNode | None = None

    def enter_selection_set(self, node: SelectionSetNode, *_: object) -> None:
        if not node.selections and self.found is None:
            self.found = node


def refuse_empty_selection_sets(query: str, document: DocumentNode) -> None:
    """`{ }` selects nothing; the parser lets it through, and the depth limit would trip over it: a syntax
    error at the first empty selection set."""
    visitor = _EmptySelections()
    visit(document, visitor)
    if visitor.found is not None and visitor.found.loc is not None:
        message = "A selection set must select at least one field."
        raise GraphQLSyntaxError(Source(query), visitor.found.loc.start, message)


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
