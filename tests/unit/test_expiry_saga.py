"""The payment-expiry saga over the fakes of its ports, with a clock of the test's own: which orders it
expires, what it leaves alone, and how a replay, a lost race and a failing command end."""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from api.bootstrap import command_handlers
from api.saga import PaymentExpirySaga, SagaOptions
from api.seed import DemoData
from api.settings import Settings, SettingsError
from tests.fakes import (
    FakeConsumerReports,
    FakeDeadLetters,
    FakeOutboxReader,
    FakePaymentDeadlines,
    FakeStore,
    FakeUnitOfWork,
    fake_command_bus,
)
from write_model import commands
from write_model.bus import CommandBus
from write_model.domain.errors import VersionConflict
from write_model.domain.orders import EXPIRY_REASON, OrderStatus
from write_model.events import OrderCancelled, OrderPaid, OrderPlaced, decode_event
from write_model.expiry import ACTOR, deadline_changes, expiry
from write_model.outbox import CommandContext
from write_model.results import Outcome
from write_model.unit_of_work import AbstractUnitOfWork

CONTEXT = CommandContext(actor="tester", request_id="saga")
TIMEOUT = timedelta(minutes=30)
START = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@dataclass
class Clock:
    now: datetime = START

    def __call__(self) -> datetime:
        return self.now

    def advance(self, by: timedelta) -> None:
        self.now += by


@dataclass
class Shop:
    """A fake store, the command bus over it, and a saga reading its outbox, all on one clock."""

    clock: Clock = field(default_factory=Clock)
    store: FakeStore = field(default_factory=FakeStore)
    deadlines: FakePaymentDeadlines = field(default_factory=FakePaymentDeadlines)
    reports: FakeConsumerReports = field(default_factory=FakeConsumerReports)

    def __post_init__(self) -> None:
        self.bus = fake_command_bus(self.store, clock=self.clock)
        product = self.bus.handle(
            commands.CreateProduct(
                sku="MUG", name="Mug", brand="Acme", category="Kitchen", price="5", initial_stock=10
            ),
            CONTEXT,
        )
        customer = self.bus.handle(commands.RegisterCustomer(name="Ada", email="ada@example.com"), CONTEXT)
        self.product_id, self.customer_id = product.aggregate_id, customer.aggregate_id

    def saga(self, bus: CommandBus | None = None, *, frozen: bool = False) -> PaymentExpirySaga:
        """A saga process; `frozen`: its reader sees the outbox only as it is now (later commits are still
        beyond its transaction horizon)."""
        reader = FakeOutboxReader()
        reader.records = list(self.store.outbox) if frozen else self.store.outbox
        return PaymentExpirySaga(
            name="t_payment-expiry",
            reader=reader,
            deadlines=self.deadlines,
            bus=bus or self.bus,
            reports=self.reports,
            dead_letters=FakeDeadLetters(),
            clock=self.clock,
            options=SagaOptions(timeout=TIMEOUT),
        )

    def place(self, quantity: int = 2) -> uuid.UUID:
        line = commands.OrderLineRequest(product_id=self.product_id, quantity=quantity)
        return self.bus.handle(commands.PlaceOrder(customer_id=self.customer_id, lines=(line,)), CONTEXT).aggregate_id

    def pay(self, order_id: uuid.UUID) -> None:
        self.bus.handle(commands.PayOrder(order_id=order_id), CONTEXT)

    def stock(self) -> int:
        return self.store.products[self.product_id].stock

    def events_of(self, order_id: uuid.UUID) -> list[str]:
        return [record.event_type for record in self.store.outbox if record.aggregate_id == order_id]


def test_a_placed_order_opens_a_deadline_that_its_payment_or_cancellation_closes() -> None:
    placed, paid, dropped = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()

    def placing(order_id: uuid.UUID) -> OrderPlaced:
        return OrderPlaced(
            order_id=order_id,
            customer_id=uuid.uuid4(),
            customer_name="Ada",
            customer_email="ada@example.com",
            lines=(),
            total=0,  # type: ignore[arg-type]
            placed_at=START,
        )

    changes = deadline_changes(
        [
            placing(placed),
            placing(paid),
            OrderPaid(order_id=paid, customer_id=uuid.uuid4(), amount=Decimal(0), reason=None),
            OrderCancelled(
                order_id=dropped,
                customer_id=uuid.uuid4(),
                previous_status="PLACED",
                total=Decimal(0),
                refund=None,
                reason=None,
            ),
        ]
    )

    assert changes.opened == {placed: START}
    assert changes.closed == {paid, dropped}


def test_the_command_of_a_deadline_is_the_same_request_every_time_it_fires() -> None:
    order_id = uuid.uuid4()
    first, again = expiry(order_id, "a"), expiry(order_id, "a")

    assert first == again
    command, context = first
    assert isinstance(command, commands.ExpireOrder)
    assert isinstance(command, commands.CancelOrder)  # what the issue calls it: a cancellation
    assert (command.order_id, context.actor, context.idempotency_key) == (order_id, ACTOR, f"a:expire:{order_id}")
    assert expiry(order_id, "b")[1].idempotency_key != context.idempotency_key  # another deployment's saga


def test_an_order_unpaid_after_the_timeout_is_cancelled_and_its_stock_released_while_a_paid_one_stays() -> None:
    shop = Shop()
    unpaid, paid = shop.place(), shop.place()
    shop.pay(paid)
    saga = shop.saga()

    saga.run_until_idle()
    shop.clock.advance(TIMEOUT - timedelta(seconds=1))
    saga.run_until_idle()
    assert shop.store.orders[unpaid].status is OrderStatus.PLACED  # not yet
    assert shop.deadlines.summary(shop.clock() - TIMEOUT).pending == 1

    shop.clock.advance(timedelta(seconds=2))
    result = saga.run_once()

    assert (result.expired, result.settled) == (1, 1)
    expired = shop.store.orders[unpaid]
    assert (expired.status, expired.cancellation_reason) == (OrderStatus.CANCELLED, EXPIRY_REASON)
    assert shop.stock() == 10 - 2  # the expired order's 2 units are back; the paid order's 2 are not
    assert shop.store.orders[paid].status is OrderStatus.PAID
    assert shop.events_of(paid) == ["OrderPlaced", "OrderPaid"]
    cancelled = next(r for r in shop.store.outbox if r.aggregate_id == unpaid and r.event_type == "OrderCancelled")
    assert cancelled.metadata["actor"] == ACTOR
    event = decode_event(cancelled.event_type, cancelled.payload)
    assert isinstance(event, OrderCancelled)
    assert (event.reason, event.refund) == (EXPIRY_REASON, None)

    saga.run_until_idle()  # reads its own OrderCancelled: nothing left to wait on
    report = shop.reports.stored["t_payment-expiry"]
    assert (report.pending, report.overdue, report.dead_letters, report.lag_events) == (0, 0, 0, 0)
    assert report.checkpoint == shop.store.outbox[-1].checkpoint


def test_a_deadline_fired_again_after_a_crash_replays_the_first_answer_and_cancels_nothing_twice() -> None:
    shop = Shop()
    order_id = shop.place()
    shop.saga().run_until_idle()
    shop.clock.advance(TIMEOUT * 2)
    restarted = shop.saga(frozen=True)  # the next process, which has not read the cancellation yet
    # The command ran, then the process died before it closed the deadline.
    command, context = expiry(order_id, "t_payment-expiry")
    shop.bus.handle(command, context)
    assert shop.deadlines.summary(shop.clock() - TIMEOUT).overdue == 1

    result = restarted.run_once()

    assert (result.expired, result.settled) == (0, 1)
    assert shop.events_of(order_id).count("OrderCancelled") == 1
    assert shop.stock() == 10


def test_a_payment_that_won_the_race_makes_the_expiry_refuse_and_refunds_nothing() -> None:
    shop = Shop()
    order_id = shop.place()
    saga = shop.saga()
    saga.run_until_idle()  # the deadline is open
    shop.clock.advance(TIMEOUT * 2)
    shop.pay(order_id)  # paid just before the saga fires, and before it reads the payment

    result = saga.run_once()

    assert shop.store.orders[order_id].status is OrderStatus.PAID
    assert shop.events_of(order_id) == ["OrderPlaced", "OrderPaid"]
    assert result.expired == 0
    assert shop.deadlines.summary(shop.clock()).pending == 0


def test_a_command_that_keeps_failing_parks_its_deadline_for_an_operator_and_the_others_flow() -> None:
    shop = Shop()
    stuck, fine = shop.place(), shop.place()
    handlers = command_handlers(clock=shop.clock)
    expire = handlers[commands.ExpireOrder]

    def refuse_one(command: commands.ExpireOrder, uow: AbstractUnitOfWork) -> Outcome:
        if command.order_id == stuck:
            raise VersionConflict(1, 2)  # a refusal the saga does not expect
        return expire(command, uow)

    bus = CommandBus(
        lambda context: FakeUnitOfWork(shop.store, context), {**handlers, commands.ExpireOrder: refuse_one}
    )
    saga = shop.saga(bus=bus)
    saga.run_until_idle()
    shop.clock.advance(TIMEOUT * 2)
    for _ in range(SagaOptions().max_attempts):
        saga.run_once()

    assert shop.store.orders[fine].status is OrderStatus.CANCELLED
    assert shop.store.orders[stuck].status is OrderStatus.PLACED
    summary = shop.deadlines.summary(shop.clock() - TIMEOUT)
    assert (summary.pending, summary.parked) == (0, 1)
    assert saga.run_once().settled == 0  # parked: not fired again
    assert saga.report().dead_letters == 1

    assert saga.retry_parked() == 1
    assert shop.deadlines.summary(shop.clock() - TIMEOUT).overdue == 1


@pytest.mark.parametrize(
    ("raw", "seconds"),
    [(None, 1800.0), ("1s", 1.0), ("1", 1.0), ("90", 90.0), ("30m", 1800.0), ("12h", 43200.0), ("7d", 604800.0)],
)
def test_the_payment_timeout_is_a_duration_from_one_second_to_seven_days(raw: str | None, seconds: float) -> None:
    env = {} if raw is None else {"TWOFOLD_PAYMENT_TIMEOUT": raw}
    assert Settings.from_env(env).payment_timeout_seconds == seconds


@pytest.mark.parametrize("raw", ["0.5s", "0", "-1m", "8d", "169h", "soon", "nan", "inf", "5w", "m"])
def test_a_payment_timeout_out_of_bounds_or_unreadable_is_refused_with_its_name(raw: str) -> None:
    with pytest.raises(SettingsError, match="TWOFOLD_PAYMENT_TIMEOUT"):
        Settings.from_env({"TWOFOLD_PAYMENT_TIMEOUT": raw})


def test_the_demo_data_tells_a_story_of_paid_cancelled_expired_and_waiting_orders() -> None:
    data = DemoData(1)
    kinds = Counter(
        type(moves[-1]).__name__ if moves else "waiting" for moves in (data.moves(uuid.uuid4()) for _ in range(2000))
    )
    shares = {kind: count / 2000 for kind, count in kinds.items()}

    assert 0.04 < shares["ExpireOrder"] < 0.07
    assert 0.05 < shares["CancelOrder"] < 0.09
    assert 0.12 < shares["waiting"] < 0.24  # left to the saga: expired once they waited the timeout
    assert shares["PayOrder"] + shares["ShipOrder"] + shares["DeliverOrder"] > 0.6
