from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, datetime

import pytest

from tests.fakes import FakeStore, FakeUnitOfWork, fake_command_bus
from write_model import handlers
from write_model.bus import CommandBus
from write_model.commands import CreateProduct, OrderLineRequest, PlaceOrder, RegisterCustomer
from write_model.domain.errors import DuplicateSku, TransientConflict, ValidationFailed
from write_model.outbox import CommandContext
from write_model.results import Outcome
from write_model.unit_of_work import AbstractUnitOfWork

CONTEXT = CommandContext(actor="test", request_id="corr-1")


def command(**overrides: object) -> CreateProduct:
    fields: dict[str, object] = {"sku": "S-1", "name": "N", "brand": "B", "category": "C", "price": "1.00"}
    fields.update(overrides)
    return CreateProduct(**fields)  # type: ignore[arg-type]


def test_create_product_commits_the_product_and_exactly_one_event() -> None:
    store = FakeStore()
    changed = fake_command_bus(store).handle(command(), CONTEXT)
    assert changed.version == 1
    assert [p.sku for p in store.products.values()] == ["S-1"]
    (record,) = store.outbox
    assert record.event_type == "ProductCreated"
    assert record.aggregate_id == changed.aggregate_id
    assert record.aggregate_version == 1
    assert (changed.position.transaction_id, changed.position.position) == (record.transaction_id, record.position)


def test_a_refused_command_writes_nothing() -> None:
    store = FakeStore()
    bus = fake_command_bus(store)
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

    def flaky(cmd: CreateProduct, uow: AbstractUnitOfWork) -> Outcome:
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

    def always(cmd: CreateProduct, uow: AbstractUnitOfWork) -> Outcome:
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


def keyed(key: str) -> CommandContext:
    return CommandContext(actor="test", request_id="corr-2", idempotency_key=key)


def test_a_repeated_idempotency_key_returns_the_first_result_and_writes_nothing() -> None:
    store = FakeStore()
    bus = fake_command_bus(store)
    product = bus.handle(command(initial_stock=5), CONTEXT).aggregate_id
    customer = bus.handle(RegisterCustomer(name="Ada", email="ada@example.com"), CONTEXT).aggregate_id
    order = PlaceOrder(customer_id=customer, lines=(OrderLineRequest(product_id=product, quantity=2),))

    first = bus.handle(order, keyed("k-1"))
    events = len(store.outbox)
    again = bus.handle(order, keyed("k-1"))

    assert (first.replayed, again.replayed) == (False, True)
    assert dataclasses.replace(again, replayed=False) == first
    assert len(store.outbox) == events
    assert len(store.orders) == 1
    assert store.products[product].stock == 3


def test_a_key_reused_with_another_input_is_refused_by_code() -> None:
    store = FakeStore()
    bus = fake_command_bus(store)
    bus.handle(command(), keyed("k-1"))
    with pytest.raises(ValidationFailed) as caught:
        bus.handle(command(sku="S-2"), keyed("k-1"))
    assert caught.value.code == "IDEMPOTENCY_KEY_REUSED"
    assert [f.field for f in caught.value.fields] == ["idempotencyKey"]
    assert len(store.products) == 1


def test_a_key_of_a_refused_command_stays_free_for_the_corrected_retry() -> None:
    store = FakeStore()
    bus = fake_command_bus(store)
    with pytest.raises(ValidationFailed):
        bus.handle(command(name=""), keyed("k-1"))
    assert bus.handle(command(), keyed("k-1")).version == 1


@pytest.mark.parametrize("key", ["", "has space", "x" * 256, "naïve"])
def test_a_malformed_key_is_a_field_error(key: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        fake_command_bus(FakeStore()).handle(command(), keyed(key))
    assert [f.field for f in caught.value.fields] == ["idempotencyKey"]
