"""What every connection shares: the Relay Node interface, PageInfo, and the highlights of a search hit."""

from __future__ import annotations

import strawberry


@strawberry.interface(description="An object with an opaque global id, fetchable with `node(id:)`.")
class Node:
    id: strawberry.ID


@strawberry.type
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@strawberry.type
class Highlight:
    field: str
    snippets: list[str]
