"""Walking the graph on real services: each level of a query is fetched in one multi-get, never per node.

The schema runs in process over the real read model, so that every request its Elasticsearch client
sends is counted at the transport.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Iterator
from typing import Any

import elastic_transport
import pytest
from elasticsearch import AsyncElasticsearch
from starlette.requests import Request

from api import bootstrap
from api.auth import Actor, Role
from api.context import Context
from api.cost import RequestBudget
from api.ids import to_global_id
from api.observation import Observation
from api.pagination import Cursors
from api.schema import build_schema
from api.settings import Settings
from api.write_threads import WriteThreads
from tests.conftest import own_database
from tests.fakes import FakeStore, fake_command_bus
from write_model import commands
from write_model.bus import CommandBus
from write_model.outbox import CommandContext

CONTEXT = CommandContext(actor="tester", request_id="graph")
ADMIN = Actor(Role.ADMIN, subject="tester")
PAGE = """
query($first: Int) {
  orders(first: $first) {
    totalCount
    edges { node { id customer { id } buyer { id name orderCount } lines { sku product { id sku stock } } } }
    %s
  }
}
"""

# A database of each test's own: the page of orders must hold this test's orders only.
database_url = own_database()


@pytest.fixture
def shop(bus: CommandBus, projector: bootstrap.ProjectorProcess) -> dict[str, Any]:
    """Five customers and four products; 55 orders of two or three lines each, spread over both."""
    customers = [
        bus.handle(
            commands.RegisterCustomer(name=f"Buyer {n}", email=f"b{n}-{uuid.uuid4().hex[:6]}@example.com"), CONTEXT
        ).aggregate_id
        for n in range(5)
    ]
    products = [
        bus.handle(
            commands.CreateProduct(
                sku=f"G-{n}-{uuid.uuid4().hex[:6]}", name=f"Thing {n}", brand="B", category="C", price="1.00",
                initial_stock=1_000,
            ),
            CONTEXT,
        ).aggregate_id
        for n in range(4)
    ]  # fmt: skip
    for n in range(55):
        lines = tuple(commands.OrderLineRequest(product_id=products[(n + k) % 4], quantity=1) for k in range(2 + n % 2))
        bus.handle(commands.PlaceOrder(customer_id=customers[n % 5], lines=lines), CONTEXT)
    projector.projector.run_until_caught_up()
    return {"customers": customers, "products": products}


class Counted:
    """Counts the HTTP requests every Elasticsearch client of this process sends, while in use."""

    def __init__(self) -> None:
        self.requests: list[str] = []

    @contextlib.contextmanager
    def counting(self) -> Iterator[None]:
        perform = elastic_transport.AsyncTransport.perform_request

        async def counted(transport: Any, method: str, target: str, *args: Any, **kwargs: Any) -> Any:
            self.requests.append(f"{method} {target.split('?')[0]}")
            return await perform(transport, method, target, *args, **kwargs)

        elastic_transport.AsyncTransport.perform_request = counted  # type: ignore[method-assign]
        try:
            yield
        finally:
            elastic_transport.AsyncTransport.perform_request = perform  # type: ignore[method-assign]


def execute(settings: Settings, query: str, actor: Actor, counted: Counted, **variables: Any) -> dict[str, Any]:
    """`query` run by the real schema over the real read model, as `actor`; its requests counted."""

    async def run() -> dict[str, Any]:
        async with AsyncElasticsearch(settings.elasticsearch_url) as client:
            context = Context(
                settings=settings,
                read=bootstrap.build_read_model(settings, client),
                command_bus=fake_command_bus(FakeStore()),
                request=Request(
                    {
                        "type": "http",
                        "method": "POST",
                        "path": "/graphql",
                        "headers": [],
                        "state": {"observation": Observation("r-1")},
                    }
                ),
                actor=actor,
                request_id="r-1",
                cursors=Cursors("a secret of at least thirty-two characters"),
                budget=RequestBudget(settings.max_cost),
                searches=asyncio.Semaphore(settings.max_request_searches),
                write_threads=WriteThreads(1),
            )
            with counted.counting():
                result = await build_schema(settings).execute(query, variable_values=variables, context_value=context)
            # Let a point in time nobody pages through close on this client, which is still open.
            await asyncio.gather(*(task for task in asyncio.all_tasks() if task is not asyncio.current_task()))
        assert result.errors is None, result.errors
        assert result.data is not None
        return result.data

    return asyncio.run(run())


@pytest.mark.parametrize(
    ("paging", "requests"),
    [
        # Nobody can page on: the search, and one multi-get for every buyer and product of the page.
        ("", ["_search", "_mget"]),
        # The client can page on: the page's point in time first.
        ("pageInfo { endCursor }", ["_pit", "_search", "_mget"]),
    ],
)
def test_a_page_of_fifty_orders_with_buyers_and_products_costs_a_search_and_a_multi_get(
    settings: Settings, shop: dict[str, Any], paging: str, requests: list[str]
) -> None:
    counted = Counted()
    data = execute(settings, PAGE % paging, ADMIN, counted, first=50)

    orders = data["orders"]["edges"]
    assert (len(orders), data["orders"]["totalCount"]) == (50, 55)
    assert [request.rsplit("/", 1)[-1] for request in counted.requests] == requests, counted.requests
    for edge in orders:
        order = edge["node"]
        assert order["buyer"]["id"] == order["customer"]["id"]
        assert order["buyer"]["orderCount"] == 11
        for line in order["lines"]:
            assert line["product"]["sku"] == line["sku"]
            assert line["product"]["id"] in {to_global_id("Product", p) for p in shop["products"]}
