"""The watcher behind subscriptions (read_model/live.py), over the fakes of its ports: polls driven by the
test, never by a clock."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import TypeVar
from uuid import UUID

import pytest

from read_model.checkpoint import Checkpoint
from read_model.errors import SearchUnavailable
from read_model.live import LiveFeed, checkpoint_of, follow_changes, follow_events
from read_model.views import EventView
from tests.fakes import FakeEventSearch, FakePublishedProgress

T = TypeVar("T")
AT = datetime(2026, 1, 1, tzinfo=UTC)


def event(transaction_id: int, position: int, aggregate: int = 1, kind: str = "ProductCreated") -> EventView:
    return EventView(
        transaction_id=transaction_id,
        position=position,
        aggregate_type="Product",
        aggregate_id=UUID(int=aggregate),
        version=1,
        type=kind,
        occurred_at=AT,
        payload={},
    )


class World:
    """The events index and the published positions, moved by the test."""

    def __init__(self) -> None:
        self.progress = FakePublishedProgress()
        self.search = FakeEventSearch()

    def project(self, *events: EventView, also: tuple[str, ...] = ("orders", "products")) -> None:
        """The projector applies `events` and publishes the last one's position, for events and `also`."""
        self.search.events += events
        top = max(checkpoint_of(each) for each in self.search.events)
        for name in ("events", *also):
            self.progress.positions[name] = top

    def feed(self, **kwargs: int) -> LiveFeed:
        async def never(_: float) -> None:
            await asyncio.Event().wait()  # the test polls

        return LiveFeed(self.progress, self.search, poll_seconds=1.0, sleep=never, **kwargs)


async def take(stream: AsyncIterator[T], count: int, feed: LiveFeed) -> list[T]:
    """The first `count` items of `stream`, polling `feed` whenever the stream waits."""
    taken: list[T] = []

    async def consume() -> None:
        async for item in stream:
            taken.append(item)
            if len(taken) == count:
                return

    task = asyncio.create_task(consume())
    for _ in range(1000):
        await asyncio.sleep(0)
        if task.done():
            break
        await feed.poll()
    assert task.done(), f"only {len(taken)} of {count} arrived"
    return taken


def test_the_feed_starts_where_the_events_stand_and_takes_each_new_event_once() -> None:
    async def scenario() -> None:
        world = World()
        world.project(event(5, 1), event(5, 2))
        feed = world.feed()
        await feed.poll()
        assert feed.position() == Checkpoint(5, 2)
        world.project(event(7, 4), event(6, 3))  # commit order: transaction 6 before 7
        await feed.poll()
        taken = await feed.events_after(Checkpoint(5, 2), limit=10)
        assert taken is not None
        assert [checkpoint_of(each) for each in taken[0]] == [Checkpoint(6, 3), Checkpoint(7, 4)]
        assert taken[1] == Checkpoint(7, 4)
        assert await feed.events_after(Checkpoint(5, 1), limit=10) is None  # older than the window

    asyncio.run(scenario())


def test_one_poll_serves_every_subscriber_with_one_read_of_the_events() -> None:
    async def scenario() -> None:
        world = World()
        world.project(event(1, 1))
        feed = world.feed()
        await feed.poll()
        streams = [follow_events(feed, world.search, feed.position()) for _ in range(200)]
        waiting = [asyncio.create_task(anext(stream)) for stream in streams]
        await asyncio.sleep(0)
        reads_before = world.search.searches
        world.project(event(2, 2), event(2, 3))
        await feed.poll()
        delivered = await asyncio.gather(*waiting)
        assert {checkpoint_of(each) for each in delivered} == {Checkpoint(2, 2)}
        assert world.search.searches - reads_before == 1
        assert world.progress.reads == 2

    asyncio.run(scenario())


def test_a_resumed_subscriber_gets_the_backlog_then_the_window_with_no_gap_and_no_repeat() -> None:
    async def scenario() -> None:
        rng = random.Random(7)
        world = World()
        every = [event(transaction, position) for position, transaction in enumerate(range(1, 301), start=1)]
        world.project(*every[:150])
        feed = world.feed(window_events=50, page_events=20)
        await feed.poll()
        world.project(*every[150:])
        for _ in range(10):
            await feed.poll()  # the window keeps only the last 50
        for _ in range(20):
            start = rng.randrange(0, 300)
            after = Checkpoint(0, 0) if start == 0 else checkpoint_of(every[start - 1])
            got = await take(follow_events(feed, world.search, after, page=20), 300 - start, feed)
            assert got == every[start:]

    asyncio.run(scenario())


def test_filters_apply_to_the_backlog_and_to_the_window_alike() -> None:
    async def scenario() -> None:
        world = World()
        mixed = [
            event(i, i, aggregate=i % 3, kind="ProductCreated" if i % 2 else "ProductRestocked") for i in range(1, 61)
        ]
        world.project(*mixed[:30])
        feed = world.feed(window_events=10)
        await feed.poll()
        world.project(*mixed[30:])
        await feed.poll()
        wanted = [each for each in mixed if each.aggregate_id == UUID(int=1) and each.type == "ProductCreated"]
        stream = follow_events(
            feed, world.search, Checkpoint(0, 0), aggregate_id=str(UUID(int=1)), types=("ProductCreated",), page=4
        )
        assert await take(stream, len(wanted), feed) == wanted

    asyncio.run(scenario())


def test_a_change_is_told_once_the_documents_projection_shows_it() -> None:
    async def scenario() -> None:
        world = World()
        world.project(event(1, 1))
        feed = world.feed()
        await feed.poll()
        changes = follow_changes(feed, "orders", lambda: {UUID(int=4)})
        first = asyncio.create_task(anext(changes))
        await asyncio.sleep(0)  # subscribed: from here on
        world.project(event(2, 2, aggregate=9))  # not watched
        await feed.poll()
        world.project(event(3, 3, aggregate=4), also=())  # the events index has it, the orders index not yet
        await feed.poll()
        await asyncio.sleep(0)
        assert not first.done()
        world.progress.positions["orders"] = Checkpoint(3, 3)
        await feed.poll()
        assert await first == [str(UUID(int=4))]

    asyncio.run(scenario())


def test_a_first_subscriber_is_refused_while_search_is_down_and_the_watcher_outlives_a_fault() -> None:
    async def scenario() -> None:
        world = World()
        world.project(event(1, 1))
        world.progress.failures = [SearchUnavailable("down")] * 10_000
        feed = LiveFeed(world.progress, world.search, poll_seconds=0.001, start_seconds=0.05)
        with pytest.raises(SearchUnavailable):
            await feed.start()
        world.progress.failures = [RuntimeError("a fault of the watcher's own")]
        await feed.start()  # the loop went on after both
        assert feed.position() == Checkpoint(1, 1)
        await feed.close()

    asyncio.run(scenario())
