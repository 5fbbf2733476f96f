"""The audit trail's search port. The Elasticsearch adapter is read_model/adapters/elasticsearch_events.py."""

from __future__ import annotations

import abc
from dataclasses import dataclass
from typing import Any

from read_model.checkpoint import Checkpoint
from read_model.views import EventView


@dataclass(frozen=True)
class EventPage:
    hits: list[tuple[EventView, list[Any]]]
    total: int
    has_more: bool


class AbstractEventSearch(abc.ABC):
    @abc.abstractmethod
    async def search(
        self, *, aggregate_id: str | None, types: tuple[str, ...], size: int, search_after: list[Any] | None
    ) -> EventPage:
        """One page of events, newest first: of one aggregate or all, of some types or all; `search_after`
        is the position the previous page ended at."""

    @abc.abstractmethod
    async def after(
        self,
        start: Checkpoint,
        end: Checkpoint,
        *,
        size: int,
        aggregate_id: str | None = None,
        types: tuple[str, ...] = (),
    ) -> list[EventView]:
        """At most `size` events after `start` and up to `end`, in commit order: of one aggregate or all, of
        some types or all. Complete up to `end` when the events projection has published `end`."""
