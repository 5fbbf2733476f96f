"""The threads commands run in: the write model is synchronous, the API asynchronous.

A plain `ThreadPoolExecutor` rather than anyio's worker threads: its hop costs half the CPU (about 35
against 77 µs per command, both threads counted; docs/benchmarks.md), and it bounds the threads the same
way, the commands beyond them waiting in its queue without a thread.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")


class WriteThreads:
    def __init__(self, count: int) -> None:
        self._executor = ThreadPoolExecutor(max_workers=count, thread_name_prefix="twofold-write")

    async def run(self, function: Callable[..., T], *args: Any) -> T:
        """`function(*args)` in one of the threads, in a copy of the caller's context variables.

        A command cannot stop halfway, so cancelling the caller does not abandon it: one that has not started
        never will; one that runs is waited for, and the caller's cancellation goes on once it has ended (as
        with anyio's threads, which shield the wait)."""
        job = self._executor.submit(contextvars.copy_context().run, function, *args)
        waiting = asyncio.wrap_future(job)
        try:
            return await asyncio.shield(waiting)
        except asyncio.CancelledError:
            if not job.cancel():
                await _until_done(waiting)
            raise

    def close(self) -> None:
        """Wait for the commands that run or wait; refuse new ones."""
        self._executor.shutdown(wait=True)


async def _until_done(waiting: asyncio.Future[T]) -> None:
    """Wait for the job behind `waiting` to end, whatever its outcome, through any further cancellation."""
    while True:
        try:
            await asyncio.shield(waiting)
            return
        except asyncio.CancelledError:
            continue
        except Exception:  # its outcome was the cancelled caller's, who no longer wants it
            return
