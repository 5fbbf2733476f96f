from __future__ import annotations

import itertools
import uuid
from datetime import UTC, datetime
from functools import partial

import pytest

from tests.fakes import FakeStore, FakeUnitOfWork
from write_model import handlers
from write_model.bus import CommandBus
from write_model.commands import CreateProduct
from write_model.domain.errors import DuplicateSku, TransientConflict, ValidationFailed
from write_model.outbox import CommandContext
from write_model.unit_of_work import AbstractUnitOfWork

CONTEXT = CommandContext(actor="test", correlation_id="corr-1")


def make_bus(store: FakeStore, **kwargs: object) -> CommandBus:
    ids = (uuid.UUID(int=i) for i in itertools.count(1))
    handler = partial(handlers.create_product, clock=lambda: datetime(2026, 1, 1, tzinfo=UTC), new_id=lambda: next(ids))
    return CommandBus(lambda context: FakeUnitOfWork(store, context), {CreateProduct: handler}, **kwargs)  # type: ignore[arg-type]


def command(**overrides: object) -> CreateProduct:
    fields: dict[str, object] = {"sku": "S-1", "name": "N", "brand": "B", "category": "C", "price": "1.00"}
    fields.update(overrides)
    return CreateProduct(**fields)  # type: ignore[arg-type]


def test_create_product_commits_the_product_and_exactly_one_event() -> None:
    store = FakeStore()
    changed = make_bus(store).handle(command(), CONTEXT)
    assert changed.version == 1
    assert list(store.products) == ["S-1"]
    (record,) = store.outbox
    assert record.event_type == "ProductCreated"
    assert record.aggregate_id == changed.aggregate_id
    assert record.aggregate_version == 1
    assert (changed.position.transaction_id, changed.position.position) == (record.transaction_id, record.position)


def test_a_refused_command_writes_nothing() -> None:
    store = FakeStore()
    bus = make_bus(store)
    with pytest.raises(ValidationFailed):
        bus.handle(command(name=""), CONTEXT)
    bus.handle(command(), CONTEXT)
    with pytest.raises(DuplicateSku):
        bus.handle(command(name="Other"), CONTEXT)
    assert len(store.products) == 1
    assert len(store.outbox) == 1


def test_transient_conflicts_are_retried_then_surface_after_the_last_attempt() -> None:
    store = FakeStore()
    attempts: list[int] = []
    sleeps: list[float] = []

    def flaky(cmd: CreateProduct, uow: AbstractUnitOfWork) -> handlers.Changed:
        attempts.append(1)
        if len(attempts) < 3:
            raise TransientConflict("deadlock")
        return handlers.create_product(
            cmd, uow, clock=lambda: datetime(2026, 1, 1, tzinfo=UTC), new_id=lambda: uuid.UUID(int=9)
        )

    bus = CommandBus(lambda c: FakeUnitOfWork(store, c), {CreateProduct: flaky}, max_attempts=3, sleep=sleeps.append)
    assert bus.handle(command(), CONTEXT).aggregate_id == uuid.UUID(int=9)
    assert len(attempts) == 3
    assert len(sleeps) == 2

    def always(cmd: CreateProduct, uow: AbstractUnitOfWork) -> handlers.Changed:
        raise TransientConflict("deadlock")

    stubborn = CommandBus(
        lambda c: FakeUnitOfWork(store, c), {CreateProduct: always}, max_attempts=2, sleep=sleeps.append
    )
    with pytest.raises(TransientConflict):
        stubborn.handle(command(), CONTEXT)


def test_a_command_without_a_handler_is_a_programming_error() -> None:
    bus = CommandBus(lambda c: FakeUnitOfWork(FakeStore(), c), {})
    with pytest.raises(LookupError, match="CreateProduct"):
        bus.handle(command(), CONTEXT)
