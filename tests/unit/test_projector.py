from __future__ import annotations

import collections
import dataclasses
import random
import threading
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from read_model.checkpoint import ORIGIN, Checkpoint
from read_model.document_store import VersionedDocument
from read_model.errors import SearchUnavailable
from read_model.indexes import PRODUCTS, IndexDefinition
from read_model.outbox import OutboxRecord
from read_model.projections.products import ProductProjection
from read_model.projector import SEARCHABLE_EVERY_SECONDS, Projector, ProjectorOptions
from tests.factories import product_created
from tests.fakes import (
    FakeCheckpointStore,
    FakeDeadLetters,
    FakeDocumentStore,
    FakeLease,
    FakeLeaseHolder,
    FakeMonotonic,
    FakeOutboxReader,
)
from tests.unit.test_projections import PROJECTIONS, shop
from write_model.events import encode_payload

NOW = datetime(2026, 3, 1, tzinfo=UTC)


def created(transaction_id: int, position: int, sku: str, *, aggregate: str = "Product") -> OutboxRecord:
    event = product_created(sku, product_id=uuid.uuid5(uuid.NAMESPACE_OID, sku), price="2.50")
    product_id = event.product_id
    return OutboxRecord(
        transaction_id=transaction_id,
        position=position,
        aggregate_type=aggregate,
        aggregate_id=product_id,
        aggregate_version=1,
        event_type="ProductCreated",
        payload=encode_payload(event),
        metadata={},
        occurred_at=NOW,
    )


def make_projector(
    reader: FakeOutboxReader,
    store: FakeDocumentStore,
    checkpoints: FakeCheckpointStore,
    monotonic: FakeMonotonic | None = None,
) -> Projector:
    projector = Projector(
        reader=reader,
        checkpoints=checkpoints,
        store=store,
        projections=[ProductProjection()],
        checkpoint_prefix="t_",
        dead_letters=FakeDeadLetters(),
        options=ProjectorOptions(batch_size=2),
        monotonic=monotonic or FakeMonotonic(),
    )
    projector.prepare()
    return projector


def test_events_are_indexed_in_batches_and_the_checkpoint_follows_the_last_record() -> None:
    records = [created(10, 1, "A"), created(11, 3, "B"), created(12, 2, "C")]
    reader, store, checkpoints = FakeOutboxReader(records), FakeDocumentStore(), FakeCheckpointStore()
    projector = make_projector(reader, store, checkpoints)
    assert projector.run_until_caught_up() == 3
    assert sorted(doc["sku"] for doc in store.indexes["products"].values()) == ["A", "B", "C"]
    assert checkpoints.saved["t_products"] == Checkpoint(12, 2)
    assert store.published["t_products"] == Checkpoint(12, 2)


def test_replaying_everything_and_shuffled_duplicates_changes_nothing() -> None:
    records = [created(10 + i, i + 1, f"S{i}") for i in range(7)]
    reader, store, checkpoints = FakeOutboxReader(records), FakeDocumentStore(), FakeCheckpointStore()
    projector = make_projector(reader, store, checkpoints)
    projector.run_until_caught_up()
    clean = {k: dict(v) for k, v in store.indexes["products"].items()}

    checkpoints.saved.clear()
    projector.run_until_caught_up()
    duplicates = records * 2
    random.Random(7).shuffle(duplicates)
    replay = FakeOutboxReader([created(90 + i, 100 + i, r.payload["sku"]) for i, r in enumerate(duplicates)])
    make_projector(replay, store, FakeCheckpointStore()).run_until_caught_up()
    assert store.indexes["products"] == clean


def test_events_of_other_aggregates_advance_the_checkpoint_without_writing() -> None:
    reader = FakeOutboxReader([created(10, 1, "X", aggregate="Customer")])
    store, checkpoints = FakeDocumentStore(), FakeCheckpointStore()
    make_projector(reader, store, checkpoints).run_until_caught_up()
    assert store.writes == 0
    assert checkpoints.saved["t_products"] == Checkpoint(10, 1)


def searchable_skus(store: FakeDocumentStore) -> list[str]:
    return sorted(document["sku"] for document in store.searchable.get("products", {}).values())


def test_catching_up_a_projection_publishes_once_a_second_and_only_positions_already_searchable() -> None:
    records = [created(10 + i, i + 1, f"C{i}") for i in range(7)]
    reader, store, checkpoints, clock = (
        FakeOutboxReader(records),
        FakeDocumentStore(),
        FakeCheckpointStore(),
        FakeMonotonic(),
    )
    projector = make_projector(reader, store, checkpoints, clock)
    origin = store.published["t_products"]

    projector.run_once()  # a full batch: more is waiting
    assert checkpoints.saved["t_products"] == records[1].checkpoint, "acknowledged, so stored at once"
    assert store.published["t_products"] == origin
    assert searchable_skus(store) == []

    clock.now += SEARCHABLE_EVERY_SECONDS / 2
    projector.run_once()
    assert checkpoints.saved["t_products"] == records[3].checkpoint
    assert store.published["t_products"] == origin
    assert searchable_skus(store) == []

    clock.now += SEARCHABLE_EVERY_SECONDS / 2
    projector.run_once()  # a second after the first unpublished batch
    assert store.published["t_products"] == records[5].checkpoint
    assert searchable_skus(store) == [f"C{i}" for i in range(6)]
    assert store.states["t_products"].lag_events == 1, "the six records of three rounds counted as applied"

    projector.run_once()  # a short batch: caught up, published in the same round
    assert store.published["t_products"] == checkpoints.saved["t_products"] == records[6].checkpoint
    assert searchable_skus(store) == [f"C{i}" for i in range(7)]


def test_what_a_crashed_projector_stored_but_did_not_publish_is_made_searchable_before_it_is_published() -> None:
    records = [created(10 + i, i + 1, f"K{i}") for i in range(3)]
    reader, store, checkpoints = FakeOutboxReader(records), FakeDocumentStore(), FakeCheckpointStore()
    make_projector(reader, store, checkpoints).run_once()  # then it dies, before its position is published
    assert checkpoints.saved["t_products"] == records[1].checkpoint
    assert searchable_skus(store) == []

    make_projector(reader, store, checkpoints)  # the survivor prepares
    assert store.published["t_products"] == records[1].checkpoint
    assert searchable_skus(store) == ["K0", "K1"]


def test_a_failing_projection_does_not_hold_back_the_publication_of_the_others() -> None:
    records = [created(10 + i, i + 1, f"P{i}") for i in range(3)]
    store, checkpoints = FailingMirrorStore(), FakeCheckpointStore()
    projector = Projector(
        reader=FakeOutboxReader(records),
        checkpoints=checkpoints,
        store=store,
        projections=[ProductProjection(), MirrorProjection()],
        checkpoint_prefix="t_",
        dead_letters=FakeDeadLetters(),
        options=ProjectorOptions(batch_size=2),
        monotonic=FakeMonotonic(),
    )
    projector.prepare()
    store.fail = True
    with pytest.raises(SearchUnavailable):
        projector.run_once()  # products applied a full batch, then the mirror failed
    assert store.published["t_products"] == records[1].checkpoint
    assert searchable_skus(store) == ["P0", "P1"]
    assert store.published["t_mirror"] == ORIGIN


class MirrorProjection(ProductProjection):
    """The products projection under another name, into an index of its own."""

    name = "mirror"
    index = dataclasses.replace(PRODUCTS, name="mirror")


class FailingMirrorStore(FakeDocumentStore):
    """Fails the mirror's reads while `fail` is set."""

    fail = False

    def get_many(self, definition: IndexDefinition, ids: list[str]) -> dict[str, Any]:
        if self.fail and definition.name == "mirror":
            raise SearchUnavailable("the mirror's index is unavailable")
        return super().get_many(definition, ids)


class FlakyDocumentStore(FakeDocumentStore):
    """Refuses the first `failures` bulk writes, as Elasticsearch does while it restarts."""

    def __init__(self, failures: int) -> None:
        super().__init__()
        self.failures = failures

    def write_many(self, definition: IndexDefinition, documents: list[VersionedDocument]) -> set[str]:
        if self.failures > 0:
            self.failures -= 1
            raise SearchUnavailable("connection refused")
        return super().write_many(definition, documents)


class RecordingStop(threading.Event):
    """A stop signal whose backoff pauses return at once and are recorded."""

    def __init__(self) -> None:
        super().__init__()
        self.pauses: list[float] = []

    def wait(self, timeout: float | None = None) -> bool:
        self.pauses.append(0.0 if timeout is None else timeout)
        return self.is_set()


def test_an_outage_pauses_the_projector_and_nothing_is_skipped_when_it_resumes() -> None:
    records = [created(10 + i, i + 1, f"F{i}") for i in range(5)]
    store, checkpoints, stop = FlakyDocumentStore(failures=2), FakeCheckpointStore(), RecordingStop()

    class StopWhenIdle(FakeOutboxReader):
        def wait_for_new_events(self, timeout: float) -> None:
            stop.set()

    projector = make_projector(StopWhenIdle(records), store, checkpoints)
    projector.run_forever(stop)
    assert sorted(doc["sku"] for doc in store.indexes["products"].values()) == [f"F{i}" for i in range(5)]
    assert checkpoints.saved["t_products"] == Checkpoint(14, 5)
    assert stop.pauses == [0.5, 1.0], "two refused writes, two growing backoff pauses"


class Calls(collections.Counter[str]):
    """How often each port method was called: each call is one round trip in the real adapters."""


def counted(fake: type[Any], calls: Calls, *methods: str) -> Any:
    """An instance of `fake` whose `methods` count their calls in `calls`."""

    def counting(name: str) -> Any:
        def method(self: Any, *args: Any, **kwargs: Any) -> Any:
            calls[name] += 1
            return getattr(fake, name)(self, *args, **kwargs)

        return method

    return type(f"Counted{fake.__name__}", (fake,), {name: counting(name) for name in methods})


def test_a_round_reads_and_stores_the_lease_holders_state_once_for_all_its_projections() -> None:
    shop_store, _ = shop()
    calls, lease = Calls(), FakeLease(FakeLeaseHolder())
    assert lease.acquire()
    projector = Projector(
        projections=PROJECTIONS,
        checkpoint_prefix="t_",
        reader=counted(FakeOutboxReader, calls, "read_after", "backlog")(shop_store.outbox),
        checkpoints=counted(FakeCheckpointStore, calls, "load_many", "save_many")(),
        dead_letters=counted(FakeDeadLetters, calls, "summary")(),
        store=counted(FakeDocumentStore, calls, "get_many", "write_many", "make_searchable", "publish_status")(),
        lease=lease,
    )
    projector.prepare()
    calls.clear()

    results = projector.run_once()

    assert all(result.records == len(shop_store.outbox) for result in results), "one batch held everything"
    assert calls == {
        # Once for the four projections, which stand at the same checkpoint.
        "load_many": 1,
        "summary": 1,
        "read_after": 1,
        "backlog": 1,
        "save_many": 1,
        "make_searchable": 1,
        "publish_status": 1,
        # Once per projection: each folds onto its own documents.
        "get_many": 4,
        "write_many": 4,
    }
    assert lease.rounds == 1, "the round's gate, which also confirms the lease"
    calls.clear()
    assert projector.run_once()[0].records == 0
    assert calls == {"load_many": 1, "summary": 1, "read_after": 1}, "a round that finds nothing writes nothing"
