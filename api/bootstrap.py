"""The composition root: the one place where settings become engines, clients, buses and projectors.

The app's lifespan, the projector process and the CLI all call these functions; nothing is built at
import time, so tests build what they need with their own settings.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial

import sqlalchemy as sa
from elasticsearch import AsyncElasticsearch, Elasticsearch
from elasticsearch.serializer import OrjsonSerializer

from api.saga import PaymentExpirySaga, SagaOptions
from api.settings import Settings, SettingsError
from read_model.adapters._snapshots import OpenSearches
from read_model.adapters.elasticsearch_customer_report import ElasticsearchCustomerReports
from read_model.adapters.elasticsearch_customer_search import ElasticsearchCustomerSearch
from read_model.adapters.elasticsearch_customers import ElasticsearchCustomerLookup
from read_model.adapters.elasticsearch_documents import ElasticsearchDocumentStore
from read_model.adapters.elasticsearch_events import ElasticsearchEventSearch
from read_model.adapters.elasticsearch_index_admin import ElasticsearchIndexAdmin
from read_model.adapters.elasticsearch_order_history import ElasticsearchOrderHistory
from read_model.adapters.elasticsearch_orders import ElasticsearchOrderSearch
from read_model.adapters.elasticsearch_products import ElasticsearchProductSearch
from read_model.adapters.elasticsearch_progress import ElasticsearchPublishedProgress
from read_model.adapters.elasticsearch_records import ElasticsearchRecordLookup
from read_model.adapters.elasticsearch_sales import ElasticsearchSalesReports
from read_model.adapters.elasticsearch_status import ElasticsearchProjectionStatus
from read_model.adapters.kafka_bus import KafkaEventBus
from read_model.adapters.postgres_checkpoints import PostgresCheckpointStore
from read_model.adapters.postgres_consumer_reports import PostgresConsumerReports
from read_model.adapters.postgres_dead_letters import PostgresDeadLetters
from read_model.adapters.postgres_lease import PostgresLease
from read_model.adapters.postgres_outbox import PostgresOutboxReader
from read_model.consistency import ConsistencyWaiter
from read_model.indexes import IndexDefinition, IndexNames
from read_model.ports import ReadModel
from read_model.projections import Projection
from read_model.projections.customers import CustomerProjection
from read_model.projections.events import EventProjection
from read_model.projections.orders import OrderProjection
from read_model.projections.products import ProductProjection
from read_model.projector import Projector, ProjectorOptions
from read_model.rebuild import Rebuilder
from read_model.relay import Relay, RelayOptions
from write_model import commands, handlers
from write_model.adapters.connections import discard_closed_connections
from write_model.adapters.payment_deadlines import PostgresPaymentDeadlines
from write_model.adapters.unit_of_work import SqlAlchemyUnitOfWork
from write_model.bus import CommandBus, Handler
from write_model.commands import Command
from write_model.outbox import CommandContext


def utc_now() -> datetime:
    return datetime.now(UTC)


POOL_SIZE, POOL_OVERFLOW = 10, 10
# Commands run in worker threads, each holding one pooled connection for its transaction: as many threads
# as the pool has connections. More would only wait inside the pool, each holding a thread meanwhile.
WRITE_THREADS = POOL_SIZE + POOL_OVERFLOW


def create_engine(settings: Settings) -> sa.Engine:
    """The write side's engine. Its connections are checked at checkout without a round trip
    (write_model/adapters/connections.py)."""
    engine = sa.create_engine(settings.sqlalchemy_url, pool_size=POOL_SIZE, max_overflow=POOL_OVERFLOW)
    discard_closed_connections(engine)
    return engine


def create_health_engine(settings: Settings) -> sa.Engine:
    """The readiness check's own connection, so that it never waits behind commands for the pool's."""
    return sa.create_engine(settings.sqlalchemy_url, pool_size=1, max_overflow=0, pool_pre_ping=True)


def command_handlers(
    *, clock: Callable[[], datetime] = utc_now, new_id: Callable[[], uuid.UUID] = uuid.uuid4
) -> dict[type[Command], Handler]:
    """Every command of the write model with its handler, given the clock and id source to use."""
    return {
        commands.CreateProduct: partial(handlers.create_product, clock=clock, new_id=new_id),
        commands.UpdateProductDetails: partial(handlers.update_product_details, clock=clock),
        commands.ChangeProductPrice: partial(handlers.change_product_price, clock=clock),
        commands.RestockProduct: partial(handlers.restock_product, clock=clock),
        commands.DiscontinueProduct: partial(handlers.discontinue_product, clock=clock),
        commands.RegisterCustomer: partial(handlers.register_customer, clock=clock, new_id=new_id),
        commands.UpdateCustomer: handlers.update_customer,
        commands.PlaceOrder: partial(handlers.place_order, clock=clock, new_id=new_id),
        commands.PayOrder: partial(handlers.move_order, clock=clock),
        commands.ShipOrder: partial(handlers.move_order, clock=clock),
        commands.DeliverOrder: partial(handlers.move_order, clock=clock),
        commands.CancelOrder: partial(handlers.move_order, clock=clock),
        commands.ExpireOrder: partial(handlers.move_order, clock=clock),
        commands.RefundOrder: partial(handlers.refund_order, clock=clock),
    }


def build_command_bus(
    engine: sa.Engine,
    *,
    clock: Callable[[], datetime] = utc_now,
    new_id: Callable[[], uuid.UUID] = uuid.uuid4,
) -> CommandBus:
    def uow_factory(context: CommandContext) -> SqlAlchemyUnitOfWork:
        return SqlAlchemyUnitOfWork(engine, context)

    return CommandBus(uow_factory, command_handlers(clock=clock, new_id=new_id))


# The outbox consumers other than the projector, by name (the deployment's prefix goes before it).
SAGA = "payment-expiry"
RELAY = "relay"
OUTBOX_CONSUMERS = [SAGA, RELAY]


def all_projections() -> list[Projection]:
    """Every projection the projector keeps, in the order it applies each batch to them."""
    return [ProductProjection(), CustomerProjection(), OrderProjection(), EventProjection()]


def build_read_model(settings: Settings, client: AsyncElasticsearch) -> ReadModel:
    names = IndexNames(settings.index_prefix)
    # The points in time the process holds open, bounded across its searches of every index.
    open_searches = OpenSearches(settings.max_open_searches)
    return ReadModel(
        products=ElasticsearchProductSearch(client, names, open_searches),
        orders=ElasticsearchOrderSearch(client, names, open_searches),
        customers=ElasticsearchCustomerLookup(client, names),
        customer_search=ElasticsearchCustomerSearch(client, names, open_searches),
        customer_reports=ElasticsearchCustomerReports(client, names),
        records=ElasticsearchRecordLookup(client, names),
        events=ElasticsearchEventSearch(client, names),
        order_history=ElasticsearchOrderHistory(client, names),
        sales=ElasticsearchSalesReports(client, names),
        consistency=ConsistencyWaiter(
            ElasticsearchPublishedProgress(client, names), settings.consistency_timeout_seconds
        ),
        projections=ElasticsearchProjectionStatus(
            client, names, [projection.name for projection in all_projections()], OUTBOX_CONSUMERS
        ),
    )


def create_async_search_client(settings: Settings) -> AsyncElasticsearch:
    # orjson decodes a page of hits in a fraction of the standard library's time (docs/benchmarks.md).
    return AsyncElasticsearch(
        settings.elasticsearch_url,
        request_timeout=10,
        retry_on_timeout=True,
        max_retries=2,
        serializer=OrjsonSerializer(),
    )


@dataclass
class ProjectorProcess:
    projector: Projector
    reader: PostgresOutboxReader
    checkpoints: PostgresCheckpointStore
    dead_letters: PostgresDeadLetters
    lease: PostgresLease
    client: Elasticsearch
    reports: PostgresConsumerReports

    def close(self) -> None:
        self.reader.close()
        self.checkpoints.close()
        self.dead_letters.close()
        self.lease.release()
        self.client.close()
        self.reports.close()


def build_projector(settings: Settings, projections: Sequence[Projection] | None = None) -> ProjectorProcess:
    """The projector process of `twofold project`: all projections, or `projections` (a benchmark's or a
    test's own) in their place."""
    client = Elasticsearch(
        settings.elasticsearch_url,
        request_timeout=30,
        retry_on_timeout=True,
        max_retries=3,
        # Bulk bodies and multi-gets of hundreds of documents: orjson writes and reads them several times faster.
        serializer=OrjsonSerializer(),
    )
    reader = PostgresOutboxReader(settings.database_url, max_batch_bytes=settings.projector_batch_bytes)
    checkpoints = PostgresCheckpointStore(settings.database_url)
    dead_letters = PostgresDeadLetters(settings.database_url)
    lease = PostgresLease(settings.database_url, settings.index_prefix)
    names = IndexNames(settings.index_prefix)
    reports = PostgresConsumerReports(settings.database_url)
    projector = Projector(
        projections=all_projections() if projections is None else projections,
        checkpoint_prefix=settings.index_prefix,
        reader=reader,
        checkpoints=checkpoints,
        dead_letters=dead_letters,
        store=ElasticsearchDocumentStore(client, names),
        lease=lease,
        options=ProjectorOptions(
            batch_size=settings.projector_batch_size,
            poll_seconds=settings.projector_poll_seconds,
            max_attempts=settings.projector_max_attempts,
            fan_out_page=settings.projector_fan_out_page,
        ),
        consumer_reports=reports,
        consumer_names=[f"{settings.index_prefix}{name}" for name in OUTBOX_CONSUMERS],
    )
    return ProjectorProcess(projector, reader, checkpoints, dead_letters, lease, client, reports)


@dataclass
class SagaProcess:
    saga: PaymentExpirySaga
    reader: PostgresOutboxReader
    reports: PostgresConsumerReports
    dead_letters: PostgresDeadLetters
    lease: PostgresLease
    engine: sa.Engine

    def close(self) -> None:
        self.reader.close()
        self.reports.close()
        self.dead_letters.close()
        self.lease.release()
        self.engine.dispose()


def build_saga(settings: Settings, *, clock: Callable[[], datetime] = utc_now) -> SagaProcess:
    """The expiry saga of `twofold saga`: its own lease, checkpoint and connections; `clock` is a test's own."""
    name = f"{settings.index_prefix}{SAGA}"
    # Commands run one at a time: a small pool is enough.
    engine = sa.create_engine(settings.sqlalchemy_url, pool_size=2, max_overflow=0, pool_pre_ping=True)
    reader = PostgresOutboxReader(settings.database_url, max_batch_bytes=settings.projector_batch_bytes)
    reports = PostgresConsumerReports(settings.database_url)
    dead_letters = PostgresDeadLetters(settings.database_url)
    lease = PostgresLease(settings.database_url, f"saga:{name}")
    saga = PaymentExpirySaga(
        name=name,
        reader=reader,
        deadlines=PostgresPaymentDeadlines(engine, name),
        bus=build_command_bus(engine, clock=clock),
        reports=reports,
        dead_letters=dead_letters,
        lease=lease,
        clock=clock,
        options=SagaOptions(
            timeout=timedelta(seconds=settings.payment_timeout_seconds),
            batch_size=settings.projector_batch_size,
            poll_seconds=settings.projector_poll_seconds,
        ),
    )
    return SagaProcess(saga, reader, reports, dead_letters, lease, engine)


@dataclass
class RelayProcess:
    relay: Relay
    reader: PostgresOutboxReader
    checkpoints: PostgresCheckpointStore
    reports: PostgresConsumerReports
    dead_letters: PostgresDeadLetters
    lease: PostgresLease
    bus: KafkaEventBus

    def close(self) -> None:
        self.bus.close()
        self.reader.close()
        self.checkpoints.close()
        self.reports.close()
        self.dead_letters.close()
        self.lease.release()


def build_relay(settings: Settings, *, bus: KafkaEventBus | None = None) -> RelayProcess:
    """The relay of `twofold relay`: its own lease and checkpoint, publishing to KAFKA_BOOTSTRAP_SERVERS."""
    if settings.kafka_bootstrap_servers is None:
        raise SettingsError("KAFKA_BOOTSTRAP_SERVERS must be set in production for the relay")
    name = f"{settings.index_prefix}{RELAY}"
    reader = PostgresOutboxReader(settings.database_url, max_batch_bytes=settings.projector_batch_bytes)
    checkpoints = PostgresCheckpointStore(settings.database_url)
    reports = PostgresConsumerReports(settings.database_url)
    dead_letters = PostgresDeadLetters(settings.database_url)
    lease = PostgresLease(settings.database_url, f"relay:{name}")
    bus = bus or KafkaEventBus(settings.kafka_bootstrap_servers, partitions=settings.kafka_partitions)
    relay = Relay(
        name=name,
        reader=reader,
        checkpoints=checkpoints,
        bus=bus,
        dead_letters=dead_letters,
        reports=reports,
        clock=utc_now,
        lease=lease,
        options=RelayOptions(
            topic_prefix=settings.kafka_topic_prefix,
            source=settings.event_source,
            batch_size=settings.relay_batch_size,
            poll_seconds=settings.projector_poll_seconds,
        ),
    )
    return RelayProcess(relay, reader, checkpoints, reports, dead_letters, lease, bus)


@dataclass
class RebuildProcess:
    rebuilder: Rebuilder
    projector: ProjectorProcess

    def close(self) -> None:
        self.projector.close()


def build_rebuilder(settings: Settings) -> RebuildProcess:
    """A rebuilder sharing the projector's connections; it runs beside the live projector, not instead of it."""
    process = build_projector(settings)
    names = IndexNames(settings.index_prefix)

    def store_for(definition: IndexDefinition, index: str) -> ElasticsearchDocumentStore:
        return ElasticsearchDocumentStore(process.client, names, targets={definition.name: index})

    rebuilder = Rebuilder(
        admin=ElasticsearchIndexAdmin(process.client, names),
        reader=process.reader,
        checkpoints=process.checkpoints,
        store_for=store_for,
        checkpoint_prefix=settings.index_prefix,
        batch_size=settings.projector_batch_size,
        switch_over=process.lease.switch_over,
    )
    return RebuildProcess(rebuilder, process)
