"""Live updates: one watcher per API process over the projections' published progress (docs/subscriptions.md).

The watcher (`LiveFeed`) reads where each projection stands, one request per poll whatever the number of
subscriptions. When the events projection advances, it reads the new events from the events index once,
in commit order, into a window of recent events that every subscription of the process reads from. A
subscription holds its own cursor, a checkpoint, so the process keeps nothing a client needs to resume:
it takes the window's events after its cursor, or, when its cursor is older than the window (a client
resuming from far back), reads that backlog from the events index first. The window never reaches beyond
the published position, so whatever a subscription is given, a query can already read.
"""

from __future__ import annotations

import asyncio
import bisect
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Sequence
from uuid import UUID

from read_model.checkpoint import ORIGIN, Checkpoint
from read_model.consistency import AbstractPublishedProgress
from read_model.errors import SearchUnavailable
from read_model.search.events import AbstractEventSearch
from read_model.views import EventView

logger = logging.getLogger("twofold.live")

# The projections a subscription can follow: the audit trail, and the documents of orders and products.
EVENTS = "events"
FOLLOWED = (EVENTS, "orders", "products")
# Events read from the events index per request, and the most the window keeps (about 1 KiB each).
PAGE_EVENTS = 1000
WINDOW_EVENTS = 20_000
# Pages read per poll while the events projection is far ahead of the window, so one poll stays short.
PAGES_PER_POLL = 5
# How long a first subscription waits for the watcher's first reading before it is refused.
START_SECONDS = 5.0


def checkpoint_of(event: EventView) -> Checkpoint:
    return Checkpoint(event.transaction_id, event.position)


class LiveFeed:
    """The process's one watcher: the projections' published positions and a window of recent events."""

    def __init__(
        self,
        progress: AbstractPublishedProgress,
        events: AbstractEventSearch,
        *,
        poll_seconds: float,
        window_events: int = WINDOW_EVENTS,
        page_events: int = PAGE_EVENTS,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        on_request: Callable[[], None] = lambda: None,
        start_seconds: float = START_SECONDS,
    ) -> None:
        self._progress = progress
        self._events = events
        self._poll_seconds = poll_seconds
        self._window_events = window_events
        self._page_events = page_events
        self._sleep = sleep
        self._published: dict[str, Checkpoint] = {}
        # The window holds every event in (base, top], in commit order, with their checkpoints beside them.
        self._base: Checkpoint | None = None
        self._top = ORIGIN
        self._checkpoints: list[Checkpoint] = []
        self._window: list[EventView] = []
        self._advanced = asyncio.Event()
        self._started = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._on_request = on_request  # told of each request to the read model, for the metrics
        self._start_seconds = start_seconds

    async def start(self) -> None:
        """Starts the watcher unless it runs, and returns once it has read the published positions;
        `SearchUnavailable` when it could not within `start_seconds`."""
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="live-feed")
        try:
            await asyncio.wait_for(self._started.wait(), self._start_seconds)
        except TimeoutError:
            raise SearchUnavailable("the projections' published positions could not be read") from None

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    async def _run(self) -> None:
        while True:
            try:
                behind = await self.poll()
            except Exception:
                # Every subscription of the process waits on this loop: a fault is logged, never fatal.
                logger.exception("the live-updates watcher failed; it tries again")
                behind = False
            if not behind:
                await self._sleep(self._poll_seconds)

    async def poll(self) -> bool:
        """One round: read the published positions and take the new events into the window. True when the
        window is still behind the published events position (the next round should follow at once)."""
        try:
            self._on_request()
            published = await self._progress.published(FOLLOWED)
            target = published[EVENTS]
            if self._base is None:
                self._base = self._top = target  # the window starts where the events stand now
            fetched = await self._extend(target)
        except SearchUnavailable as exc:
            logger.warning("live updates are waiting for Elasticsearch: %s", exc)
            return False
        advanced = fetched or any(self._published.get(name) != at for name, at in published.items())
        self._published = published
        self._started.set()
        if advanced:
            woken, self._advanced = self._advanced, asyncio.Event()
            woken.set()
        return self._top < target

    async def _extend(self, target: Checkpoint) -> bool:
        extended = False
        for _ in range(PAGES_PER_POLL):
            if self._top >= target:
                break
            self._on_request()
            page = await self._events.after(self._top, target, size=self._page_events)
            self._checkpoints += [checkpoint_of(event) for event in page]
            self._window += page
            # A short page is everything up to the target; a full one, everything up to its last event.
            self._top = target if len(page) < self._page_events else self._checkpoints[-1]
            extended = True
        excess = len(self._window) - self._window_events
        if excess > 0:
            self._base = self._checkpoints[excess - 1]
            del self._checkpoints[:excess], self._window[:excess]
        return extended

    def position(self) -> Checkpoint:
        """Where the window ends: every event up to here is searchable. Call after `start`."""
        return self._top

    def published(self, projection: str) -> Checkpoint:
        return self._published.get(projection, ORIGIN)

    async def events_after(self, cursor: Checkpoint, *, limit: int) -> tuple[list[EventView], Checkpoint] | None:
        """Waits until the window reaches beyond `cursor`; then the window's events after it (at most
        `limit`) and the cursor that follows them. `None` when `cursor` is older than the window: the
        events after it up to `position()` are then to be read from the events index."""
        while True:
            if self._base is None or cursor < self._base:
                return None
            if self._top > cursor:
                start = bisect.bisect_right(self._checkpoints, cursor)
                events = self._window[start : start + limit]
                end = self._checkpoints[start + len(events) - 1] if len(events) == limit else self._top
                return events, end
            await self._advanced.wait()

    async def reached(self, projection: str, checkpoint: Checkpoint) -> None:
        """Returns once `projection` has published `checkpoint` or beyond."""
        while self.published(projection) < checkpoint:
            await self._advanced.wait()


async def follow_events(
    feed: LiveFeed,
    search: AbstractEventSearch,
    after: Checkpoint,
    *,
    aggregate_id: str | None = None,
    types: tuple[str, ...] = (),
    page: int = PAGE_EVENTS,
) -> AsyncIterator[EventView]:
    """Every event after `after`, in commit order, each once the events index shows it: first the backlog
    from the events index, then the window's, with no gap and no repeat at the seam. Never ends."""
    cursor = after
    wanted = None if aggregate_id is None else UUID(aggregate_id)  # compared as UUIDs: no string per event
    while True:
        taken = await feed.events_after(cursor, limit=page)
        if taken is None:
            upper = feed.position()
            backlog = await search.after(cursor, upper, size=page, aggregate_id=aggregate_id, types=types)
            for event in backlog:
                yield event
            cursor = checkpoint_of(backlog[-1]) if len(backlog) == page else upper
            continue
        events, cursor = taken
        for event in events:
            if (wanted is None or event.aggregate_id == wanted) and (not types or event.type in types):
                yield event


async def follow_changes(
    feed: LiveFeed, projection: str, aggregate_ids: Callable[[], Collection[UUID]]
) -> AsyncIterator[Sequence[str]]:
    """From now on, the ids among `aggregate_ids()` whose events `projection` has applied, a batch at a
    time, each batch once `projection` shows them. A subscriber slower than the window is given all of its
    ids again: it may then be told of a change twice, never not at all."""
    cursor = feed.position()
    while True:
        taken = await feed.events_after(cursor, limit=PAGE_EVENTS)
        if taken is None:
            cursor = feed.position()
            yield [str(each) for each in aggregate_ids()]
            continue
        events, cursor = taken
        wanted = aggregate_ids()
        touched = [event for event in events if event.aggregate_id in wanted]
        if touched:
            await feed.reached(projection, checkpoint_of(touched[-1]))
            yield list(dict.fromkeys(str(event.aggregate_id) for event in touched))
