"""What every aggregate shares: an identity, a version, and the events recorded since it was loaded."""

from __future__ import annotations

from dataclasses import dataclass, field
from uuid import UUID

from write_model.domain.errors import VersionConflict
from write_model.events import Event


@dataclass(kw_only=True)
class Aggregate:
    """A consistency boundary. Each change records exactly one event and moves `version` up by one, so the
    event's position in the aggregate's history is its version."""

    id: UUID
    version: int
    pending_events: list[Event] = field(default_factory=list, compare=False, repr=False)

    def check_version(self, expected: int | None) -> None:
        """`VersionConflict` when the caller expected another version; `None` means "whatever is current"."""
        if expected is not None and expected != self.version:
            raise VersionConflict(expected, self.version)

    def _record(self, event: Event) -> None:
        self.version += 1
        self.pending_events.append(event)
