"""Projections: pure functions from a document and an event to the next document."""

from __future__ import annotations

from typing import Any, Protocol

from read_model.indexes import IndexDefinition
from read_model.outbox import OutboxRecord

Document = dict[str, Any]


class Projection(Protocol):
    """Builds one index's documents from the events of one aggregate type.

    A document carries the `version` of the last event applied to it; the projector writes it with that
    version as an external version, so a replayed or duplicated event never changes a newer document.
    """

    name: str
    index: IndexDefinition

    def handles(self, record: OutboxRecord) -> bool: ...

    def document_id(self, record: OutboxRecord) -> str: ...

    def apply(self, document: Document | None, record: OutboxRecord) -> Document: ...
