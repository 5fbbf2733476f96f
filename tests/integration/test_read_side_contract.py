"""One contract for each read-side port: the fakes the unit tests stand on behave as the real adapters do.

Each test runs twice, against the in-memory fake of tests/fakes.py and against its PostgreSQL or
Elasticsearch adapter, as tests/integration/test_command_bus_contract.py does for the write side.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import psycopg
import pytest
from elasticsearch import AsyncElasticsearch, Elasticsearch

from api import bootstrap
from read_model.adapters.elasticsearch_customers import ElasticsearchCustomerLookup
from read_model.adapters.elasticsearch_documents import ElasticsearchDocumentStore
from read_model.adapters.elasticsearch_events import ElasticsearchEventSearch
from read_model.adapters.elasticsearch_progress import ElasticsearchPublishedProgress
from read_model.adapters.postgres_checkpoints import PostgresCheckpointStore
from read_model.adapters.postgres_dead_letters import PostgresDeadLetters
from read_model.adapters.postgres_lease import PostgresLease
from read_model.adapters.postgres_outbox import PostgresOutboxReader
from read_model.checkpoint import ORIGIN, Checkpoint, ProjectionState
from read_model.dead_letters import AbstractDeadLetters, LetterStatus, OpenLetters
from read_model.document_store import AbstractDocumentStore, VersionedDocument
from read_model.errors import DocumentsRejected, OutboxUnavailable
from read_model.indexes import CUSTOMERS, EVENTS, ORDERS, PROJECTION_STATUS, IndexNames
from read_model.lease import AbstractLease
from read_model.outbox import AbstractCheckpointStore, AbstractOutboxReader, OutboxRecord
from read_model.views import CustomerView, EventView
from tests.conftest import own_database
from tests.fakes import (
    FakeCheckpointStore,
    FakeCustomerLookup,
    FakeDeadLetters,
    FakeDocumentStore,
    FakeEventSearch,
    FakeLease,
    FakeLeaseHolder,
    FakeOutboxReader,
    FakePublishedProgress,
    FakeStore,
    fake_command_bus,
)
from tests.integration._waiting import until
from write_model import commands
from write_model.bus import CommandBus
from write_model.outbox import CommandContext

# A database of each test's own: the dead letters' retry and skip of "every open letter" act on all of them.
database_url = own_database()
CONTEXT = CommandContext(actor="contract", request_id="r-1")


@pytest.fixture(params=["fake", "postgres"])
def checkpoints(request: pytest.FixtureRequest) -> Iterator[AbstractCheckpointStore]:
    if request.param == "fake":
        yield FakeCheckpointStore()
    else:
        store = PostgresCheckpointStore(request.getfixturevalue("database_url"))
        yield store
        store.close()


def test_a_checkpoint_starts_at_the_origin_and_keeps_the_last_one_saved(checkpoints: AbstractCheckpointStore) -> None:
    assert checkpoints.load("t_products") == ORIGIN
    checkpoints.save("t_products", Checkpoint(10, 3))
    checkpoints.save("t_products", Checkpoint(12, 1))
    checkpoints.save("t_orders", Checkpoint(5, 5))
    assert checkpoints.load("t_products") == Checkpoint(12, 1)
    assert checkpoints.load("t_orders") == Checkpoint(5, 5)


def test_checkpoints_are_loaded_and_saved_together(checkpoints: AbstractCheckpointStore) -> None:
    checkpoints.save_many({"t_products": Checkpoint(20, 1), "t_events": Checkpoint(20, 2)})
    checkpoints.save_many({"t_products": Checkpoint(21, 4), "t_orders": Checkpoint(21, 5)})
    assert checkpoints.load_many(["t_products", "t_events", "t_orders", "t_customers"]) == {
        "t_products": Checkpoint(21, 4),
        "t_events": Checkpoint(20, 2),
        "t_orders": Checkpoint(21, 5),
        "t_customers": ORIGIN,
    }
    checkpoints.save_many({})
    assert checkpoints.load("t_products") == Checkpoint(21, 4)


@pytest.fixture(params=["fake", "postgres"])
def dead_letters(request: pytest.FixtureRequest) -> Iterator[AbstractDeadLetters]:
    if request.param == "fake":
        yield FakeDeadLetters()
    else:
        letters = PostgresDeadLetters(request.getfixturevalue("database_url"))
        yield letters
        letters.close()


def record(aggregate: uuid.UUID, transaction_id: int, position: int) -> OutboxRecord:
    return OutboxRecord(
        transaction_id=transaction_id,
        position=position,
        aggregate_type="Product",
        aggregate_id=aggregate,
        aggregate_version=position,
        event_type="ProductRestocked",
        payload={},
        metadata={},
        occurred_at=datetime(2026, 1, 1, tzinfo=UTC),
    )


def test_parked_letters_block_their_aggregate_and_a_retry_takes_all_of_its_letters(
    dead_letters: AbstractDeadLetters,
) -> None:
    a, b = uuid.UUID(int=1), uuid.UUID(int=2)
    dead_letters.park("products", record(a, 10, 2), "boom", 3)
    dead_letters.park("products", record(a, 11, 3), "parked behind", 0)
    dead_letters.park("products", record(b, 12, 4), "bang", 3)
    dead_letters.park("orders", record(a, 13, 5), "other projection", 3)
    # Parked again after a retry that failed: the same letter, its attempts added up.
    dead_letters.park("products", record(a, 10, 2), "boom again", 2)

    assert dead_letters.summary(["products"])["products"].blocked == {a, b}
    assert dead_letters.count_open("products") == 3
    first, second = dead_letters.open_letters("products", {a})
    assert (first.checkpoint, first.error, first.attempts, first.status) == (
        Checkpoint(10, 2),
        "boom again",
        5,
        LetterStatus.PARKED,
    )
    assert second.checkpoint == Checkpoint(11, 3)

    assert dead_letters.retry([first.id]) == 2  # both of a's letters in products, not a's in orders
    summary = dead_letters.summary(["products", "orders", "events"])
    assert summary["products"].due == {a}
    assert summary["orders"].due == set()
    assert summary["products"].blocked == {a, b}  # a retry is still open until it is resolved
    assert (summary["products"].count, summary["orders"].count) == (3, 1)
    assert summary["events"] == OpenLetters()

    dead_letters.resolve([first.id, second.id])
    assert dead_letters.summary(["products"])["products"].blocked == {b}
    assert dead_letters.skip(None) == 2  # b's in products, a's in orders
    assert dead_letters.letters() == []
    closed = dead_letters.letters(projection="products", include_closed=True)
    assert [(letter.checkpoint, letter.status) for letter in closed] == [
        (Checkpoint(10, 2), LetterStatus.RESOLVED),
        (Checkpoint(11, 3), LetterStatus.RESOLVED),
        (Checkpoint(12, 4), LetterStatus.SKIPPED),
    ]


@pytest.fixture(params=["fake", "elasticsearch"])
def documents(request: pytest.FixtureRequest) -> AbstractDocumentStore:
    if request.param == "fake":
        store: AbstractDocumentStore = FakeDocumentStore()
    else:
        es: Elasticsearch = request.getfixturevalue("es")
        store = ElasticsearchDocumentStore(es, IndexNames(request.getfixturevalue("index_prefix")))
    store.ensure_index(CUSTOMERS)
    return store


def customer(name: str) -> dict[str, object]:
    return {
        "id": str(uuid.UUID(int=7)),
        "name": name,
        "email": "ada@example.com",
        "version": 1,
        "order_count": 0,
        "lifetime_value": "0.00",
        "lifetime_value_cents": 0,
        "created_at": "2026-01-01T00:00:00+00:00",
        "updated_at": "2026-01-01T00:00:00+00:00",
        "orders": {},
        "revision": 1,
    }


def test_external_versions_keep_the_newest_document_and_report_the_others_as_conflicts(
    documents: AbstractDocumentStore,
) -> None:
    assert documents.write_many(CUSTOMERS, [VersionedDocument("c-1", 2, customer("Ada"))]) == set()
    older_and_equal = [VersionedDocument("c-1", 1, customer("Old")), VersionedDocument("c-1", 2, customer("Same"))]
    assert documents.write_many(CUSTOMERS, older_and_equal[:1]) == {"c-1"}
    assert documents.write_many(CUSTOMERS, older_and_equal[1:]) == {"c-1"}
    assert documents.get_many(CUSTOMERS, ["c-1", "missing"]) == {"c-1": customer("Ada")}
    assert documents.write_many(CUSTOMERS, [VersionedDocument("c-1", 3, customer("Grace"))]) == set()
    assert documents.get_many(CUSTOMERS, ["c-1"])["c-1"]["name"] == "Grace"


def test_a_document_the_mapping_refuses_is_rejected_and_the_others_are_written(
    documents: AbstractDocumentStore,
) -> None:
    refused = {**customer("Eve"), "not_in_the_mapping": True}
    with pytest.raises(DocumentsRejected) as caught:
        documents.write_many(
            CUSTOMERS, [VersionedDocument("c-2", 1, refused), VersionedDocument("c-3", 1, customer("Bob"))]
        )
    assert set(caught.value.reasons) == {"c-2"}
    assert set(documents.get_many(CUSTOMERS, ["c-2", "c-3"])) == {"c-3"}


def test_the_documents_carrying_an_older_state_of_an_aggregate_are_paged_in_id_order(
    documents: AbstractDocumentStore,
) -> None:
    def order(number: int, customer: str, version: int) -> VersionedDocument:
        source = {
            "id": f"o-{number}",
            "customer": {"id": customer, "name": "Ada", "email": "ada@example.com", "version": version},
            "version": 1,
        }
        return VersionedDocument(f"o-{number}", (1 << 32) | version, source)

    documents.ensure_index(ORDERS)
    orders = [order(3, "c-1", 1), order(1, "c-1", 1), order(2, "c-1", 2), order(4, "c-2", 1), order(5, "c-1", 1)]
    documents.write_many(ORDERS, orders)
    documents.make_searchable([ORDERS])
    first = documents.carrying(ORDERS, "customer", "c-1", below=2, after=None, size=2)
    assert first == [("o-1", orders[1].source), ("o-3", orders[0].source)]
    assert documents.carrying(ORDERS, "customer", "c-1", below=2, after="o-3", size=2) == [("o-5", orders[4].source)]
    everything = documents.carrying(ORDERS, "customer", "c-1", below=3, after=None, size=10)
    assert [doc_id for doc_id, _ in everything] == ["o-1", "o-2", "o-3", "o-5"]
    assert documents.carrying(ORDERS, "customer", "c-3", below=9, after=None, size=10) == []


@pytest.fixture(params=["fake", "postgres"])
def written(request: pytest.FixtureRequest) -> Iterator[tuple[CommandBus, Callable[[], AbstractOutboxReader]]]:
    """A command bus, and a reader of the outbox it writes to (made once the test has written)."""
    if request.param == "fake":
        store = FakeStore()
        yield fake_command_bus(store), lambda: FakeOutboxReader(store.outbox)
        return
    engine = bootstrap.create_engine(request.getfixturevalue("settings"))
    readers: list[PostgresOutboxReader] = []

    def reader() -> AbstractOutboxReader:
        readers.append(PostgresOutboxReader(request.getfixturevalue("database_url")))
        return readers[-1]

    yield bootstrap.build_command_bus(engine), reader
    for opened in readers:
        opened.close()
    engine.dispose()


def test_the_outbox_is_read_in_commit_order_after_a_checkpoint_and_by_position(
    written: tuple[CommandBus, Callable[[], AbstractOutboxReader]],
) -> None:
    bus, reader_of_outbox = written
    product = bus.handle(
        commands.CreateProduct(sku=f"C-{uuid.uuid4().hex[:8]}", name="Mug", brand="A", category="K", price="2.50"),
        CONTEXT,
    ).aggregate_id
    for _ in range(3):
        bus.handle(commands.RestockProduct(product_id=product, quantity=1), CONTEXT)
    reader = reader_of_outbox()
    everything = reader.read_after(ORIGIN, 100)
    assert [r.event_type for r in everything] == ["ProductCreated"] + ["ProductRestocked"] * 3
    assert [r.aggregate_version for r in everything] == [1, 2, 3, 4]
    assert [r.checkpoint for r in everything] == sorted(r.checkpoint for r in everything)
    assert reader.read_after(everything[0].checkpoint, 2) == everything[1:3]
    assert reader.read_after(everything[-1].checkpoint, 100) == []
    assert reader.read_at([everything[2].checkpoint, everything[0].checkpoint]) == [everything[0], everything[2]]
    assert reader.backlog(everything[1].checkpoint)[0] == 2
    assert reader.read_versions(product, 2, 3) == everything[1:3]
    assert reader.read_versions(product, 4, 9) == everything[3:], "the versions it holds, when fewer"
    assert reader.read_versions(uuid.uuid4(), 1, 1) == []
    # The versions below a given one that commit order puts after a checkpoint.
    assert reader.read_overtaken(everything[1].checkpoint, {product: 4}) == [everything[2]]
    assert reader.read_overtaken(everything[0].checkpoint, {product: 4, uuid.uuid4(): 3}) == everything[1:3]
    assert reader.read_overtaken(everything[-1].checkpoint, {product: 4}) == []
    assert reader.read_overtaken(ORIGIN, {}) == []


def test_the_newest_record_of_each_aggregate_among_some_event_types_is_read(
    written: tuple[CommandBus, Callable[[], AbstractOutboxReader]],
) -> None:
    bus, reader_of_outbox = written

    def register(name: str) -> uuid.UUID:
        email = f"{name}-{uuid.uuid4().hex[:8]}@example.com"
        return bus.handle(commands.RegisterCustomer(name=name, email=email), CONTEXT).aggregate_id

    ada, grace = register("ada"), register("grace")
    for name in ("Ada L", "Ada Lovelace"):
        bus.handle(commands.UpdateCustomer(customer_id=ada, name=name), CONTEXT)
    reader = reader_of_outbox()
    updated = frozenset({"CustomerUpdated"})
    (newest,) = reader.read_newest([ada, grace, uuid.uuid4()], updated)
    assert (newest.aggregate_id, newest.aggregate_version, newest.payload["name"]) == (ada, 3, "Ada Lovelace")
    assert newest == reader.read_versions(ada, 3, 3)[0]
    both = reader.read_newest([ada, grace], updated | {"CustomerRegistered"})
    assert sorted((r.aggregate_version, r.event_type) for r in both) == [
        (1, "CustomerRegistered"),
        (3, "CustomerUpdated"),
    ]
    assert reader.read_newest([], updated) == []


ADA = {
    "id": str(uuid.UUID(int=9)),
    "name": "Ada",
    "email": "ada@example.com",
    "version": 1,
    "order_count": 2,
    "lifetime_value": "8.96",
    "lifetime_value_cents": 896,
    "average_order_value": "4.48",
    "average_order_value_cents": 448,
    "first_order_at": "2026-01-02T00:00:00+00:00",
    "last_order_at": "2026-01-03T00:00:00+00:00",
    "created_at": "2026-01-01T00:00:00+00:00",
    "updated_at": "2026-01-03T00:00:00+00:00",
    "orders": {},
    "revision": 3,
}


Opened = Callable[[], contextlib.AbstractAsyncContextManager[Any]]


def opened_on_elasticsearch(request: pytest.FixtureRequest, port: Callable[[AsyncElasticsearch], Any]) -> Opened:
    """Opens the port on an async client of its own, in the event loop of the test that uses it."""

    @contextlib.asynccontextmanager
    async def opened() -> AsyncIterator[Any]:
        async with AsyncElasticsearch(request.getfixturevalue("elasticsearch_url")) as client:
            yield port(client)

    return opened


def opened_as_it_is(port: Any) -> Opened:
    @contextlib.asynccontextmanager
    async def opened() -> AsyncIterator[Any]:
        yield port

    return opened


@pytest.fixture(params=["fake", "elasticsearch"])
def lookup_with_ada(request: pytest.FixtureRequest) -> Opened:
    """A customer lookup that holds Ada, put there as each side holds customers."""
    if request.param == "fake":
        fake = FakeCustomerLookup()
        fake.customers[str(ADA["id"])] = CustomerView.of(ADA)
        return opened_as_it_is(fake)
    es: Elasticsearch = request.getfixturevalue("es")
    names = IndexNames(request.getfixturevalue("index_prefix"))
    store = ElasticsearchDocumentStore(es, names)
    store.ensure_index(CUSTOMERS)
    store.write_many(CUSTOMERS, [VersionedDocument(str(ADA["id"]), 3, ADA)])
    return opened_on_elasticsearch(request, lambda client: ElasticsearchCustomerLookup(client, names))


def test_a_customer_is_found_by_id_as_its_view_and_an_unknown_one_is_none(lookup_with_ada: Opened) -> None:
    async def look() -> tuple[CustomerView | None, CustomerView | None]:
        async with lookup_with_ada() as lookup:
            return await lookup.get(str(ADA["id"])), await lookup.get(str(uuid.UUID(int=10)))

    found, unknown = asyncio.run(look())
    assert found == CustomerView.of(ADA)
    assert unknown is None


@pytest.fixture(params=["fake", "elasticsearch"])
def published(request: pytest.FixtureRequest) -> tuple[Opened, Callable[[str, Checkpoint], None]]:
    """A progress port, and how to publish a projection's position to it."""
    if request.param == "fake":
        fake = FakePublishedProgress()
        return opened_as_it_is(fake), fake.positions.__setitem__
    es: Elasticsearch = request.getfixturevalue("es")
    names = IndexNames(request.getfixturevalue("index_prefix"))
    store = ElasticsearchDocumentStore(es, names)
    store.ensure_index(PROJECTION_STATUS)

    def publish(projection: str, checkpoint: Checkpoint) -> None:
        name = f"{names.prefix}{projection}"
        store.publish_status(
            [ProjectionState(name=name, checkpoint=checkpoint, lag_events=0, lag_seconds=0.0, dead_letters=0)]
        )

    return opened_on_elasticsearch(request, lambda client: ElasticsearchPublishedProgress(client, names)), publish


def test_published_progress_is_the_last_position_published_and_the_origin_before_any(
    published: tuple[Opened, Callable[[str, Checkpoint], None]],
) -> None:
    opened, publish = published

    async def applied(projection: str) -> Checkpoint:
        async with opened() as progress:
            position: Checkpoint = await progress.applied(projection)
            return position

    assert asyncio.run(applied("products")) == ORIGIN
    publish("products", Checkpoint(40, 7))
    publish("products", Checkpoint(41, 2))
    assert asyncio.run(applied("products")) == Checkpoint(41, 2)
    assert asyncio.run(applied("orders")) == ORIGIN


def test_published_progress_reads_several_projections_at_once(
    published: tuple[Opened, Callable[[str, Checkpoint], None]],
) -> None:
    opened, publish = published
    publish("events", Checkpoint(50, 9))
    publish("orders", Checkpoint(49, 3))

    async def read() -> dict[str, Checkpoint]:
        async with opened() as progress:
            found: dict[str, Checkpoint] = await progress.published(["events", "orders", "products"])
            return found

    assert asyncio.run(read()) == {"events": Checkpoint(50, 9), "orders": Checkpoint(49, 3), "products": ORIGIN}


def _event_document(transaction_id: int, position: int, aggregate: int, kind: str) -> dict[str, Any]:
    return {
        "transaction_id": transaction_id,
        "position": position,
        "aggregate_type": "Product",
        "aggregate_id": str(uuid.UUID(int=aggregate)),
        "version": position,
        "type": kind,
        "occurred_at": "2026-01-01T00:00:00+00:00",
        "payload": {"n": position},
        "metadata": {},
    }


# Commit order is by transaction, then position: transaction 12 committed its position 3 after 11's 4.
AUDIT_TRAIL = [
    _event_document(10, 1, 1, "ProductCreated"),
    _event_document(10, 2, 2, "ProductCreated"),
    _event_document(11, 4, 1, "ProductRestocked"),
    _event_document(12, 3, 2, "ProductRestocked"),
    _event_document(12, 5, 1, "ProductRestocked"),
    _event_document(13, 6, 2, "ProductDiscontinued"),
]


@pytest.fixture(params=["fake", "elasticsearch"])
def audit_trail(request: pytest.FixtureRequest) -> Opened:
    """An event search over AUDIT_TRAIL, put there as each side holds events."""
    if request.param == "fake":
        fake = FakeEventSearch()
        fake.events = [EventView.of(doc) for doc in reversed(AUDIT_TRAIL)]
        return opened_as_it_is(fake)
    es: Elasticsearch = request.getfixturevalue("es")
    names = IndexNames(request.getfixturevalue("index_prefix"))
    store = ElasticsearchDocumentStore(es, names)
    store.ensure_index(EVENTS)
    store.write_many(
        EVENTS, [VersionedDocument(f"{doc['aggregate_id']}:{doc['version']}", 1, doc) for doc in AUDIT_TRAIL]
    )
    store.make_searchable([EVENTS])
    return opened_on_elasticsearch(request, lambda client: ElasticsearchEventSearch(client, names))


def test_events_after_a_position_come_in_commit_order_up_to_the_end_given(audit_trail: Opened) -> None:
    async def after(start: Checkpoint, end: Checkpoint, **filters: Any) -> list[tuple[int, int]]:
        async with audit_trail() as search:
            found = await search.after(start, end, **filters)
            return [(each.transaction_id, each.position) for each in found]

    everything = Checkpoint(99, 99)
    assert asyncio.run(after(ORIGIN, everything, size=10)) == [(10, 1), (10, 2), (11, 4), (12, 3), (12, 5), (13, 6)]
    assert asyncio.run(after(Checkpoint(10, 2), Checkpoint(12, 3), size=10)) == [(11, 4), (12, 3)]
    assert asyncio.run(after(Checkpoint(11, 4), everything, size=2)) == [(12, 3), (12, 5)]
    assert asyncio.run(after(Checkpoint(12, 5), Checkpoint(12, 5), size=10)) == []
    one = str(uuid.UUID(int=1))
    assert asyncio.run(after(ORIGIN, everything, size=10, aggregate_id=one)) == [(10, 1), (11, 4), (12, 5)]
    restocked = ("ProductRestocked", "ProductDiscontinued")
    assert asyncio.run(after(Checkpoint(11, 4), everything, size=10, types=restocked)) == [(12, 3), (12, 5), (13, 6)]


@pytest.fixture(params=["fake", "elasticsearch"])
def searchable(request: pytest.FixtureRequest) -> tuple[AbstractDocumentStore, Callable[[], set[str]]]:
    """A document store with the customers index, and the ids a search of that index finds."""
    if request.param == "fake":
        fake = FakeDocumentStore()
        fake.ensure_index(CUSTOMERS)
        return fake, lambda: set(fake.searchable.get(CUSTOMERS.name, {}))
    es: Elasticsearch = request.getfixturevalue("es")
    names = IndexNames(request.getfixturevalue("index_prefix"))
    store = ElasticsearchDocumentStore(es, names)
    store.ensure_index(CUSTOMERS)

    def found() -> set[str]:
        return {hit["_id"] for hit in es.search(index=names.alias(CUSTOMERS), size=100)["hits"]["hits"]}

    return store, found


def test_written_documents_are_found_by_searches_once_made_searchable(
    searchable: tuple[AbstractDocumentStore, Callable[[], set[str]]],
) -> None:
    store, found = searchable
    store.write_many(
        CUSTOMERS, [VersionedDocument("c-4", 1, customer("Lin")), VersionedDocument("c-5", 1, customer("Kay"))]
    )
    store.make_searchable([CUSTOMERS])
    assert found() == {"c-4", "c-5"}
    store.write_many(CUSTOMERS, [VersionedDocument("c-6", 1, customer("Max"))])
    store.make_searchable([CUSTOMERS, CUSTOMERS])
    assert found() == {"c-4", "c-5", "c-6"}
    store.make_searchable([])  # a round that wrote nothing


@pytest.fixture(params=["fake", "postgres"])
def leases(request: pytest.FixtureRequest) -> Iterator[tuple[AbstractLease, AbstractLease, Callable[[], None]]]:
    """Two processes' leases of one group, and how to cut the first one's connection to the server."""
    if request.param == "fake":
        holder = FakeLeaseHolder()
        fake_first, fake_second = FakeLease(holder), FakeLease(holder)
        yield fake_first, fake_second, fake_first.lose
        return
    url = request.getfixturevalue("database_url")
    group = f"contract-{uuid.uuid4().hex[:8]}"
    first, second = PostgresLease(url, group), PostgresLease(url, group)

    def cut() -> None:
        # The test's database is its own: the only advisory lock granted in it is the first lease's.
        with psycopg.connect(url, autocommit=True) as admin:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND granted"
                " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
            )

    yield first, second, cut
    first.release()
    second.release()


def test_one_process_holds_the_lease_and_a_standby_takes_it_once_released(
    leases: tuple[AbstractLease, AbstractLease, Callable[[], None]],
) -> None:
    first, second, _ = leases
    assert first.acquire()
    assert not second.acquire()
    with first.round():
        assert not second.acquire()
    assert first.acquire(), "still its own after a round"
    first.release()
    assert second.acquire()
    assert not first.acquire()


def test_a_lease_whose_connection_is_lost_fails_its_next_round_and_passes_to_the_standby(
    leases: tuple[AbstractLease, AbstractLease, Callable[[], None]],
) -> None:
    first, second, cut = leases
    assert first.acquire()
    cut()
    until(second.acquire)
    with pytest.raises(OutboxUnavailable), first.round():
        pytest.fail("a round ran without the lease")
    assert not first.acquire()
    with second.round():
        pass
