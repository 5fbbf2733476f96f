"""One contract for the saga's state: the PostgreSQL store and the unit tests' fake behave the same."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from tests.fakes import FakePaymentDeadlines
from write_model.adapters.payment_deadlines import PostgresPaymentDeadlines
from write_model.expiry import AbstractPaymentDeadlines, DeadlineChanges
from write_model.outbox import OutboxPosition

T0 = datetime(2026, 5, 1, 8, 0, tzinfo=UTC)


@pytest.fixture(params=["fake", "postgres"])
def deadlines(request: pytest.FixtureRequest) -> Iterator[AbstractPaymentDeadlines]:
    if request.param == "fake":
        yield FakePaymentDeadlines()
    else:
        engine: sa.Engine = request.getfixturevalue("engine")
        yield PostgresPaymentDeadlines(engine, f"contract-{uuid.uuid4().hex[:8]}")


def opened(**placed: timedelta) -> tuple[DeadlineChanges, dict[str, uuid.UUID]]:
    ids = {name: uuid.uuid4() for name in placed}
    return DeadlineChanges(opened={ids[name]: T0 + offset for name, offset in placed.items()}), ids


def test_a_new_saga_stands_at_the_origin_and_waits_on_nothing(deadlines: AbstractPaymentDeadlines) -> None:
    assert deadlines.position() == OutboxPosition(0, 0)
    summary = deadlines.summary(T0)
    assert (summary.pending, summary.overdue, summary.parked, summary.oldest_placed_at) == (0, 0, 0, None)
    assert deadlines.due(T0 + timedelta(days=1), 10) == []


def test_advance_stores_the_deadlines_with_the_position_and_due_lists_the_oldest_first(
    deadlines: AbstractPaymentDeadlines,
) -> None:
    changes, ids = opened(late=timedelta(minutes=5), early=timedelta(minutes=1), middle=timedelta(minutes=3))
    deadlines.advance(changes, OutboxPosition(7, 42))

    assert deadlines.position() == OutboxPosition(7, 42)
    assert deadlines.due(T0 + timedelta(minutes=4), 10) == [ids["early"], ids["middle"]]
    assert deadlines.due(T0 + timedelta(minutes=10), 2) == [ids["early"], ids["middle"]]
    assert deadlines.due(T0 + timedelta(minutes=1), 10) == []  # placed at the bound: not before it
    summary = deadlines.summary(T0 + timedelta(minutes=4))
    assert (summary.pending, summary.overdue, summary.oldest_placed_at) == (3, 2, T0 + timedelta(minutes=1))


def test_opening_twice_keeps_the_first_and_closing_what_is_not_open_does_nothing(
    deadlines: AbstractPaymentDeadlines,
) -> None:
    changes, ids = opened(order=timedelta(0))
    deadlines.advance(changes, OutboxPosition(1, 1))
    again = DeadlineChanges(opened={ids["order"]: T0 + timedelta(hours=1)}, closed={uuid.uuid4()})
    deadlines.advance(again, OutboxPosition(1, 2))

    assert deadlines.due(T0 + timedelta(seconds=1), 10) == [ids["order"]]
    assert deadlines.summary(T0).oldest_placed_at == T0
    assert deadlines.position() == OutboxPosition(1, 2)


def test_closed_and_settled_deadlines_are_gone(deadlines: AbstractPaymentDeadlines) -> None:
    changes, ids = opened(paid=timedelta(0), expired=timedelta(0), waiting=timedelta(0))
    deadlines.advance(changes, OutboxPosition(1, 3))
    deadlines.advance(DeadlineChanges(closed={ids["paid"]}), OutboxPosition(2, 4))
    deadlines.settle([ids["expired"]])
    deadlines.settle([])

    assert deadlines.due(T0 + timedelta(days=1), 10) == [ids["waiting"]]
    assert deadlines.summary(T0).pending == 1


def test_a_deadline_failing_max_attempts_times_is_parked_until_retried(deadlines: AbstractPaymentDeadlines) -> None:
    changes, ids = opened(stuck=timedelta(0), fine=timedelta(seconds=1))
    deadlines.advance(changes, OutboxPosition(1, 2))
    later = T0 + timedelta(hours=1)

    assert deadlines.fail(ids["stuck"], "boom", max_attempts=2, now=later) is False
    assert deadlines.due(later, 10) == [ids["stuck"], ids["fine"]]  # still due after one failure
    assert deadlines.fail(ids["stuck"], "boom " * 1000, max_attempts=2, now=later) is True
    assert deadlines.fail(uuid.uuid4(), "not open", max_attempts=1, now=later) is False

    assert deadlines.due(later, 10) == [ids["fine"]]
    summary = deadlines.summary(later)
    assert (summary.pending, summary.overdue, summary.parked) == (1, 1, 1)
    assert deadlines.retry_parked() == 1
    assert deadlines.retry_parked() == 0
    assert deadlines.due(later, 10) == [ids["stuck"], ids["fine"]]
    assert deadlines.fail(ids["stuck"], "boom", max_attempts=2, now=later) is False  # attempts start again
