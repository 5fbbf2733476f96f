"""Failures of the read model that callers handle by type, under one root (`ReadModelError`)."""

from __future__ import annotations


class ReadModelError(Exception):
    """Root of the read model's own failures: its stores failing it, and records it cannot apply."""


class SearchUnavailable(ReadModelError):
    """Elasticsearch refused or failed a request. The projector retries; a query reports it as an error."""


class OutboxUnavailable(ReadModelError):
    """PostgreSQL refused or lost the connection the projector reads the outbox and checkpoints with."""


class ConsistencyTimeout(ReadModelError):
    """The read model did not reach the requested position within the allowed time."""


class InvalidSearchPosition(ReadModelError):
    """A `search_after` position does not fit the sort it is used with (a forged or stale cursor)."""


class DocumentsRejected(ReadModelError):
    """Elasticsearch refused some documents for their content (a mapping conflict, a malformed value): writing
    them again will not help. `reasons` maps each refused document id to Elasticsearch's reason."""

    def __init__(self, index: str, reasons: dict[str, str]) -> None:
        first = next(iter(reasons.items()))
        super().__init__(f"{len(reasons)} documents refused by {index}, first {first[0]}: {first[1]}")
        self.reasons = reasons


class IndexOutdated(ReadModelError):
    """The alias points at another version of the index than the code defines: the index must be rebuilt."""

    def __init__(self, alias: str, current: list[str], wanted: str, projection: str) -> None:
        super().__init__(
            f"{alias} points at {', '.join(current)}, but this version of Twofold defines {wanted}: "
            f"run `twofold rebuild {projection}` with this version"
        )


class BusUnavailable(ReadModelError):
    """The event bus (Apache Kafka) could not be reached or did not acknowledge a batch in time. The relay
    pauses and sends the batch again."""
