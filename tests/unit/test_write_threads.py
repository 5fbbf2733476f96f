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


class Blocking:
    """A command that records its name, then holds its thread until `release` is set."""

    def __init__(self) -> None:
        self.release, self.running, self.ended = threading.Event(), threading.Event(), threading.Event()
        self.started: list[str] = []

    def __call__(self, name: str) -> str:
        self.started.append(name)
        self.running.set()
        assert self.release.wait(PATIENCE)
        self.ended.set()
        return name

    async def until_running(self) -> None:
        assert await asyncio.to_thread(self.running.wait, PATIENCE)


@in_loop
async def test_commands_beyond_the_thread_count_wait_their_turn(threads: WriteThreads) -> None:
    command = Blocking()
    first = asyncio.create_task(threads.run(command, "first"))
    second = asyncio.create_task(threads.run(command, "second"))
    await command.until_running()
    await asyncio.sleep(0)
    assert command.started == ["first"]  # one thread: the second waits, without a thread of its own
    command.release.set()
    assert await asyncio.gather(first, second) == ["first", "second"]
    threads.close()


@in_loop
async def test_a_command_cancelled_while_waiting_for_a_thread_never_runs(threads: WriteThreads) -> None:
    command = Blocking()
    busy = asyncio.create_task(threads.run(command, "busy"))
    await command.until_running()
    waiting = asyncio.create_task(threads.run(command, "waiting"))
    await asyncio.sleep(0)
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    command.release.set()
    await busy
    threads.close()  # waits for every job the executor still holds
    assert command.started == ["busy"]


@in_loop
async def test_a_caller_cancelled_while_its_command_runs_waits_for_the_command_to_end(threads: WriteThreads) -> None:
    command = Blocking()
    caller = asyncio.create_task(threads.run(command, "running"))
    await command.until_running()
    caller.cancel()
    await asyncio.sleep(0)
    caller.cancel()  # twice: still waits
    await asyncio.sleep(0)
    assert not caller.done()
    command.release.set()
    with pytest.raises(asyncio.CancelledError):
        await caller
    assert command.ended.is_set()
    threads.close()
