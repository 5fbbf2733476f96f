"""The unit-of-work port: one transaction over the repositories, committing the aggregates' events with them."""

from __future__ import annotations

import abc
from types import TracebackType
from typing import Self

from write_model.domain.products import Product
from write_model.events import Event
from write_model.outbox import OutboxPosition


class AbstractProductRepository(abc.ABC):
    def __init__(self) -> None:
        self.seen: list[Product] = []

    def add(self, product: Product) -> None:
        """Stage a new product. Raises `DuplicateSku` when its SKU is taken."""
        self._add(product)
        self.seen.append(product)

    @abc.abstractmethod
    def _add(self, product: Product) -> None: ...


class AbstractUnitOfWork(abc.ABC):
    """Use as a context manager; leaving it without `commit()` rolls everything back."""

    products: AbstractProductRepository

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.rollback()

    def commit(self) -> OutboxPosition:
        """Write the pending events of every aggregate touched, then commit; returns the last event's position."""
        events = self._collect_events()
        if not events:
            raise ValueError("nothing to commit: a successful command records at least one event")
        return self._commit(events)

    def _collect_events(self) -> list[tuple[Event, int]]:
        """Pending events, each with the aggregate version it produced."""
        collected: list[tuple[Event, int]] = []
        for product in self.products.seen:
            first_version = product.version - len(product.pending_events) + 1
            collected.extend((event, first_version + offset) for offset, event in enumerate(product.pending_events))
            product.pending_events.clear()
        return collected

    @abc.abstractmethod
    def _commit(self, events: list[tuple[Event, int]]) -> OutboxPosition: ...

    @abc.abstractmethod
    def rollback(self) -> None: ...
