"""Sorts that page: the client's sort fields, then the id, so that every position in the sort is unique."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any


def unique_sort(
    chosen: Sequence[tuple[str, str | None]],
    fields: Mapping[str, str],
    default_directions: Mapping[str, str],
    *,
    reverse: bool = False,
    missing_last: Collection[str] = (),
) -> list[dict[str, Any]]:
    """Elasticsearch sort clauses for `chosen` (sort field name, direction or `None` for its default),
    ending with the id; `reverse` turns every direction round, to read a page backward. Documents without a
    value for a field of `missing_last` come after the others (before them, read backward)."""
    clauses: list[dict[str, Any]] = []
    for field, direction in chosen:
        order = direction or default_directions[field]
        name = fields[field]
        if name in missing_last:
            missing = "_first" if reverse else "_last"
            clauses.append({name: {"order": _flip(order) if reverse else order, "missing": missing}})
        else:
            clauses.append({name: _flip(order) if reverse else order})
    clauses.append({"id": "desc" if reverse else "asc"})
    return clauses


def _flip(order: str) -> str:
    return "asc" if order == "desc" else "desc"
