"""Failures of the read model that callers handle by type."""

from __future__ import annotations


class SearchUnavailable(Exception):
    """Elasticsearch refused or failed a request. The projector retries; a query reports it as an error."""


class OutboxUnavailable(Exception):
    """PostgreSQL refused or lost the connection the projector reads the outbox and checkpoints with."""


class ConsistencyTimeout(Exception):
    """The read model did not reach the requested position within the allowed time."""


class InvalidSearchPosition(Exception):
    """A `search_after` position does not fit the sort it is used with (a forged or stale cursor)."""


class DocumentsRejected(Exception):
    """Elasticsearch refused some documents for their content (a mapping conflict, a malformed value): writing
    them again will not help. `reasons` maps each refused document id to Elasticsearch's reason."""

    def __init__(self, index: str, reasons: dict[str, str]) -> None:
        first = next(iter(reasons.items()))
        super().__init__(f"{len(reasons)} documents refused by {index}, first {first[0]}: {first[1]}")
        self.reasons = reasons
