"""The customer search on real services: customers written through the bus, indexed by the projector."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from elasticsearch import AsyncElasticsearch

from api import bootstrap
from read_model.adapters._snapshots import OpenSearches
from read_model.adapters.elasticsearch_customer_search import ElasticsearchCustomerSearch
from read_model.errors import InvalidSearchPosition
from read_model.indexes import IndexNames
from read_model.search.customers import CustomerCriteria, CustomerPage
from tests.conftest import own_database
from write_model import commands
from write_model.bus import CommandBus
from write_model.outbox import CommandContext

CONTEXT = CommandContext(actor="tester", request_id="customer-search")

# A database of each test's own: the searches count and rank every customer, which must be this test's.
database_url = own_database()


@dataclass(frozen=True)
class Shop:
    """The customers written, by name, and a way to search them."""

    ids: dict[str, str]
    elasticsearch_url: str
    names: IndexNames

    def __call__(self, criteria: CustomerCriteria, size: int = 20, **paging: Any) -> CustomerPage:
        async def search() -> CustomerPage:
            async with AsyncElasticsearch(self.elasticsearch_url) as client:
                page = await ElasticsearchCustomerSearch(client, self.names).search(criteria, size=size, **paging)
                # A point in time nobody pages through is closed in the background: on this client, still open.
                await asyncio.gather(*(task for task in asyncio.all_tasks() if task is not asyncio.current_task()))
                return page

        return asyncio.run(search())

    def names_of(self, page: CustomerPage) -> list[str]:
        by_id = {customer_id: name for name, customer_id in self.ids.items()}
        return [by_id[str(hit.customer.id)] for hit in page.hits]


@pytest.fixture
def shop(bus: CommandBus, projector: bootstrap.ProjectorProcess, elasticsearch_url: str, index_prefix: str) -> Shop:
    """Four customers; Ada has two orders (one of them cancelled), Grace one, Adam and Alan none."""
    people = {
        "ada": ("Ada Lovelace", "ada.lovelace@example.com"),
        "grace": ("Grace Hopper", "GRACE@navy.example"),
        "adam": ("Adam Smith", "adam@example.com"),
        "alan": ("Alan Turing", "alan.turing@example.org"),
    }
    ids = {
        key: str(bus.handle(commands.RegisterCustomer(name=name, email=email), CONTEXT).aggregate_id)
        for key, (name, email) in people.items()
    }
    product = bus.handle(
        commands.CreateProduct(
            sku=f"CS-{uuid.uuid4().hex[:8]}", name="Kettle", brand="B", category="C", price="10.00", initial_stock=50
        ),
        CONTEXT,
    ).aggregate_id

    def paid_order(customer: str, quantity: int) -> uuid.UUID:
        line = commands.OrderLineRequest(product_id=product, quantity=quantity)
        placed = bus.handle(commands.PlaceOrder(customer_id=uuid.UUID(customer), lines=(line,)), CONTEXT)
        bus.handle(commands.PayOrder(order_id=placed.aggregate_id), CONTEXT)
        return placed.aggregate_id

    paid_order(ids["ada"], 1)  # 10.00
    paid_order(ids["ada"], 2)  # 20.00
    bus.handle(commands.CancelOrder(order_id=paid_order(ids["ada"], 5)), CONTEXT)  # 50.00, refunded and left out
    paid_order(ids["grace"], 4)  # 40.00
    projector.projector.run_until_caught_up()
    return Shop(ids, elasticsearch_url, IndexNames(index_prefix))


def test_a_typo_an_address_or_the_start_of_one_finds_the_customer_first(shop: Shop) -> None:
    typo = shop(CustomerCriteria(text="Ada Lovelcae"))
    assert shop.names_of(typo)[0] == "ada"
    assert typo.hits[0].highlights["name"] == ["<em>Ada</em> <em>Lovelace</em>"]
    assert shop.names_of(shop(CustomerCriteria(text="grace@NAVY.example")))[0] == "grace"
    by_start = shop(CustomerCriteria(text="alan.tu"))
    assert shop.names_of(by_start) == ["alan"]
    assert by_start.hits[0].highlights["email"] == ["<em>alan.turing@example.org</em>"]
    assert shop(CustomerCriteria(text="nobody at all")).total == 0


def test_statistics_leave_the_cancelled_order_out(shop: Shop) -> None:
    ada = next(hit.customer for hit in shop(CustomerCriteria()).hits if str(hit.customer.id) == shop.ids["ada"])
    assert (ada.order_count, ada.lifetime_value, ada.average_order_value) == (2, Decimal("30.00"), Decimal("15.00"))
    assert ada.first_order_at is not None
    assert ada.last_order_at is not None
    assert ada.first_order_at < ada.last_order_at
    assert ada.updated_at >= ada.last_order_at
    adam = next(hit.customer for hit in shop(CustomerCriteria(text="Adam Smith")).hits)
    assert (adam.order_count, adam.average_order_value, adam.first_order_at, adam.last_order_at) == (
        0,
        Decimal("0.00"),
        None,
        None,
    )


def test_every_filter_narrows_the_customers(shop: Shop) -> None:
    def found(**criteria: Any) -> set[str]:
        return set(shop.names_of(shop(CustomerCriteria(**criteria))))

    assert found() == {"ada", "grace", "adam", "alan"}
    assert found(min_order_count=1) == {"ada", "grace"}
    assert found(max_order_count=0) == {"adam", "alan"}
    assert found(min_order_count=2, max_order_count=2) == {"ada"}
    assert found(min_lifetime_value_cents=3_500) == {"grace"}
    assert found(min_lifetime_value_cents=3_000, max_lifetime_value_cents=3_000) == {"ada"}
    everyone = shop(CustomerCriteria(sort=(("REGISTERED_AT", "asc"),))).hits
    grace_registered = everyone[1].customer.created_at
    assert found(registered_from=grace_registered) == {"grace", "adam", "alan"}, "from is included"
    assert found(registered_to=grace_registered) == {"ada"}, "to is excluded"
    assert found(registered_to=grace_registered - timedelta(days=1)) == set()


def test_each_sort_and_paging_both_ways_without_repeats(shop: Shop) -> None:
    def order_of(field: str, direction: str | None = None) -> list[str]:
        return shop.names_of(shop(CustomerCriteria(sort=((field, direction),))))

    assert order_of("REGISTERED_AT") == ["alan", "adam", "grace", "ada"], "newest first"
    assert order_of("NAME") == ["ada", "adam", "alan", "grace"]
    assert order_of("LIFETIME_VALUE")[:2] == ["grace", "ada"]
    assert order_of("ORDER_COUNT")[:2] == ["ada", "grace"]
    assert order_of("LAST_ORDER_AT")[:2] == ["grace", "ada"]
    assert set(order_of("LAST_ORDER_AT")[2:]) == {"adam", "alan"}, "no order: after the others"
    assert order_of("LAST_ORDER_AT", "asc")[:2] == ["ada", "grace"]
    assert shop.names_of(shop(CustomerCriteria())) == order_of("REGISTERED_AT"), "the default without text"

    for sort in (("LAST_ORDER_AT", None), ("NAME", "desc"), ("RELEVANCE", None)):
        criteria = CustomerCriteria(text="ada" if sort[0] == "RELEVANCE" else None, sort=(sort,))
        whole = shop.names_of(shop(criteria))
        assert len(whole) >= 2, sort
        forward, cursor, snapshot = [], None, None
        while True:
            page = shop(criteria, size=1, search_after=cursor, snapshot=snapshot)
            forward += shop.names_of(page)
            if not page.has_more:
                break
            cursor, snapshot = page.hits[-1].sort, page.snapshot
        assert forward == whole, sort
        last_page = shop(criteria, size=1, backward=True)
        backward = shop.names_of(last_page)
        cursor, snapshot = last_page.hits[0].sort, last_page.snapshot
        while True:
            page = shop(criteria, size=1, search_after=cursor, backward=True, snapshot=snapshot)
            backward = shop.names_of(page) + backward
            if not page.has_more:
                break
            cursor, snapshot = page.hits[0].sort, page.snapshot
        assert backward == whole, sort


def test_a_search_nobody_can_page_on_opens_no_point_in_time(shop: Shop) -> None:
    page = shop(CustomerCriteria(), size=1, pageable=False)
    assert page.has_more
    assert page.snapshot is None  # one request: nothing to close, nothing left open
    assert len(page.hits) == 1


def test_beyond_the_bound_the_least_recently_used_search_is_closed_and_its_cursor_refused(shop: Shop) -> None:
    async def scenario() -> None:
        open_searches = OpenSearches(bound=1)
        async with AsyncElasticsearch(shop.elasticsearch_url) as client:
            search = ElasticsearchCustomerSearch(client, shop.names, open_searches)
            first = await search.search(CustomerCriteria(), size=1)
            second = await search.search(CustomerCriteria(), size=1)
            assert first.snapshot is not None
            assert second.snapshot is not None
            await asyncio.gather(*(task for task in asyncio.all_tasks() if task is not asyncio.current_task()))
            assert len(open_searches) == 1
            following = await search.search(
                CustomerCriteria(), size=1, search_after=second.hits[-1].sort, snapshot=second.snapshot
            )
            assert following.hits
            with pytest.raises(InvalidSearchPosition, match="closed to make room"):
                await search.search(
                    CustomerCriteria(), size=1, search_after=first.hits[-1].sort, snapshot=first.snapshot
                )

    asyncio.run(scenario())
