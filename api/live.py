"""What the subscriptions of one API process share: the watcher, batched document reads, and the counts
that the connection limit and the metrics read (docs/subscriptions.md)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from strawberry.dataloader import DataLoader

from api.metrics import Metrics
from read_model.live import LiveFeed
from read_model.ports import ReadModel
from read_model.views import OrderView, ProductView


@dataclass
class LiveServices:
    feed: LiveFeed
    # The subscriptions woken by one advance ask for their documents in the same turn of the event loop:
    # each kind is then read in one request for all of them. Never cached: each read is of the latest.
    orders: DataLoader[str, OrderView | None]
    products: DataLoader[str, ProductView | None]
    connections: set[object] = field(default_factory=set)


def build_live_services(read: ReadModel, metrics: Metrics, *, poll_seconds: float) -> LiveServices:
    counted = metrics.live_reads.inc

    async def orders(ids: Sequence[str]) -> list[OrderView | None]:
        counted()
        found = await read.orders.many(list(ids))
        return [found.get(order_id) for order_id in ids]

    async def products(ids: Sequence[str]) -> list[ProductView | None]:
        counted()
        found = (await read.records.many(products=list(ids))).products
        return [found.get(product_id) for product_id in ids]

    return LiveServices(
        feed=LiveFeed(read.consistency.progress, read.events, poll_seconds=poll_seconds, on_request=counted),
        orders=DataLoader(orders, cache=False),
        products=DataLoader(products, cache=False),
    )
