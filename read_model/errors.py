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
