"""The bound on the points in time one API process holds open (read_model/adapters/_snapshots.py)."""

from __future__ import annotations

from read_model.adapters._snapshots import KEEP_ALIVE_SECONDS, OpenSearches
from tests.fakes import FakeMonotonic


def test_beyond_the_bound_the_least_recently_used_are_closed_first() -> None:
    clock = FakeMonotonic()
    open_searches = OpenSearches(bound=2, clock=clock)
    assert open_searches.used("a") == []
    assert open_searches.used("b") == []
    assert open_searches.used("a") == []  # read again: now the most recent
    assert open_searches.used("c") == ["b"]
    assert open_searches.used("d") == ["a"]
    assert len(open_searches) == 2


def test_a_point_in_time_that_moved_takes_its_predecessors_place() -> None:
    open_searches = OpenSearches(bound=2, clock=FakeMonotonic())
    open_searches.used("a")
    open_searches.used("b")
    assert open_searches.used("a2", replaced="a") == []
    assert len(open_searches) == 2


def test_those_expired_by_now_are_forgotten_not_closed() -> None:
    clock = FakeMonotonic()
    open_searches = OpenSearches(bound=1, clock=clock)
    open_searches.used("old")
    clock.now += KEEP_ALIVE_SECONDS + 1
    assert open_searches.used("new") == []  # Elasticsearch has let "old" go already
    open_searches.forget("new")
    assert len(open_searches) == 0
