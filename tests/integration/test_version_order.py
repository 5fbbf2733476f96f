"""An aggregate's events reach the projector in transaction-id order, which need not be their version order.

A transaction's id is taken at its first write. The command bus claims an idempotency key first, so a
command that claims its key, then waits for an aggregate another command holds, has the smaller
transaction id and the later version.
"""

from __future__ import annotations

import threading
import uuid
from typing import Any

import sqlalchemy as sa
from elasticsearch import Elasticsearch

from api import bootstrap
from write_model import commands
from write_model.adapters.unit_of_work import SqlAlchemyUnitOfWork
from write_model.bus import CommandBus
from write_model.outbox import CommandContext

CONTEXT = CommandContext(actor="tester", request_id="version-order")


def test_versions_committed_in_the_other_order_than_their_transaction_ids_are_all_applied(
    engine: sa.Engine, bus: CommandBus, projector: bootstrap.ProjectorProcess, es: Elasticsearch, index_prefix: str
) -> None:
    product = bus.handle(
        commands.CreateProduct(sku=f"VO-{uuid.uuid4().hex[:8]}", name="Kettle", brand="B", category="C", price="20"),
        CONTEXT,
    ).aggregate_id
    claimed, go_on = threading.Event(), threading.Event()
    handlers = bootstrap.command_handlers()
    restock = handlers[commands.RestockProduct]

    def restock_once_the_price_changed(command: Any, uow: Any) -> Any:
        claimed.set()  # the bus has claimed the key: this transaction has its id
        assert go_on.wait(10)
        return restock(command, uow)

    slow = CommandBus(
        lambda context: SqlAlchemyUnitOfWork(engine, context),
        {**handlers, commands.RestockProduct: restock_once_the_price_changed},
    )
    keyed = CommandContext(actor="tester", request_id="slow", idempotency_key=f"k-{uuid.uuid4().hex}")
    thread = threading.Thread(target=slow.handle, args=(commands.RestockProduct(product_id=product, quantity=4), keyed))
    thread.start()
    assert claimed.wait(10)
    bus.handle(commands.ChangeProductPrice(product_id=product, price="25.00"), CONTEXT)  # version 2
    go_on.set()
    thread.join()  # version 3, in the transaction with the smaller id

    projector.projector.run_until_caught_up()
    document = es.get(index=f"{index_prefix}products", id=str(product))["_source"]
    assert (document["version"], document["stock"], document["price"]) == (3, 4, "25.00")
