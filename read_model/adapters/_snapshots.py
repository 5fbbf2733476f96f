"""Points in time: one per search, so that all its pages read the same state of the index."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from typing import Any

from elasticsearch import ApiError, AsyncElasticsearch, NotFoundError, TransportError

from read_model.adapters._search_errors import search_failures
from read_model.errors import InvalidSearchPosition

# How long a search's point in time lives after its last page was read.
KEEP_ALIVE = "1m"


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

    def __init__(self, client: AsyncElasticsearch, index: str) -> None:
        self._client = client
        self._index = index
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
    ) -> RawPage:
        """One page of `size` hits of `body` (whose sort is already turned round when reading `backward`),
        after `search_after`, read from `snapshot` or a new point in time. One hit more is asked for, to know
        whether there are more."""
        body = {**body, "size": size + 1}
        if search_after is not None:
            body["search_after"] = search_after
        first_page = snapshot is None and search_after is None
        response, snapshot = await self.search(body, snapshot, what=what)
        raw: list[dict[str, Any]] = response["hits"]["hits"]
        hits = raw[:size]
        if backward:
            hits.reverse()
        has_more = len(raw) > size
        return RawPage(hits, has_more, response, self.for_next_page(snapshot, first_page=first_page, has_more=has_more))

    async def search(self, body: dict[str, Any], snapshot: str | None, *, what: str) -> tuple[dict[str, Any], str]:
        """The response to `body` read from `snapshot` (a new point in time when `None`), and the point in
        time to use for the next page. `InvalidSearchPosition` when the snapshot or the position is not
        valid (expired, forged, of another search)."""
        continuing = snapshot is not None or "search_after" in body
        if snapshot is None:
            snapshot = await self._open()
        with search_failures(f"{what} failed", position_given=continuing):
            try:
                response = await self._client.search(body={**body, "pit": {"id": snapshot, "keep_alive": KEEP_ALIVE}})
            except NotFoundError as exc:
                raise InvalidSearchPosition("the search this cursor belongs to has expired") from exc
        body_of: dict[str, Any] = response.body
        return body_of, str(body_of.get("pit_id", snapshot))

    def for_next_page(self, snapshot: str, *, first_page: bool, has_more: bool) -> str | None:
        """The snapshot the page's cursors carry; `None`, and the snapshot closed, when a first page held
        everything: nobody will page through it."""
        if first_page and not has_more:
            self.done(snapshot)
            return None
        return snapshot

    def done(self, snapshot: str) -> None:
        """Close `snapshot` without making the caller wait: it expires anyway if this fails."""

        async def close() -> None:
            with contextlib.suppress(ApiError, TransportError):
                await self._client.close_point_in_time(id=snapshot)

        task = asyncio.get_running_loop().create_task(close())
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    async def _open(self) -> str:
        with search_failures("cannot open a point in time"):
            response = await self._client.open_point_in_time(index=self._index, keep_alive=KEEP_ALIVE)
        snapshot: str = response["id"]
        return snapshot
