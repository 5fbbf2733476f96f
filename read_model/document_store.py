"""The port through which the projector writes documents and publishes how far it has got."""

from __future__ import annotations

import abc
from dataclasses import dataclass

from read_model.checkpoint import ProjectionState
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
        """Create the versioned index and point its alias at it, unless the alias already exists."""

    @abc.abstractmethod
    def get_many(self, definition: IndexDefinition, ids: list[str]) -> dict[str, Document]:
        """The current documents with these ids (absent ones are left out), read in real time."""

    @abc.abstractmethod
    def write_many(self, definition: IndexDefinition, documents: list[VersionedDocument]) -> set[str]:
        """Write documents with external versions; a document already at that version or newer is kept, and
        its id returned among the conflicts.

        Returns once every other document is acknowledged and searchable; raises when any write failed.
        """

    @abc.abstractmethod
    def publish_status(self, state: ProjectionState) -> None:
        """Tell the query side that the projection has applied, and made searchable, all up to
        `state.checkpoint`, and how far behind and how blocked it is."""
