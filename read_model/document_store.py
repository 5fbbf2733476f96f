"""The port through which the projector writes documents and publishes how far it has got."""

from __future__ import annotations

import abc
from collections.abc import Sequence
from dataclasses import dataclass

from read_model.checkpoint import ProjectionState
from read_model.consumers import ConsumerState
from read_model.indexes import IndexDefinition
from read_model.projections import Document


@dataclass(frozen=True)
class VersionedDocument:
    id: str
    version: int
    source: Document


class AbstractDocumentStore(abc.ABC):
    @abc.abstractmethod
    def ensure_index(self, definition: IndexDefinition) -> None:
        """Create the versioned index and point its alias at it, unless the alias already exists;
        `IndexOutdated` when the alias points at another version of the index."""

    @abc.abstractmethod
    def get_many(self, definition: IndexDefinition, ids: list[str]) -> dict[str, Document]:
        """The current documents with these ids (absent ones are left out), read in real time."""

    @abc.abstractmethod
    def write_many(self, definition: IndexDefinition, documents: list[VersionedDocument]) -> set[str]:
        """Write documents with external versions; a document already at that version or newer is kept, and
        its id returned among the conflicts.

        Returns once every other document is acknowledged (and readable by `get_many`); raises when any
        write failed. Searches see them after `make_searchable`.
        """

    @abc.abstractmethod
    def carrying(
        self, definition: IndexDefinition, field: str, id: str, *, below: int, after: str | None, size: int
    ) -> list[tuple[str, Document]]:
        """Up to `size` searchable documents (id, source) whose `field` carries aggregate `id` at a version
        below `below` (`<field>.id` and `<field>.version`), in the order of their `id` field, from the first
        after `after` (None: from the start). Documents written since the last `make_searchable` may be
        missed, or found as they were."""

    @abc.abstractmethod
    def make_searchable(self, definitions: Sequence[IndexDefinition]) -> None:
        """Returns once everything acknowledged in these indexes is visible to searches (one request)."""

    @abc.abstractmethod
    def publish_status(self, states: Sequence[ProjectionState]) -> None:
        """Tell the query side that each projection has applied, and made searchable, all up to its
        `checkpoint`, and how far behind and how blocked it is (one request)."""

    @abc.abstractmethod
    def publish_consumers(self, states: Sequence[ConsumerState]) -> None:
        """Copy the reports of the outbox consumers other than the projector to the query side (one request)."""
