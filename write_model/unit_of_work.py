"""The unit-of-work port: one transaction over the repositories, committing the aggregates' events with them.

Repositories lock what they load (`SELECT ... FOR UPDATE`, in id order) for the rest of the transaction, so
two commands on the same aggregate run one after the other and see each other's result: two buyers of the
last unit cannot both succeed, and concurrent transactions always lock in the same order.
"""

from __future__ import annotations

import abc
from collections.abc import Iterable
from dataclasses import dataclass
from types import TracebackType
from typing import ClassVar, Generic, Self, TypeVar
from uuid import UUID

from write_model.domain.aggregate import Aggregate
from write_model.domain.customers import Customer
from write_model.domain.errors import NotFound
from write_model.domain.orders import Order
from write_model.domain.products import Product
from write_model.events import Event
from write_model.outbox import CommandContext, OutboxPosition
from write_model.results import Changed, Outcome

A = TypeVar("A", bound=Aggregate)


class AbstractRepository(abc.ABC, Generic[A]):
    """Loads and stages one kind of aggregate. Every aggregate it hands out is tracked until commit."""

    aggregate_type: ClassVar[str]

    def __init__(self) -> None:
        self.seen: list[A] = []
        self._identity: dict[UUID, A] = {}
        # New aggregates, with the version their first write stored (they may change again before commit).
        self._added: dict[UUID, int] = {}

    def add(self, aggregate: A) -> None:
        """Stage a new aggregate (written at once, so uniqueness errors surface here)."""
        self._add(aggregate)
        self._track(aggregate)
        self._added[aggregate.id] = aggregate.version

    def get(self, id: UUID, *, lock: bool = True) -> A:
        """The aggregate, locked for this transaction unless `lock=False`; `NotFound` when there is none."""
        found = self.get_many([id], lock=lock)
        if id not in found:
            raise NotFound(self.aggregate_type, id)
        return found[id]

    def get_many(self, ids: Iterable[UUID], *, lock: bool = True) -> dict[UUID, A]:
        """The aggregates that exist among `ids`, locked in id order unless `lock=False`. An aggregate already
        loaded in this unit of work is handed out again as the same object."""
        wanted = set(ids)
        missing = sorted(wanted - self._identity.keys())
        for aggregate in self._get_many(missing, lock=lock).values() if missing else ():
            self._track(aggregate)
        return {id: self._identity[id] for id in wanted if id in self._identity}

    def _track(self, aggregate: A) -> None:
        self.seen.append(aggregate)
        self._identity[aggregate.id] = aggregate

    def save_changes(self) -> None:
        """Write the new state of every aggregate that changed since it was loaded or added, in one round trip."""
        changed = []
        for aggregate in self.seen:
            stored = self._added.get(aggregate.id, aggregate.version - len(aggregate.pending_events))
            if aggregate.version > stored:
                changed.append((aggregate, stored))
        if changed:
            self._update_all(changed)

    @abc.abstractmethod
    def _add(self, aggregate: A) -> None: ...

    @abc.abstractmethod
    def _get_many(self, ids: list[UUID], *, lock: bool) -> dict[UUID, A]: ...

    @abc.abstractmethod
    def _update_all(self, changes: list[tuple[A, int]]) -> None:
        """Store each aggregate's state, provided the version stored for it is still the one given with it
        (the version it was loaded at, or the one its first write stored)."""


class AbstractProductRepository(AbstractRepository[Product]):
    aggregate_type = "Product"


class AbstractCustomerRepository(AbstractRepository[Customer]):
    aggregate_type = "Customer"


class AbstractOrderRepository(AbstractRepository[Order]):
    aggregate_type = "Order"


@dataclass(frozen=True)
class StoredOutcome:
    """What an idempotency key recorded: the fingerprint of the command it was used with, and its result."""

    fingerprint: str
    changed: Changed


class AbstractIdempotencyKeys(abc.ABC):
    @abc.abstractmethod
    def claim(self, actor: str, key: str, fingerprint: str) -> StoredOutcome | None:
        """Take `key` for this transaction: `None` when it is new (it is then ours until commit or rollback),
        else what the command that used it recorded. Waits while another transaction holds the same key."""

    @abc.abstractmethod
    def complete(self, actor: str, key: str, changed: Changed) -> None:
        """Record the result of the command that claimed `key`, in the same transaction."""


class AbstractUnitOfWork(abc.ABC):
    """Use as a context manager; leaving it without `commit()` rolls everything back."""

    products: AbstractProductRepository
    customers: AbstractCustomerRepository
    orders: AbstractOrderRepository
    idempotency_keys: AbstractIdempotencyKeys
    context: CommandContext

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.rollback()

    def commit(self, outcome: Outcome) -> Changed:
        """Write every changed aggregate and its pending events, record the outcome under the command's
        idempotency key, then commit. A command that changed nothing commits nothing new and answers with the
        position of the event that produced the aggregate's current version."""
        events = self._collect_events()
        for repository in self._repositories():
            repository.save_changes()
        position = self._write_events(events) if events else self._position_of(outcome.aggregate_id, outcome.version)
        changed = Changed(outcome.aggregate_id, outcome.version, position, outcome.status)
        if self.context.idempotency_key is not None:
            self.idempotency_keys.complete(self.context.actor, self.context.idempotency_key, changed)
        self._commit_transaction()
        for repository in self._repositories():
            for aggregate in repository.seen:
                aggregate.pending_events.clear()
        return changed

    def _repositories(
        self,
    ) -> tuple[AbstractRepository[Customer], AbstractRepository[Product], AbstractRepository[Order]]:
        return (self.customers, self.products, self.orders)

    def _collect_events(self) -> list[tuple[Event, int]]:
        """Pending events, each with the aggregate version it produced."""
        collected: list[tuple[Event, int]] = []
        for repository in self._repositories():
            for aggregate in repository.seen:
                first_version = aggregate.version - len(aggregate.pending_events) + 1
                collected.extend(
                    (event, first_version + offset) for offset, event in enumerate(aggregate.pending_events)
                )
        return collected

    @abc.abstractmethod
    def _write_events(self, events: list[tuple[Event, int]]) -> OutboxPosition: ...

    @abc.abstractmethod
    def _position_of(self, aggregate_id: UUID, version: int) -> OutboxPosition: ...

    @abc.abstractmethod
    def _commit_transaction(self) -> None: ...

    @abc.abstractmethod
    def rollback(self) -> None: ...
