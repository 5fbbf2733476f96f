"""The payment-expiry saga as a process (`twofold saga`): the outbox consumers' machinery of read_model/
driving the process manager of write_model/expiry.py, whose sink is the command bus.

Each round, under the saga's own lease:

1. read the committed records after the saga's checkpoint, in commit order (the projector's reader), and
   store what they do to the open deadlines together with the new checkpoint (one transaction);
2. send `ExpireOrder` for each deadline past due, with the idempotency key of its order, and close the
   deadlines whose command succeeded or found the order already paid or cancelled;
3. report its position, lag and deadlines (read_model/consumers.py), which the projector copies to the
   query side.

A crash anywhere replays from the stored checkpoint: an `OrderPlaced` opens a deadline once (the table's key),
and a deadline fired again replays its command's first answer (the idempotency key), cancelling nothing twice.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from read_model.checkpoint import Checkpoint
from read_model.consumers import AbstractConsumerReports, ConsumerState
from read_model.dead_letters import AbstractDeadLetters, describe
from read_model.errors import OutboxUnavailable
from read_model.lease import AbstractLease, SoleWriter
from read_model.leased_loop import LeasedLoop
from read_model.outbox import AbstractOutboxReader, OutboxRecord
from write_model.bus import CommandBus
from write_model.domain.errors import DomainError, InvalidTransition, NotFound, StoreFailure
from write_model.events import decode_event
from write_model.expiry import (
    DEFAULT_TIMEOUT,
    EVENT_TYPES,
    MAX_ATTEMPTS,
    AbstractPaymentDeadlines,
    DeadlineChanges,
    expiry,
)
from write_model.outbox import OutboxPosition

logger = logging.getLogger(__name__)

KIND = "saga"
# How often an idle saga refreshes its report (a busy one reports after every round).
REPORT_EVERY_SECONDS = 5.0


@dataclass(frozen=True, kw_only=True)
class SagaOptions:
    timeout: timedelta = DEFAULT_TIMEOUT  # how long an order may wait for its payment
    batch_size: int = 500  # outbox records per round
    fire_limit: int = 200  # deadlines fired per round
    poll_seconds: float = 1.0  # longest wait for a writer's NOTIFY (or the next deadline) before looking again
    standby_poll_seconds: float = 1.0
    max_attempts: int = MAX_ATTEMPTS  # failures of a deadline's command before it is parked


@dataclass(frozen=True)
class RoundResult:
    records: int  # outbox records read
    expired: int  # orders the round's commands cancelled
    settled: int  # deadlines closed by the round's commands (expired or found paid or cancelled)
    parked: int  # deadlines parked after their last allowed failure


class PaymentExpirySaga:
    def __init__(
        self,
        *,
        name: str,
        reader: AbstractOutboxReader,
        deadlines: AbstractPaymentDeadlines,
        bus: CommandBus,
        reports: AbstractConsumerReports,
        dead_letters: AbstractDeadLetters,
        lease: AbstractLease | None = None,
        clock: Callable[[], datetime],
        options: SagaOptions = SagaOptions(),
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.name = name
        self._reader = reader
        self._deadlines = deadlines
        self._bus = bus
        self._reports = reports
        self._dead_letters = dead_letters
        self._lease = lease or SoleWriter()
        self._clock = clock
        self._options = options
        self._monotonic = monotonic
        self._reported_at = float("-inf")
        self._next_due: datetime | None = None
        self._loop = LeasedLoop(
            self._lease,
            name="saga",
            pause_on=(OutboxUnavailable, StoreFailure),
            standby_poll_seconds=options.standby_poll_seconds,
        )

    @property
    def active(self) -> bool:
        """Whether this process holds the saga's lease and runs rounds (in `run_forever`)."""
        return self._loop.active

    def run_once(self) -> RoundResult:
        """One round: at most one batch of records read, then at most `fire_limit` deadlines fired."""
        with self._lease.round():
            records = self._advance()
            expired, settled, parked = self._fire_due()
            result = RoundResult(records, expired, settled, parked)
            if records or settled or parked or self._monotonic() - self._reported_at >= REPORT_EVERY_SECONDS:
                self.report()
        return result

    def run_until_idle(self) -> int:
        """Rounds until one reads nothing and fires nothing; the records read."""
        total = 0
        while True:
            result = self.run_once()
            total += result.records
            if not result.records and not result.settled and not result.parked:
                return total

    def run_forever(self, stop: threading.Event) -> None:
        """Run rounds until `stop` is set, while this process holds the saga's lease, riding out outages."""
        logger.info("saga %s running: orders unpaid after %s are cancelled", self.name, self._options.timeout)

        def run_round() -> int:
            result = self.run_once()
            return result.records + result.settled + result.parked

        self._loop.run_forever(stop, prepare=lambda: None, run_round=run_round, idle=self._idle)

    def report(self) -> ConsumerState:
        """Measure and store where the saga stands: position, lag and deadlines."""
        state = self.measure()
        self._reports.report(state)
        self._reported_at = self._monotonic()
        return state

    def measure(self) -> ConsumerState:
        """Where the saga stands now, read from its state (for `twofold status`, which stores nothing)."""
        now = self._clock()
        position = self._deadlines.position()
        checkpoint = Checkpoint(position.transaction_id, position.position)
        lag_events, lag_seconds = self._reader.backlog(checkpoint)
        summary = self._deadlines.summary(now - self._options.timeout)
        self._next_due = None if summary.oldest_placed_at is None else summary.oldest_placed_at + self._options.timeout
        return ConsumerState(
            name=self.name,
            kind=KIND,
            checkpoint=checkpoint,
            lag_events=lag_events,
            lag_seconds=round(lag_seconds, 3),
            dead_letters=summary.parked + self._dead_letters.count_open(self.name),
            pending=summary.pending,
            overdue=summary.overdue,
            updated_at=now,
        )

    def retry_parked(self) -> int:
        """Make the parked deadlines due again (`twofold saga --retry-parked`)."""
        return self._deadlines.retry_parked()

    def _advance(self) -> int:
        position = self._deadlines.position()
        records = self._reader.read_after(
            Checkpoint(position.transaction_id, position.position), self._options.batch_size
        )
        if not records:
            return 0
        changes = DeadlineChanges()
        for record in records:
            if record.event_type in EVENT_TYPES:
                self._apply(changes, record)
        last = records[-1]
        self._deadlines.advance(changes, OutboxPosition(last.transaction_id, last.position))
        if changes.opened:
            earliest = min(changes.opened.values()) + self._options.timeout
            self._next_due = earliest if self._next_due is None else min(self._next_due, earliest)
        return len(records)

    def _apply(self, changes: DeadlineChanges, record: OutboxRecord) -> None:
        try:
            event = decode_event(record.event_type, record.payload)
        except (KeyError, TypeError, ValueError) as exc:
            # Not an event this contract can read: parked for an operator, never blocking the others.
            logger.error("saga %s parks %s at %s: %s", self.name, record.event_type, record.checkpoint, exc)
            self._dead_letters.park(self.name, record, describe(exc), attempts=1)
            return
        changes.apply(event)

    def _fire_due(self) -> tuple[int, int, int]:
        now = self._clock()
        due = self._deadlines.due(now - self._options.timeout, self._options.fire_limit)
        expired, settled, parked = 0, [], 0
        try:
            for order_id in due:
                command, context = expiry(order_id, self.name)
                try:
                    changed = self._bus.handle(command, context)
                except (InvalidTransition, NotFound) as moved_on:
                    # Paid or cancelled meanwhile (a payment won the race), or gone: nothing left to do.
                    logger.info("saga %s: order %s needs no expiry: %s", self.name, order_id, moved_on)
                except StoreFailure:
                    raise  # the loop pauses and the deadline fires again
                except DomainError as exc:
                    now_parked = self._deadlines.fail(
                        order_id, describe(exc), max_attempts=self._options.max_attempts, now=now
                    )
                    parked += now_parked
                    logger.warning(
                        "saga %s: expiring order %s failed (parked: %s): %s", self.name, order_id, now_parked, exc
                    )
                    continue
                else:
                    expired += not changed.replayed
                settled.append(order_id)
        finally:
            self._deadlines.settle(settled)
        return expired, len(settled), parked

    def _idle(self) -> None:
        """Wait for a writer's NOTIFY, or the next deadline, or the poll interval, whichever comes first."""
        wait = self._options.poll_seconds
        if self._next_due is not None:
            wait = min(wait, max(0.01, (self._next_due - self._clock()).total_seconds()))
        self._reader.wait_for_new_events(wait)
        if self._monotonic() - self._reported_at >= REPORT_EVERY_SECONDS:
            self.report()
