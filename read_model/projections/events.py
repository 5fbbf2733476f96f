"""The `events` projection: every outbox event as one document, for the audit trail."""

from __future__ import annotations

from read_model.indexes import EVENTS
from read_model.outbox import OutboxRecord
from read_model.projections import Document


class EventProjection:
    name = "events"
    index = EVENTS
    rebase_on_conflict = False
    embedding = None

    def handles(self, record: OutboxRecord) -> bool:
        return True

    def document_id(self, record: OutboxRecord) -> str:
        """Unique per event: an aggregate's versions are unique (the outbox enforces it)."""
        return f"{record.aggregate_id}:{record.aggregate_version}"

    def apply(self, document: Document | None, record: OutboxRecord) -> Document | None:
        if document is not None:
            return None  # an event never changes once recorded
        return {
            "transaction_id": record.transaction_id,
            "position": record.position,
            "aggregate_type": record.aggregate_type,
            "aggregate_id": str(record.aggregate_id),
            "version": record.aggregate_version,
            "type": record.event_type,
            "occurred_at": record.occurred_at.isoformat(),
            "payload": record.payload,
            "metadata": record.metadata,
        }

    def version_of(self, document: Document) -> int:
        return 1
