"""The write side on real PostgreSQL: a change and its events commit together or not at all."""

from __future__ import annotations

import contextlib
import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

import psycopg
import pytest
import sqlalchemy as sa

from write_model.adapters.repositories import driver
from write_model.adapters.unit_of_work import SqlAlchemyUnitOfWork
from write_model.bus import CommandBus
from write_model.commands import CreateProduct
from write_model.domain.errors import DuplicateSku, StoreUnavailable, TransientConflict
from write_model.domain.products import Product
from write_model.outbox import OUTBOX_CHANNEL, CommandContext
from write_model.results import Outcome

CONTEXT = CommandContext(actor="tester", request_id="corr-42")


def keyed_context() -> CommandContext:
    return CommandContext(actor="tester", request_id="corr-42", idempotency_key=f"key-{uuid.uuid4()}")


def unique_sku() -> str:
    return f"SKU-{uuid.uuid4().hex[:12]}"


def new_product(sku: str) -> Product:
    return Product.create(
        id=uuid.uuid4(),
        sku=sku,
        name="Kettle",
        description="",
        brand="Acme",
        category="Kitchen",
        tags=[],
        price="30.00",
        initial_stock=1,
        now=datetime.now(UTC),
    )


def rows_for(engine: sa.Engine, aggregate_id: uuid.UUID) -> tuple[int, list[sa.Row[tuple[object, ...]]]]:
    with engine.connect() as connection:
        products = connection.execute(
            sa.text("SELECT count(*) FROM products WHERE id = :id"), {"id": aggregate_id}
        ).scalar_one()
        events = connection.execute(
            sa.text(
                "SELECT position, transaction_id::text AS txid, aggregate_type, aggregate_version, event_type,"
                " payload, metadata FROM outbox WHERE aggregate_id = :id"
            ),
            {"id": aggregate_id},
        ).all()
    return products, list(events)


def test_a_created_product_and_its_event_are_committed_together(engine: sa.Engine, bus: CommandBus) -> None:
    sku = unique_sku()
    context = keyed_context()
    changed = bus.handle(
        CreateProduct(sku=sku, name="Kettle", brand="Acme", category="Kitchen", price="30.00", tags=("tea",)), context
    )
    count, events = rows_for(engine, changed.aggregate_id)
    assert count == 1
    (event,) = events
    assert event.event_type == "ProductCreated"
    assert event.aggregate_type == "Product"
    assert event.aggregate_version == 1
    assert event.payload["sku"] == sku
    assert event.payload["price"] == "30.00"
    assert event.payload["schema_version"] == 1
    assert event.metadata == {
        "actor": "tester",
        "request_id": "corr-42",
        "causation_id": None,
        "idempotency_key": context.idempotency_key,
    }
    assert (int(event.txid), event.position) == (changed.position.transaction_id, changed.position.position)


def test_an_aggregate_changed_again_after_being_added_is_stored_with_its_last_state(engine: sa.Engine) -> None:
    # One command per transaction never does this; a loader running many commands in one transaction does.
    product = new_product(unique_sku())
    with SqlAlchemyUnitOfWork(engine, CONTEXT) as uow:
        uow.products.add(product)
        uow.products.get(product.id).restock(4, now=datetime.now(UTC))
        uow.commit(Outcome(product.id, product.version, None))
    with SqlAlchemyUnitOfWork(engine, CONTEXT) as uow:
        stored = uow.products.get(product.id, lock=False)
    assert (stored.version, stored.stock) == (2, 5)
    _, events = rows_for(engine, product.id)
    assert [(event.aggregate_version, event.event_type) for event in events] == [
        (1, "ProductCreated"),
        (2, "ProductRestocked"),
    ]


def test_a_handler_that_fails_after_writing_leaves_neither_row_nor_event(engine: sa.Engine) -> None:
    product = new_product(unique_sku())

    def write_then_fail() -> None:
        with SqlAlchemyUnitOfWork(engine, CONTEXT) as uow:
            uow.products.add(product)
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        write_then_fail()
    assert rows_for(engine, product.id) == (0, [])


def test_a_commit_whose_outbox_write_conflicts_leaves_no_product_row_and_is_retryable(engine: sa.Engine) -> None:
    product = new_product(unique_sku())
    # Another event already holds (this aggregate id, version 1). Its type is one no projection reads.
    with engine.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO outbox (aggregate_type, aggregate_id, aggregate_version, event_type, payload, metadata,"
                " occurred_at) VALUES ('Probe', :id, 1, 'ProbeRecorded', '{}', '{}', now())"
            ),
            {"id": product.id},
        )

    def write_and_commit() -> None:
        with SqlAlchemyUnitOfWork(engine, CONTEXT) as uow:
            uow.products.add(product)
            uow.commit(Outcome(product.id, product.version))

    with pytest.raises(TransientConflict):
        write_and_commit()
    count, events = rows_for(engine, product.id)
    assert count == 0
    assert len(events) == 1


def test_concurrent_creates_of_one_sku_give_one_product_and_one_duplicate(engine: sa.Engine, bus: CommandBus) -> None:
    sku = unique_sku()
    barrier = threading.Barrier(2)
    outcomes: list[object] = []

    def create() -> None:
        barrier.wait()
        try:
            outcomes.append(bus.handle(CreateProduct(sku=sku, name="N", brand="B", category="C", price="1"), CONTEXT))
        except DuplicateSku as error:
            outcomes.append(error)

    threads = [threading.Thread(target=create) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(type(o).__name__ for o in outcomes) == ["Changed", "DuplicateSku"]
    with engine.connect() as connection:
        assert connection.execute(sa.text("SELECT count(*) FROM products WHERE sku = :s"), {"s": sku}).scalar() == 1
        assert (
            connection.execute(sa.text("SELECT count(*) FROM outbox WHERE payload->>'sku' = :s"), {"s": sku}).scalar()
            == 1
        )


def _notifications(listener: psycopg.Connection) -> list[str]:
    """The notifications `listener` holds on the outbox channel, waiting a little for them to come."""
    return [note.payload for note in listener.notifies(timeout=0.5) if note.channel == OUTBOX_CHANNEL]


def test_a_commit_wakes_the_outbox_tailers_once(engine: sa.Engine) -> None:
    url = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(url, autocommit=True) as listener:
        listener.execute(f"LISTEN {OUTBOX_CHANNEL}")
        first, second = new_product(unique_sku()), new_product(unique_sku())
        with SqlAlchemyUnitOfWork(engine, CONTEXT) as uow:
            uow.products.add(first)
            uow.products.add(second)
            uow.commit(Outcome(first.id, first.version, None))
        # Two events, one transaction: one notification (PostgreSQL folds identical ones).
        assert _notifications(listener) == [""]


def test_a_connection_lost_mid_command_is_store_unavailable_and_the_pool_drops_it(engine: sa.Engine) -> None:
    """The repositories' statements run on the driver's connection: a connection that dies under one of them
    is still `StoreUnavailable` (the bus answers that, rather than an internal error), and the pool does not
    hand it out again."""
    product = new_product(unique_sku())

    def write_after_losing_the_connection() -> None:
        with SqlAlchemyUnitOfWork(engine, CONTEXT) as uow:
            uow.customers.get_many([uuid.uuid4()])
            with engine.connect() as other:
                backend = uow.products._driver.info.backend_pid
                other.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": backend})
            uow.products.get_many([product.id])  # on the driver's connection, past SQLAlchemy

    with pytest.raises(StoreUnavailable):
        write_after_losing_the_connection()
    assert rows_for(engine, product.id) == (0, [])
    for _ in range(engine.pool.size() + 1):  # every pooled connection is alive
        with SqlAlchemyUnitOfWork(engine, CONTEXT) as uow:
            assert uow.products.get_many([product.id]) == {}


def test_pooled_connections_the_server_closed_while_idle_are_replaced_at_checkout(engine: sa.Engine) -> None:
    """The pool checks a connection without a round trip when handing it out (a closed socket reads as
    ready): after the server ended every idle backend, as a restart does, the next commands all succeed on
    fresh connections."""
    held = [engine.connect() for _ in range(3)]
    backends = [driver(connection).info.backend_pid for connection in held]
    for connection in held:
        connection.close()
    with psycopg.connect(
        engine.url.render_as_string(hide_password=False).replace("+psycopg", ""), autocommit=True
    ) as admin:
        ended = admin.execute(
            "SELECT count(*) FROM unnest(%s::int[]) AS pid WHERE pg_terminate_backend(pid)", [backends]
        )
        assert ended.fetchone() == (3,)
        _wait_until_gone(admin, backends)
    connects = _count_connects(engine)
    products = [new_product(unique_sku()) for _ in range(3)]
    with contextlib.ExitStack() as stack:  # three at once, so that each of the three closed ones is handed out
        for product in products:
            uow = stack.enter_context(SqlAlchemyUnitOfWork(engine, CONTEXT))
            uow.products.add(product)
            uow.commit(Outcome(product.id, product.version, product.status.value))
    assert [rows_for(engine, product.id)[0] for product in products] == [1, 1, 1]
    assert connects() == 3


def test_a_healthy_pooled_connection_is_handed_out_again_without_reconnecting(engine: sa.Engine) -> None:
    with SqlAlchemyUnitOfWork(engine, CONTEXT) as uow:
        uow.products.get_many([uuid.uuid4()])
    connects = _count_connects(engine)
    for _ in range(20):
        with SqlAlchemyUnitOfWork(engine, CONTEXT) as uow:
            uow.products.get_many([uuid.uuid4()])
    assert connects() == 0


def _count_connects(engine: sa.Engine) -> Callable[[], int]:
    """From now on, how many connections `engine`'s pool opens."""
    opened: list[object] = []
    sa.event.listen(engine, "connect", lambda connection, record: opened.append(connection))
    return lambda: len(opened)


def _wait_until_gone(admin: psycopg.Connection[tuple[object, ...]], backends: list[int]) -> None:
    """pg_terminate_backend only signals: wait for the backends to have exited (and closed their sockets)."""
    for _ in range(500):
        left = admin.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = ANY(%s)", [backends]).fetchone()
        if left == (0,):
            return
        admin.execute("SELECT pg_sleep(0.01)")
    raise AssertionError(f"the backends {backends} did not exit")
