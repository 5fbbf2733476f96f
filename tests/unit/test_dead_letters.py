"""Poison events: parked after a few attempts with the later events of their aggregate, the rest flowing."""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime

from read_model.checkpoint import Checkpoint
from read_model.outbox import OutboxRecord
from read_model.poison import PARKED_BEHIND
from read_model.projections import Document
from read_model.projections.products import ProductProjection
from read_model.projector import Projector, ProjectorOptions
from tests.factories import product_created
from tests.fakes import FakeCheckpointStore, FakeDeadLetters, FakeDocumentStore, FakeOutboxReader
from write_model.events import ProductRestocked, encode_payload

NOW = datetime(2026, 3, 1, tzinfo=UTC)


def record(
    transaction_id: int, event_type: str, product_id: uuid.UUID, version: int, payload: dict[str, object]
) -> OutboxRecord:
    return OutboxRecord(
        transaction_id=transaction_id,
        position=transaction_id,
        aggregate_type="Product",
        aggregate_id=product_id,
        aggregate_version=version,
        event_type=event_type,
        payload=payload,
        metadata={},
        occurred_at=NOW,
    )


def created(transaction_id: int, sku: str) -> OutboxRecord:
    event = product_created(sku)
    return record(transaction_id, "ProductCreated", event.product_id, 1, encode_payload(event))


def restocked(transaction_id: int, product: OutboxRecord, version: int, stock: int) -> OutboxRecord:
    event = ProductRestocked(product_id=product.aggregate_id, quantity=1, stock=stock)
    return record(transaction_id, "ProductRestocked", product.aggregate_id, version, encode_payload(event))


class Stop(threading.Event):
    """Stops the projector once it is idle; its backoff pauses return at once and are recorded."""

    def __init__(self) -> None:
        super().__init__()
        self.pauses: list[float] = []

    def wait(self, timeout: float | None = None) -> bool:
        self.pauses.append(timeout or 0.0)
        return self.is_set()


class StoppingReader(FakeOutboxReader):
    def __init__(self, records: list[OutboxRecord], stop: threading.Event) -> None:
        super().__init__(records)
        self.stop = stop

    def wait_for_new_events(self, timeout: float) -> None:
        self.stop.set()


def run(records: list[OutboxRecord], store: FakeDocumentStore, letters: FakeDeadLetters) -> Stop:
    stop = Stop()
    projector = Projector(
        reader=StoppingReader(records, stop),
        checkpoints=FakeCheckpointStore(),
        store=store,
        projections=[ProductProjection()],
        checkpoint_prefix="t_",
        dead_letters=letters,
        options=ProjectorOptions(batch_size=10, max_attempts=3),
    )
    projector.run_forever(stop)
    return stop


def test_a_poison_event_is_parked_with_its_aggregates_later_events_and_the_rest_flows() -> None:
    good, bad = created(1, "GOOD"), created(2, "BAD")
    poison = record(3, "ProductTeleported", bad.aggregate_id, 2, {"schema_version": 1})
    records = [good, bad, poison, restocked(4, bad, 3, 9), restocked(5, good, 2, 7)]
    store, letters = FakeDocumentStore(), FakeDeadLetters()

    stop = run(records, store, letters)

    assert stop.pauses == [0.5, 1.0], "two failed attempts, then parked on the third"
    products = store.indexes["products"]
    assert products[str(good.aggregate_id)]["stock"] == 7
    assert products[str(bad.aggregate_id)]["version"] == 1
    parked = letters.letters()
    assert [(p.event_type, p.attempts) for p in parked] == [("ProductTeleported", 3), ("ProductRestocked", 0)]
    assert "UnknownEvent" in parked[0].error
    assert parked[1].error == PARKED_BEHIND
    assert letters.count_open("t_products") == 2


def test_retrying_after_the_cause_is_fixed_applies_the_parked_events_in_order() -> None:
    product = created(1, "LATE")
    records = [product, restocked(2, product, 2, 5), restocked(3, product, 3, 6), created(4, "OTHER")]
    broken = {"yes"}

    class Flaky(ProductProjection):
        def _apply(self, document: Document | None, outbox: OutboxRecord) -> Document:
            if outbox.aggregate_version == 2 and broken:
                raise ValueError("cannot apply yet")
            return super()._apply(document, outbox)

    store, letters, stop = FakeDocumentStore(), FakeDeadLetters(), Stop()
    projector = Projector(
        reader=StoppingReader(records, stop),
        checkpoints=FakeCheckpointStore(),
        store=store,
        projections=[Flaky()],
        checkpoint_prefix="t_",
        dead_letters=letters,
        options=ProjectorOptions(max_attempts=2),
    )
    projector.run_forever(stop)
    assert store.indexes["products"][str(product.aggregate_id)]["stock"] == 1
    assert len(store.indexes["products"]) == 2

    broken.clear()
    first = letters.letters()[0]
    assert letters.retry([first.id]) == 2, "a retry takes every open letter of the aggregate"
    projector.run_until_caught_up()
    assert store.indexes["products"][str(product.aggregate_id)]["stock"] == 6
    assert letters.count_open("t_products") == 0
    assert {letter.status for letter in letters.letters(include_closed=True)} == {"RESOLVED"}


def test_a_document_elasticsearch_refuses_is_parked_and_can_be_skipped() -> None:
    fine, refused = created(1, "FINE"), created(2, "REFUSED")
    store, letters = FakeDocumentStore(), FakeDeadLetters()
    store.reject = lambda source: "mapper_parsing_exception" if source["sku"] == "REFUSED" else None

    run([fine, refused, restocked(3, refused, 2, 4)], store, letters)

    assert list(store.indexes["products"]) == [str(fine.aggregate_id)]
    parked = letters.letters()
    assert [p.checkpoint for p in parked] == [Checkpoint(2, 2), Checkpoint(3, 3)]
    assert "mapper_parsing_exception" in parked[0].error
    assert letters.skip(None) == 2
    assert letters.count_open("t_products") == 0


def test_an_event_after_skipped_letters_is_applied_over_them_and_they_stay_skipped() -> None:
    product = created(1, "SKIPPED")
    poison = record(2, "ProductTeleported", product.aggregate_id, 2, {"schema_version": 1})
    store, letters, stop = FakeDocumentStore(), FakeDeadLetters(), Stop()
    reader = StoppingReader([product, poison, restocked(3, product, 3, 4)], stop)
    projector = Projector(
        projections=[ProductProjection()],
        checkpoint_prefix="t_",
        reader=reader,
        checkpoints=FakeCheckpointStore(),
        dead_letters=letters,
        store=store,
    )
    projector.run_forever(stop)
    assert letters.skip(None) == 2

    reader.records.append(restocked(4, product, 4, 9))
    stop.clear()
    projector.run_forever(stop)

    document = store.indexes["products"][str(product.aggregate_id)]
    assert (document["version"], document["stock"]) == (4, 9)
    assert letters.count_open("t_products") == 0
    assert {letter.status for letter in letters.letters(include_closed=True)} == {"SKIPPED"}
