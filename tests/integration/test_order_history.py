"""`orderAsOf` on real services: an order folded from the audit trail at each moment of its journey equals the
live document as the projector wrote it right after that moment."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime, timedelta

import sqlalchemy as sa
from elasticsearch import AsyncElasticsearch, Elasticsearch

from api import bootstrap
from read_model.adapters.elasticsearch_order_history import ElasticsearchOrderHistory
from read_model.indexes import IndexNames
from read_model.views import OrderView
from tests.integration.test_command_bus_contract import CONTEXT, create_product, register
from write_model import commands
from write_model.bus import CommandBus


def last_event_time(engine: sa.Engine) -> datetime:
    with engine.connect() as connection:
        at: datetime = connection.execute(
            sa.text("SELECT occurred_at FROM outbox ORDER BY transaction_id DESC, position DESC LIMIT 1")
        ).scalar_one()
    return at


def test_an_order_as_it_stood_at_each_moment_equals_the_live_document_then(
    bus: CommandBus,
    engine: sa.Engine,
    projector: bootstrap.ProjectorProcess,
    es: Elasticsearch,
    elasticsearch_url: str,
    index_prefix: str,
) -> None:
    customer = register(bus).aggregate_id
    product = create_product(bus, stock=10, price="4.00").aggregate_id
    address = commands.AddressRequest(name="Ada", line1="1 Main St", city="Berlin", postal_code="10115", country="DE")
    line = (commands.OrderLineRequest(product_id=product, quantity=3),)
    order = bus.handle(
        commands.PlaceOrder(customer_id=customer, lines=line, shipping_address=address), CONTEXT
    ).aggregate_id
    steps: list[Callable[[], object]] = [
        lambda: None,  # the placing itself
        lambda: bus.handle(
            commands.PayOrder(
                order_id=order, payment=commands.PaymentRequest(amount="12.00", method="WALLET", reference="w-1")
            ),
            CONTEXT,
        ),
        lambda: bus.handle(commands.UpdateCustomer(customer_id=customer, name="Ada Renamed"), CONTEXT),
        lambda: bus.handle(
            commands.RefundOrder(
                order_id=order,
                amount="4.00",
                reference="r-1",
                returned_lines=(commands.ReturnRequest(product_id=product, quantity=1),),
            ),
            CONTEXT,
        ),
        lambda: bus.handle(commands.CancelOrder(order_id=order, reason="changed plans"), CONTEXT),
    ]
    live: list[tuple[datetime, OrderView]] = []
    for step in steps:
        step()
        projector.projector.run_until_caught_up()
        document = es.get(index=f"{index_prefix}orders", id=str(order))["_source"]
        live.append((last_event_time(engine), OrderView.of(document)))

    async def folded(at: datetime) -> OrderView | None:
        async with AsyncElasticsearch(elasticsearch_url) as client:
            return await ElasticsearchOrderHistory(client, IndexNames(index_prefix)).as_of(str(order), at)

    for at, view in live:
        assert asyncio.run(folded(at)) == view, at
    names = [view.customer_name for _, view in live]
    assert names[1] != names[2] == "Ada Renamed", "the rename is in the history too"
    assert [view.status for _, view in live] == ["PLACED", "PAID", "PAID", "PAID", "CANCELLED"]
    assert asyncio.run(folded(live[0][0] - timedelta(microseconds=1))) is None, "before it was placed"
