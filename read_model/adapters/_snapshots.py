"""Points in time: one per search that may be paged, so that all its pages read the same state of the index.

A point in time is opened only for a search whose client can page on (it asked for a cursor or the page
info): a search read once costs one request and leaves nothing open. The points in time a process holds
open are bounded (`OpenSearches`): beyond the bound, the least recently used is closed, and a cursor of
its search is then refused as expired.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from elasticsearch import ApiError, AsyncElasticsearch, NotFoundError, TransportError

from read_model.adapters._search_errors import search_failures
from read_model.errors import InvalidSearchPosition

# How long a search's point in time lives after its last page was read: long enough for a client to ask for
# the next page, short enough that Elasticsearch frees what clients leave (within a minute, with the node's
# `search.keep_alive_interval` at a few seconds: docs/operations.md).
KEEP_ALIVE = "30s"
KEEP_ALIVE_SECONDS = 30.0
# Points in time one API process holds open at most (each is a search context on every shard it reads).
MAX_OPEN = 500
EXPIRED = "the search this cursor belongs to has expired (30 seconds after its last page) or was closed to make room"


class OpenSearches:
    """The points in time this process holds open, least recently used first; `bound` at most."""

    def __init__(self, bound: int = MAX_OPEN, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.bound = bound
        self._clock = clock
        self._used: OrderedDict[str, float] = OrderedDict()

    def __len__(self) -> int:
        return len(self._used)

    def used(self, snapshot: str, replaced: str | None = None) -> list[str]:
        """Records that `snapshot` (which took `replaced`'s place, if any) was just read; returns those to
        close to stay within the bound, oldest first. Those expired by now are forgotten, not closed."""
        now = self._clock()
        if replaced is not None:
            self._used.pop(replaced, None)
        self._used[snapshot] = now
        self._used.move_to_end(snapshot)
        while self._used and now - next(iter(self._used.values())) > KEEP_ALIVE_SECONDS:
            self._used.popitem(last=False)
        evicted = []
        while len(self._used) > self.bound:
            evicted.append(self._used.popitem(last=False)[0])
        return evicted

    def forget(self, snapshot: str) -> None:
        self._used.pop(snapshot, None)


@dataclass(frozen=True)
class RawPage:
    """One page of a search as Elasticsearch answered it: at most the page's size of hits, in the order the
    client reads them; whether there are more beyond them; the point in time for the next page."""

    hits: list[dict[str, Any]]
    has_more: bool
    response: dict[str, Any]
    snapshot: str | None


class Snapshots:
    """Runs a search's pages over one point in time of `index`: opened for the first page, carried by the
    caller (in its cursors) to the next ones, closed at once when the first page held everything."""

    def __init__(self, client: AsyncElasticsearch, index: str, open_searches: OpenSearches | None = None) -> None:
        self._client = client
        self._index = index
        self._open = OpenSearches() if open_searches is None else open_searches
        self._closing: set[asyncio.Task[None]] = set()

    async def page(
        self,
        body: dict[str, Any],
        *,
        size: int,
        search_after: list[Any] | None,
        backward: bool,
        snapshot: str | None,
        what: str,
        pageable: bool = True,
    ) -> RawPage:
        """One page of `size` hits of `body` (whose sort is already turned round when reading `backward`),
        after `search_after`, read from `snapshot` or a new point in time. One hit more is asked for, to know
        whether there are more. A first page that nobody can page on (`pageable` false) is read from the
        index itself: one request, and no point in time left open."""
        body = {**body, "size": size + 1}
        if search_after is not None:
            body["search_after"] = search_after
        first_page = snapshot is None and search_after is None
        response: dict[str, Any]
        opened: str | None = None
        if first_page and not pageable:
            with search_failures(f"{what} failed"):
                response = (await self._client.search(index=self._index, body=body)).body
        else:
            response, opened = await self.search(body, snapshot, what=what)
        raw: list[dict[str, Any]] = response["hits"]["hits"]
        hits = raw[:size]
        if backward:
            hits.reverse()
        has_more = len(raw) > size
        following = None if opened is None else self.for_next_page(opened, first_page=first_page, has_more=has_more)
        return RawPage(hits, has_more, response, following)

    async def search(self, body: dict[str, Any], snapshot: str | None, *, what: str) -> tuple[dict[str, Any], str]:
        """The response to `body` read from `snapshot` (a new point in time when `None`), and the point in
        time to use for the next page. `InvalidSearchPosition` when the snapshot or the position is not
        valid (expired, forged, of another search)."""
        continuing = snapshot is not None or "search_after" in body
        if snapshot is None:
            snapshot = await self._open_one()
        with search_failures(f"{what} failed", position_given=continuing):
            try:
                response = await self._client.search(body={**body, "pit": {"id": snapshot, "keep_alive": KEEP_ALIVE}})
            except NotFoundError as exc:
                self._open.forget(snapshot)
                raise InvalidSearchPosition(EXPIRED) from exc
        body_of: dict[str, Any] = response.body
        following = str(body_of.get("pit_id", snapshot))
        for evicted in self._open.used(following, replaced=snapshot):
            self._close(evicted)
        return body_of, following

    def for_next_page(self, snapshot: str, *, first_page: bool, has_more: bool) -> str | None:
        """The snapshot the page's cursors carry; `None`, and the snapshot closed, when a first page held
        everything: nobody will page through it."""
        if first_page and not has_more:
            self.done(snapshot)
            return None
        return snapshot

    def done(self, snapshot: str) -> None:
        """Close `snapshot` without making the caller wait: it expires anyway if this fails."""
        self._open.forget(snapshot)
        self._close(snapshot)

    def _close(self, snapshot: str) -> None:

        async def close() -> None:
            with contextlib.suppress(ApiError, TransportError):
                await self._client.close_point_in_time(id=snapshot)

        task = asyncio.get_running_loop().create_task(close())
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    async def _open_one(self) -> str:
        with search_failures("cannot open a point in time"):
            response = await self._client.open_point_in_time(index=self._index, keep_alive=KEEP_ALIVE)
        snapshot: str = response["id"]
        return snapshot
