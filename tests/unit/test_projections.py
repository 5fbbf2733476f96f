"""The customers, orders and events projections over histories the real handlers record."""

from __future__ import annotations

import copy
import dataclasses
import random
from decimal import Decimal
from uuid import UUID

from read_model.document_store import VersionedDocument
from read_model.indexes import IndexDefinition
from read_model.outbox import OutboxRecord
from read_model.projections.customers import CustomerProjection, statistics
from read_model.projections.events import EventProjection
from read_model.projections.orders import OrderProjection, order_as_of
from read_model.projections.products import ProductProjection
from read_model.projector import Projector, ProjectorOptions
from tests.fakes import (
    FakeCheckpointStore,
    FakeDeadLetters,
    FakeDocumentStore,
    FakeOutboxReader,
    FakeStore,
    fake_command_bus,
)
from write_model import commands
from write_model.outbox import CommandContext

CONTEXT = CommandContext(actor="t", request_id="c")
PROJECTIONS = [ProductProjection(), CustomerProjection(), OrderProjection(), EventProjection()]


def shop() -> tuple[FakeStore, dict[str, UUID]]:
    """Two customers; Ada places three orders (one paid, one paid then cancelled, one delivered), Bob one,
    paid."""
    store = FakeStore()
    bus = fake_command_bus(store)
    mug = bus.handle(
        commands.CreateProduct(sku="MUG", name="Mug", brand="A", category="K", price="2.50", initial_stock=50), CONTEXT
    ).aggregate_id
    tea = bus.handle(
        commands.CreateProduct(sku="TEA", name="Tea", brand="B", category="K", price="0.99", initial_stock=50), CONTEXT
    ).aggregate_id
    ada = bus.handle(commands.RegisterCustomer(name="Ada", email="ada@example.com"), CONTEXT).aggregate_id
    bob = bus.handle(commands.RegisterCustomer(name="Bob", email="bob@example.com"), CONTEXT).aggregate_id

    def order(customer: UUID, *lines: tuple[UUID, int]) -> UUID:
        requests = tuple(commands.OrderLineRequest(product_id=p, quantity=q) for p, q in lines)
        return bus.handle(commands.PlaceOrder(customer_id=customer, lines=requests), CONTEXT).aggregate_id

    first = order(ada, (mug, 2), (tea, 1))  # 5.99
    bus.handle(commands.PayOrder(order_id=first), CONTEXT)
    cancelled = order(ada, (mug, 4))  # 10.00, paid then cancelled
    bus.handle(commands.PayOrder(order_id=cancelled), CONTEXT)
    bus.handle(commands.CancelOrder(order_id=cancelled, reason="late"), CONTEXT)
    delivered = order(ada, (tea, 3))  # 2.97
    for action in (commands.PayOrder, commands.ShipOrder, commands.DeliverOrder):
        bus.handle(action(order_id=delivered), CONTEXT)
    bus.handle(commands.PayOrder(order_id=order(bob, (mug, 1))), CONTEXT)
    return store, {"ada": ada, "bob": bob, "first": first, "cancelled": cancelled, "delivered": delivered}


def project(records: list[OutboxRecord], batch_size: int = 3) -> FakeDocumentStore:
    documents = FakeDocumentStore()
    projector = Projector(
        reader=FakeOutboxReader(records),
        checkpoints=FakeCheckpointStore(),
        store=documents,
        projections=PROJECTIONS,
        checkpoint_prefix="t_",
        dead_letters=FakeDeadLetters(),
        options=ProjectorOptions(batch_size=batch_size),
    )
    projector.prepare()
    projector.run_until_caught_up()
    return documents


def test_customer_statistics_leave_out_cancelled_orders() -> None:
    store, ids = shop()
    customers = project(store.outbox).indexes["customers"]
    ada = customers[str(ids["ada"])]
    assert (ada["name"], ada["email"], ada["version"]) == ("Ada", "ada@example.com", 1)
    assert (ada["order_count"], ada["lifetime_value"], ada["lifetime_value_cents"]) == (2, "8.96", 896)
    bob = customers[str(ids["bob"])]
    assert (bob["order_count"], bob["lifetime_value"]) == (1, "2.50")


def test_customer_statistics_average_and_date_the_orders_not_cancelled() -> None:
    store, ids = shop()
    customers = project(store.outbox).indexes["customers"]
    placed = {r.aggregate_id: r.payload["placed_at"] for r in store.outbox if r.event_type == "OrderPlaced"}
    ada = customers[str(ids["ada"])]
    # 5.99 and 2.97 count (the 10.00 order was cancelled): 8.96 / 2 = 4.48.
    assert (ada["average_order_value"], ada["average_order_value_cents"]) == ("4.48", 448)
    assert (ada["first_order_at"], ada["last_order_at"]) == (placed[ids["first"]], placed[ids["delivered"]])
    registered_only = CustomerProjection().apply(None, next(r for r in store.outbox if r.aggregate_id == ids["ada"]))
    assert registered_only is not None
    assert (registered_only["order_count"], registered_only["average_order_value"]) == (0, "0.00")
    assert (registered_only["first_order_at"], registered_only["last_order_at"]) == (None, None)


def test_an_average_is_rounded_to_the_cent_half_up() -> None:
    def paid(cents: int, day: int) -> dict[str, object]:
        return {"paid": {"2": cents + 50}, "refunded": {"3": 50}, "placed_at": f"2026-01-0{day}", "counted": True}

    orders = {str(n): paid(cents, n) for n, cents in enumerate((100, 100, 101), start=1)}
    assert statistics(orders)["average_order_value"] == "1.00"  # 100.33…
    orders["4"] = paid(101, 4)
    assert statistics(orders)["average_order_value"] == "1.01"  # 100.5: half up


def test_orders_carry_their_lines_customer_and_lifecycle() -> None:
    store, ids = shop()
    orders = project(store.outbox).indexes["orders"]
    first = orders[str(ids["first"])]
    assert first["customer"] == {"id": str(ids["ada"]), "name": "Ada", "email": "ada@example.com", "version": 1}
    assert [(line["sku"], line["quantity"], line["line_total"]) for line in first["lines"]] == [
        ("MUG", 2, "5.00"),
        ("TEA", 1, "0.99"),
    ]
    assert (first["total"], first["total_cents"], first["status"], first["version"]) == ("5.99", 599, "PAID", 2)
    cancelled = orders[str(ids["cancelled"])]
    # Placed, paid, then the cancellation's refund and the cancellation itself.
    assert (cancelled["status"], cancelled["refund"], cancelled["version"]) == ("CANCELLED", "10.00", 4)
    assert cancelled["paid_at"] is not None
    delivered = orders[str(ids["delivered"])]
    assert (delivered["status"], delivered["version"]) == ("DELIVERED", 4)
    assert Decimal(delivered["total"]) == Decimal("2.97")


def test_every_event_is_in_the_audit_trail_once() -> None:
    store, _ = shop()
    events = project(store.outbox).indexes["events"]
    assert len(events) == len(store.outbox)
    record = store.outbox[-1]
    stored = events[f"{record.aggregate_id}:{record.aggregate_version}"]
    assert (stored["type"], stored["payload"], stored["position"]) == (
        record.event_type,
        record.payload,
        record.position,
    )


def test_replays_and_duplicates_leave_every_index_as_one_clean_pass() -> None:
    store, _ = shop()
    clean = project(store.outbox, batch_size=1000).indexes

    twice = project(store.outbox + store.outbox).indexes
    duplicated = store.outbox + random.Random(7).sample(store.outbox, len(store.outbox) // 2)
    shuffled = copy.deepcopy(duplicated)
    random.Random(3).shuffle(shuffled)
    assert twice == clean
    assert project(shuffled, batch_size=2).indexes == clean

    # A crash after the writes but before the checkpoint: the same documents see the whole outbox again.
    documents = project(store.outbox)
    projector = Projector(
        reader=FakeOutboxReader(store.outbox),
        checkpoints=FakeCheckpointStore(),
        store=documents,
        projections=PROJECTIONS,
        checkpoint_prefix="t_",
        dead_letters=FakeDeadLetters(),
        options=ProjectorOptions(batch_size=4),
    )
    writes = documents.writes
    projector.run_until_caught_up()
    assert documents.indexes == clean
    assert documents.writes == writes  # nothing was written again


def test_a_customer_document_changed_by_another_writer_meanwhile_gets_the_batch_folded_in_again() -> None:
    """Two writers (a rebuild catching up beside the live projector, or a projector that lost its lease and
    does not know yet) may fold the same customer document from the same revision: the second write meets a
    409, and its events are folded again into the newer document instead of being lost."""
    store, ids = shop()
    placed = [r for r in store.outbox if r.event_type == "OrderPlaced" and r.payload["customer_id"] == str(ids["ada"])]
    before_orders = [r for r in store.outbox if r.checkpoint < placed[0].checkpoint]
    documents = project(before_orders)
    projection = CustomerProjection()

    class Meddling(FakeDocumentStore):
        """Lets another writer apply Ada's second order just before this projector's first customer write."""

        meddled = False

        def write_many(self, definition: IndexDefinition, batch: list[VersionedDocument]) -> set[str]:
            if definition.name == "customers" and not self.meddled:
                self.meddled = True
                doc_id = str(ids["ada"])
                other = projection.apply(copy.deepcopy(self.indexes["customers"][doc_id]), placed[1])
                assert other is not None
                super().write_many(definition, [VersionedDocument(doc_id, projection.version_of(other), other)])
            return super().write_many(definition, batch)

    meddling = Meddling()
    meddling.indexes, meddling._version, meddling.published = documents.indexes, documents._version, {}
    projector = Projector(
        reader=FakeOutboxReader([placed[0]]),
        checkpoints=FakeCheckpointStore(),
        store=meddling,
        projections=[projection],
        checkpoint_prefix="t_",
        dead_letters=FakeDeadLetters(),
    )
    projector.run_until_caught_up()
    ada = meddling.indexes["customers"][str(ids["ada"])]
    assert set(ada["orders"]) == {str(placed[0].aggregate_id), str(placed[1].aggregate_id)}
    assert ada["order_count"] == 2


def taking_ids_late(records: list[OutboxRecord], late: set[tuple[UUID, int]]) -> list[OutboxRecord]:
    """The same history, but the transactions that wrote the `late` (aggregate, version) events took their ids
    after every other: as when a transaction claims its idempotency key, then waits for an aggregate."""
    last = max(r.transaction_id for r in records)
    late_ids = sorted({r.transaction_id for r in records if (r.aggregate_id, r.aggregate_version) in late})
    renumbered = {old: last + 1 + n for n, old in enumerate(reversed(late_ids))}  # the latest version first
    return [dataclasses.replace(r, transaction_id=renumbered.get(r.transaction_id, r.transaction_id)) for r in records]


def test_an_aggregates_versions_read_against_their_order_are_all_applied() -> None:
    store, ids = shop()
    cancelled = ids["cancelled"]
    late = {(cancelled, 1), (cancelled, 2), (ids["ada"], 1)}  # placed, paid; and Ada's registration
    shuffled = taking_ids_late(store.outbox, late)
    ordered = [r.checkpoint for r in sorted(shuffled, key=lambda r: r.checkpoint) if r.aggregate_id == cancelled]
    # The refund and the cancellation share their transaction, which now comes before the paying and the placing.
    assert [next(r for r in shuffled if r.checkpoint == c).aggregate_version for c in ordered] == [3, 4, 2, 1]

    clean = project(store.outbox).indexes
    for batch_size in (1, 3, 1000):
        indexes = project(shuffled, batch_size=batch_size).indexes
        assert indexes["orders"] == clean["orders"]
        assert indexes["products"] == clean["products"]
        ada, clean_ada = indexes["customers"][str(ids["ada"])], clean["customers"][str(ids["ada"])]
        assert (ada["orders"], ada["order_count"], ada["lifetime_value"]) == (
            clean_ada["orders"],
            clean_ada["order_count"],
            clean_ada["lifetime_value"],
        )
        assert len(indexes["events"]) == len(clean["events"])


def test_a_version_the_outbox_lacks_parks_the_later_one_with_the_reason() -> None:
    store, ids = shop()
    without_payment = [
        r for r in store.outbox if not (r.aggregate_id == ids["cancelled"] and r.event_type == "OrderPaid")
    ]
    letters = FakeDeadLetters()
    projector = Projector(
        projections=[OrderProjection()],
        checkpoint_prefix="t_",
        reader=FakeOutboxReader(without_payment),
        checkpoints=FakeCheckpointStore(),
        dead_letters=letters,
        store=FakeDocumentStore(),
        options=ProjectorOptions(max_attempts=1),
    )
    projector.prepare()
    projector.run_until_caught_up()
    parked = letters.letters()
    assert [(p.event_type, p.aggregate_id) for p in parked] == [
        ("OrderRefunded", ids["cancelled"]),
        ("OrderCancelled", ids["cancelled"]),
    ]
    assert "needs versions 2 to 2" in parked[0].error


def test_an_orders_journey_shows_its_payments_refunds_shipment_and_cancellation() -> None:
    store, ids = shop()
    bus = fake_command_bus(store)
    mug = next(p.id for p in store.products.values() if p.sku == "MUG")
    delivered, first = ids["delivered"], ids["first"]
    bus.handle(commands.RefundOrder(order_id=delivered, amount="0.99", reference="re-1", reason="cold"), CONTEXT)
    bus.handle(
        commands.ShipOrder(order_id=first, shipment=commands.ShipmentRequest(carrier="DHL", tracking_number="J1")),
        CONTEXT,
    )
    returned = (commands.ReturnRequest(product_id=mug, quantity=1),)
    bus.handle(commands.RefundOrder(order_id=first, amount="1.00", reference="re-2", returned_lines=returned), CONTEXT)
    indexes = project(store.outbox).indexes
    orders, customers = indexes["orders"], indexes["customers"]

    shown = orders[str(delivered)]
    assert (shown["amount_paid"], shown["amount_refunded"], shown["amount_refunded_cents"]) == ("2.97", "0.99", 99)
    assert [(p["amount"], p["method"], p["reference"]) for p in shown["payments"]] == [("2.97", "OTHER", None)]
    assert [(r["amount"], r["reference"], r["reason"]) for r in shown["refunds"]] == [("0.99", "re-1", "cold")]
    assert shown["shipment"]["delivered_at"] is not None
    shipped = orders[str(first)]["shipment"]
    assert (shipped["carrier"], shipped["tracking_number"], shipped["delivered_at"]) == ("DHL", "J1", None)
    cancelled = orders[str(ids["cancelled"])]
    assert (cancelled["amount_refunded"], cancelled["refund"]) == ("10.00", "10.00")
    assert [r["amount"] for r in cancelled["refunds"]] == ["10.00"]
    ada = customers[str(ids["ada"])]
    # 5.99 paid, 1.00 refunded; 2.97 paid, 0.99 refunded; the cancelled order left out.
    assert (ada["lifetime_value"], ada["order_count"], ada["average_order_value"]) == ("6.97", 2, "3.49")
    assert indexes["products"][str(mug)]["stock"] == 50 - 2 - 1 + 1  # first's two, bob's one; one returned


def test_an_order_folded_from_its_events_until_each_step_is_the_live_document_after_that_step() -> None:
    store, ids = shop()
    bus = fake_command_bus(store)
    order, ada = ids["first"], ids["ada"]
    steps = [
        lambda: None,
        lambda: bus.handle(commands.UpdateCustomer(customer_id=ada, name="Ada L"), CONTEXT),
        lambda: bus.handle(commands.RefundOrder(order_id=order, amount="1.00", reference="r"), CONTEXT),
        lambda: bus.handle(commands.CancelOrder(order_id=order, reason="late"), CONTEXT),
    ]
    for step in steps:
        step()
        live = project(store.outbox).indexes["orders"][str(order)]
        events = [r for r in store.outbox if r.aggregate_id == order]
        changes = [r for r in store.outbox if r.aggregate_id == ada and r.event_type == "CustomerUpdated"]
        assert order_as_of(events, changes) == live
    assert order_as_of([], []) is None
    assert order_as_of([r for r in store.outbox if r.aggregate_id == order][1:], []) is None, "without its placing"
