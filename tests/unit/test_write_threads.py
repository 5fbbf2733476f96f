"""The threads commands run in: bounded, in the caller's context, and never abandoning a command halfway."""

from __future__ import annotations

import asyncio
import contextvars
import functools
import threading
from collections.abc import Callable, Coroutine
from typing import Any

import pytest

from api.write_threads import WriteThreads

# A bound on every wait below, so that a broken test fails rather than hangs; no outcome depends on it.
PATIENCE = 10.0

request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="none")


def in_loop(test: Callable[..., Coroutine[Any, Any, None]]) -> Callable[..., None]:
    @functools.wraps(test)
    def run(*args: Any, **kwargs: Any) -> None:
        asyncio.run(test(*args, **kwargs))

    return run


@pytest.fixture
def threads() -> WriteThreads:
    return WriteThreads(1)


@in_loop
async def test_a_command_runs_in_another_thread_and_its_result_or_error_comes_back(threads: WriteThreads) -> None:
    assert await threads.run(threading.get_ident) != threading.get_ident()
    with pytest.raises(ZeroDivisionError):
        await threads.run(lambda: 1 / 0)
    threads.close()


@in_loop
async def test_the_callers_context_variables_are_seen_by_the_command(threads: WriteThreads) -> None:
    request_id.set("r-7")
    assert await threads.run(request_id.get) == "r-7"
    threads.close()


@in_loop
async def test_commands_beyond_the_thread_count_wait_their_turn(threads: WriteThreads) -> None:
    release, running = threading.Event(), threading.Event()
    started: list[str] = []

    def command(name: str) -> str:
        started.append(name)
        running.set()
        assert release.wait(PATIENCE)
        return name

    first = asyncio.create_task(threads.run(command, "first"))
    second = asyncio.create_task(threads.run(command, "second"))
    assert await asyncio.to_thread(running.wait, PATIENCE)
    await asyncio.sleep(0)
    assert started == ["first"]  # one thread: the second waits, without a thread of its own
    release.set()
    assert await asyncio.gather(first, second) == ["first", "second"]
    threads.close()


@in_loop
async def test_a_command_cancelled_while_waiting_for_a_thread_never_runs(threads: WriteThreads) -> None:
    release, running = threading.Event(), threading.Event()
    ran: list[str] = []

    def command(name: str) -> None:
        ran.append(name)
        running.set()
        assert release.wait(PATIENCE)

    busy = asyncio.create_task(threads.run(command, "busy"))
    assert await asyncio.to_thread(running.wait, PATIENCE)
    waiting = asyncio.create_task(threads.run(command, "waiting"))
    await asyncio.sleep(0)
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    release.set()
    await busy
    threads.close()  # waits for every job the executor still holds
    assert ran == ["busy"]


@in_loop
async def test_a_caller_cancelled_while_its_command_runs_waits_for_the_command_to_end(threads: WriteThreads) -> None:
    release, running, ended = threading.Event(), threading.Event(), threading.Event()

    def command() -> None:
        running.set()
        assert release.wait(PATIENCE)
        ended.set()

    caller = asyncio.create_task(threads.run(command))
    assert await asyncio.to_thread(running.wait, PATIENCE)
    caller.cancel()
    await asyncio.sleep(0)
    caller.cancel()  # twice: still waits
    await asyncio.sleep(0)
    assert not caller.done()
    release.set()
    with pytest.raises(asyncio.CancelledError):
        await caller
    assert ended.is_set()
    threads.close()
