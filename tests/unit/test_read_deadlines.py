"""The body reads' deadlines (api/observation.py): a late read fails with BodyTooSlow, and only it."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import TypeVar

import pytest
from starlette.types import Message

from api.observation import BodyTooSlow, ReadDeadlines

T = TypeVar("T")
BODY: Message = {"type": "http.request", "body": b"{}", "more_body": False}


async def within(awaitable: Awaitable[T]) -> T:
    """`awaitable`, failing the test rather than hanging it when a late read is never failed."""
    async with asyncio.timeout(10):
        return await awaitable


async def answered() -> Message:
    return BODY


async def never() -> Message:
    await asyncio.Event().wait()
    raise AssertionError("unreachable")


def test_a_read_answered_in_time_gives_its_message_and_leaves_nothing_behind() -> None:
    reads = ReadDeadlines(timeout=60)

    async def run() -> list[Message]:
        return [await reads.receive(answered) for _ in range(3)]

    assert asyncio.run(run()) == [BODY] * 3
    assert not reads._reading
    assert not reads._late


def test_a_read_that_does_not_come_fails_and_the_others_are_answered() -> None:
    reads = ReadDeadlines(timeout=0.01)

    async def run() -> list[object]:
        async def slow_then_answered() -> Message:
            await asyncio.sleep(0)
            return BODY

        results = await asyncio.gather(
            reads.receive(never), reads.receive(slow_then_answered), reads.receive(never), return_exceptions=True
        )
        return [type(result).__name__ if isinstance(result, BaseException) else result for result in results]

    assert asyncio.run(within(run())) == ["BodyTooSlow", BODY, "BodyTooSlow"]
    assert not reads._reading
    assert not reads._late


def test_the_deadlines_serve_one_event_loop_after_another() -> None:
    reads = ReadDeadlines(timeout=0.01)
    for _ in range(2):
        with pytest.raises(BodyTooSlow):
            asyncio.run(within(reads.receive(never)))


def test_a_read_cancelled_from_outside_is_cancelled_not_late() -> None:
    reads = ReadDeadlines(timeout=60)

    async def run() -> None:
        task = asyncio.create_task(reads.receive(never))
        await asyncio.sleep(0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(run())
    assert not reads._reading
