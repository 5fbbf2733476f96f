"""The customer report on real services, over a history written at chosen times through the real handlers."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from elasticsearch import AsyncElasticsearch

from api import bootstrap
from read_model.adapters import elasticsearch_customer_report
from read_model.adapters.elasticsearch_customer_report import ElasticsearchCustomerReports
from read_model.indexes import IndexNames
from read_model.search.customers import CustomerBucketFigures, CustomerFigures
from tests.conftest import own_database
from write_model import commands
from write_model.outbox import CommandContext

CONTEXT = CommandContext(actor="tester", request_id="customer-report")
JAN = [datetime(2026, 1, day, tzinfo=UTC) for day in range(1, 5)]

# A database of each test's own: the report counts every customer and order in it.
database_url = own_database()


@pytest.fixture
def history(engine: sa.Engine, projector: bootstrap.ProjectorProcess) -> dict[str, str]:
    """Ada and Bob register on January 1st, Cy on the 2nd. Ada orders on the 1st and the 2nd; Bob's order of
    the 1st is cancelled, his order of the 2nd stands; Cy orders on the 3rd, after the reported period."""
    now = [JAN[0].replace(hour=9)]
    bus = bootstrap.build_command_bus(engine, clock=lambda: now[0])

    def at(day: int, hour: int) -> None:
        now[0] = JAN[day - 1].replace(hour=hour)

    product = bus.handle(
        commands.CreateProduct(
            sku=f"R-{uuid.uuid4().hex[:8]}", name="Mug", brand="B", category="C", price="5.00", initial_stock=100
        ),
        CONTEXT,
    ).aggregate_id

    def register(name: str) -> uuid.UUID:
        email = f"{name.lower()}-{uuid.uuid4().hex[:6]}@example.com"
        return bus.handle(commands.RegisterCustomer(name=name, email=email), CONTEXT).aggregate_id

    def order(customer: uuid.UUID, quantity: int) -> uuid.UUID:
        line = commands.OrderLineRequest(product_id=product, quantity=quantity)
        return bus.handle(commands.PlaceOrder(customer_id=customer, lines=(line,)), CONTEXT).aggregate_id

    at(1, 10)
    ada, bob = register("Ada"), register("Bob")
    at(1, 12)
    order(ada, 2)  # 10.00
    at(1, 13)
    cancelled = order(bob, 10)  # 50.00
    at(1, 15)
    bus.handle(commands.CancelOrder(order_id=cancelled), CONTEXT)
    at(2, 9)
    cy = register("Cy")
    at(2, 12)
    order(ada, 4)  # 20.00
    at(2, 14)
    order(bob, 1)  # 5.00
    at(3, 8)
    order(cy, 1)
    projector.projector.run_until_caught_up()
    return {"ada": str(ada), "bob": str(bob), "cy": str(cy)}


def report(elasticsearch_url: str, prefix: str, start: datetime, end: datetime, interval: str) -> CustomerFigures:
    async def run() -> CustomerFigures:
        async with AsyncElasticsearch(elasticsearch_url) as client:
            return await ElasticsearchCustomerReports(client, IndexNames(prefix)).report(start, end, interval)

    return asyncio.run(run())


@pytest.mark.parametrize("pairs_per_page", [elasticsearch_customer_report.PAIRS_PER_PAGE, 1])
def test_the_report_counts_registrations_and_ordering_and_repeat_customers_exactly(
    history: dict[str, str],
    elasticsearch_url: str,
    index_prefix: str,
    pairs_per_page: int,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(elasticsearch_customer_report, "PAIRS_PER_PAGE", pairs_per_page)
    figures = report(elasticsearch_url, index_prefix, JAN[0], JAN[2], "DAY")
    assert (figures.new_customers, figures.ordering_customers, figures.repeat_customers) == (3, 2, 1)
    assert figures.buckets == [CustomerBucketFigures(JAN[0], 2, 1), CustomerBucketFigures(JAN[1], 1, 2)]
    assert [(top.customer_id, top.name, top.order_count, top.revenue_cents) for top in figures.top_customers] == [
        (history["ada"], "Ada", 2, 3_000),
        (history["bob"], "Bob", 1, 500),
    ]


def test_hours_and_weeks_give_their_buckets_empty_ones_included(
    history: dict[str, str], elasticsearch_url: str, index_prefix: str
) -> None:
    hours = report(elasticsearch_url, index_prefix, JAN[0].replace(hour=10), JAN[0].replace(hour=14), "HOUR")
    assert [(b.start.hour, b.new_customers, b.ordering_customers) for b in hours.buckets] == [
        (10, 2, 0),
        (11, 0, 0),
        (12, 0, 1),
        (13, 0, 0),
    ]
    weeks = report(elasticsearch_url, index_prefix, JAN[0], JAN[3], "WEEK")
    # January 1st, 2026 is a Thursday: its week began on Monday, December 29th.
    assert [b.start for b in weeks.buckets] == [datetime(2025, 12, 29, tzinfo=UTC)]
    assert (weeks.new_customers, weeks.ordering_customers, weeks.repeat_customers) == (3, 3, 1)
