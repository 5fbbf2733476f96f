"""Projections: pure functions from a document and an event to the next document."""

from __future__ import annotations

import abc
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol
from uuid import UUID

from read_model.errors import ReadModelError
from read_model.indexes import IndexDefinition
from read_model.outbox import OutboxRecord

Document = dict[str, Any]


@dataclass(frozen=True)
class Embedding:
    """Another aggregate's state that a projection's documents carry under `field` (an object with its `id`
    and the `version` it is at), such as an order's customer.

    An event of `event_types` carries that aggregate's whole state as of its version, so it changes every
    document carrying an older one: the applier applies it to each of them (`fans_out`), wherever they are,
    and a document the batch creates gets the newest such state the outbox holds. The newest version wins
    whatever order the events arrive in, so a document ends the same whether its own events or the other
    aggregate's are applied first.
    """

    field: str
    aggregate_type: str
    event_types: frozenset[str]

    def fans_out(self, record: OutboxRecord) -> bool:
        return record.aggregate_type == self.aggregate_type and record.event_type in self.event_types

    def carried_id(self, document: Document) -> str:
        return str(document[self.field]["id"])

    def carried_version(self, document: Document) -> int:
        return int(document[self.field]["version"])


class Projection(Protocol):
    """Builds one index's documents from the events it `handles`.

    The projector writes each document with `version_of(document)` as its external version, so a write
    never replaces a newer document, and it writes only what `apply` changed: a replayed or duplicated event
    changes nothing.
    """

    name: str
    index: IndexDefinition
    # Whether a document another writer changed meanwhile must have the batch folded into it again (documents
    # fed by several aggregates), or already holds everything the batch would write (versioned by its own
    # aggregate).
    rebase_on_conflict: bool

    @property
    def embedding(self) -> Embedding | None:
        """Another aggregate's state its documents carry, if any; `apply` then also takes that aggregate's
        `fans_out` records, for any document carrying it, and `document_id` is never asked about them."""

    def handles(self, record: OutboxRecord) -> bool: ...

    def document_id(self, record: OutboxRecord) -> str: ...

    def apply(self, document: Document | None, record: OutboxRecord) -> Document | None:
        """The document with `record` applied, or `None` when it already reflects `record`. Raises
        `EarlierEventsFirst` when events `record` depends on have not been applied yet."""

    def version_of(self, document: Document) -> int: ...


class AggregateProjection(abc.ABC):
    """A projection with one document per aggregate of `aggregate_type`, versioned by the aggregate's version."""

    name: str
    index: IndexDefinition
    aggregate_type: str
    rebase_on_conflict = False
    embedding: Embedding | None = None

    def handles(self, record: OutboxRecord) -> bool:
        return record.aggregate_type == self.aggregate_type

    def document_id(self, record: OutboxRecord) -> str:
        return str(record.aggregate_id)

    def apply(self, document: Document | None, record: OutboxRecord) -> Document | None:
        applied = 0 if document is None else int(document["version"])
        if applied >= record.aggregate_version:
            return None
        if applied < record.aggregate_version - 1:
            raise EarlierEventsFirst(
                record,
                record.aggregate_id,
                applied + 1,
                record.aggregate_version - 1,
                over_gap=lambda current: self._apply_version(current, record),
            )
        return self._apply_version(document, record)

    def _apply_version(self, document: Document | None, record: OutboxRecord) -> Document:
        return {**self._apply(document, record), "version": record.aggregate_version}

    def version_of(self, document: Document) -> int:
        return int(document["version"])

    @abc.abstractmethod
    def _apply(self, document: Document | None, record: OutboxRecord) -> Document:
        """The next document; `document` is `None` exactly for the aggregate's first event."""


class MissingDocument(ReadModelError):
    """`record` changes a document that does not hold what the change needs."""

    def __init__(self, record: OutboxRecord, detail: str = "whose document the index does not hold") -> None:
        super().__init__(
            f"{record.event_type} (version {record.aggregate_version}) for {record.aggregate_type} "
            f"{record.aggregate_id}, {detail}"
        )


class EarlierEventsFirst(MissingDocument):
    """`record` can be applied only after versions `first` to `last` of aggregate `aggregate_id`.

    The outbox is read in transaction-id order, and a transaction takes its id at its first write, not at
    commit: a command that wrote something (its idempotency key, another aggregate) before it waited for
    an aggregate another transaction held has the smaller id and the later version. Those earlier versions
    are committed (the transaction of `record` saw them), so the projector reads them from the outbox
    and applies them first; when their own turn comes they are recognised as applied.
    """

    def __init__(
        self,
        record: OutboxRecord,
        aggregate_id: UUID,
        first: int,
        last: int,
        *,
        over_gap: Callable[[Document | None], Document] | None = None,
    ) -> None:
        super().__init__(record, f"which needs versions {first} to {last} of {aggregate_id} applied first")
        self.record = record
        self.aggregate_id = aggregate_id
        self.first = first
        self.last = last
        # How to apply `record` without them when one of them is refused for its own reasons (a poison event,
        # perhaps one an operator skipped): as if it had never been. None: `record` cannot do without them.
        self.over_gap = over_gap


class UnhandledEvent(ReadModelError):
    def __init__(self, projection: str, event_type: str) -> None:
        super().__init__(f"the {projection} projection has no rule for {event_type}")
