"""The payment-expiry saga's decisions and the port of its state.

A process manager: it learns from the outbox which orders wait for payment (an `OrderPlaced` opens a
deadline, an `OrderPaid` or `OrderCancelled` closes it) and, once an order has waited the payment timeout,
sends `ExpireOrder` through the command bus. It holds no other state than its open deadlines and its place
in the outbox, stored together (`AbstractPaymentDeadlines.advance`), so a crash neither loses nor repeats
a deadline. Its command carries an idempotency key derived from the order, so a deadline fired twice (a
crash between the command and `settle`) cancels nothing twice; and `ExpireOrder` only takes an order still
unpaid, so a payment that won the race makes it refuse, refunding nothing.

The loop that feeds it (the outbox reader, the lease, the backoff) is the outbox consumers' machinery of
read_model/, wired in api/saga.py.
"""

from __future__ import annotations

import abc
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from uuid import UUID

from write_model.commands import ExpireOrder
from write_model.events import Event, OrderCancelled, OrderPaid, OrderPlaced
from write_model.outbox import CommandContext, OutboxPosition

ACTOR = "saga:payment-expiry"
DEFAULT_TIMEOUT = timedelta(minutes=30)
MIN_TIMEOUT = timedelta(seconds=1)
MAX_TIMEOUT = timedelta(days=7)
# Failures of one deadline's command, for its own reasons, before it is parked for an operator.
MAX_ATTEMPTS = 5


@dataclass
class DeadlineChanges:
    """What a batch of events does to the open deadlines: orders to wait on (with when they were placed),
    and orders no longer waited on. An order placed and paid within one batch is only in `closed`."""

    opened: dict[UUID, datetime] = field(default_factory=dict)
    closed: set[UUID] = field(default_factory=set)

    def apply(self, event: Event) -> None:
        match event:
            case OrderPlaced():
                self.opened[event.order_id] = event.placed_at
                self.closed.discard(event.order_id)
            case OrderPaid() | OrderCancelled():
                self.opened.pop(event.order_id, None)
                self.closed.add(event.order_id)
            case _:
                pass


def deadline_changes(events: Iterable[Event]) -> DeadlineChanges:
    """The changes of a batch of events, in commit order. A deadline counts from the order's `placed_at`."""
    changes = DeadlineChanges()
    for event in events:
        changes.apply(event)
    return changes


# The event types the saga reads; it skips every other record without decoding it.
EVENT_TYPES = frozenset(cls.__name__ for cls in (OrderPlaced, OrderPaid, OrderCancelled))


def expiry(order_id: UUID, saga: str) -> tuple[ExpireOrder, CommandContext]:
    """The command that ends an order's wait, and its context: the idempotency key names the saga and the
    order, so every firing of this deadline is the same request."""
    key = f"{saga}:expire:{order_id}"
    return ExpireOrder(order_id=order_id), CommandContext(actor=ACTOR, request_id=key, idempotency_key=key)


@dataclass(frozen=True, kw_only=True)
class DeadlineSummary:
    """`pending`: deadlines open and not parked; `overdue`: of those, the ones past due; `parked`: the ones
    whose command kept failing; `oldest_placed_at`: the placement of the oldest pending one."""

    pending: int
    overdue: int
    parked: int
    oldest_placed_at: datetime | None


class AbstractPaymentDeadlines(abc.ABC):
    """The saga's state: its open deadlines and its place in the outbox, under the saga's name."""

    @abc.abstractmethod
    def position(self) -> OutboxPosition:
        """Where the saga stands in the outbox's commit order; (0, 0) before its first batch."""

    @abc.abstractmethod
    def advance(self, changes: DeadlineChanges, to: OutboxPosition) -> None:
        """Apply a batch's changes and move the position to `to`, together or not at all. Opening a deadline
        already open keeps the first; closing one not open does nothing."""

    @abc.abstractmethod
    def due(self, placed_before: datetime, limit: int) -> list[UUID]:
        """Up to `limit` open deadlines, not parked, of orders placed before `placed_before`, oldest first."""

    @abc.abstractmethod
    def settle(self, order_ids: Iterable[UUID]) -> None:
        """Close these deadlines: their orders were expired or no longer need it."""

    @abc.abstractmethod
    def fail(self, order_id: UUID, error: str, *, max_attempts: int, now: datetime) -> bool:
        """Count a failed attempt at this deadline's command; it is parked (never due again until an operator
        retries it) at `max_attempts`. Whether it is parked now."""

    @abc.abstractmethod
    def retry_parked(self) -> int:
        """Make every parked deadline due again with no attempts counted; how many."""

    @abc.abstractmethod
    def summary(self, placed_before: datetime) -> DeadlineSummary:
        """How many deadlines are open, past due (placed before `placed_before`) and parked."""
