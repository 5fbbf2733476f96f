"""Benchmark: the relay's throughput against a plain confluent-kafka producer, and commit-to-consumed latency.

    scripts/dev.sh bench-relay [--events 100000] [--rounds 3] [--rate 200] [--seconds 20]

Throughput: the same outbox (`--events` ProductCreated events in a fresh database) published twice into
fresh topics, rounds alternating. A round of 20,000 events took about a second a side, and its ratio moved
with the machine more than with the code (82%, 96% and 52% back to back); 100,000 take five:

- `producer`: one query over the outbox in commit order, each record made into its CloudEvent
  (`read_model.relay.cloud_event`) and sent by a plain `Producer` with the relay's own settings
  (idempotence, `acks=all`, `linger.ms` 5), then one `flush`;
- `relay`: the relay from position zero, in batches of 2,000, as `twofold relay` runs it: read below the
  transaction horizon, order each aggregate's versions, send, wait for every acknowledgement, store the
  checkpoint, report.

Latency: a `twofold relay` process while one open-loop writer creates products through the write model at
`--rate` per second; a consumer reads the product topic, and a record's latency runs from the commit of its
transaction to its arrival at the consumer. Figures go to `test-output/bench/relay.json`.
"""

from __future__ import annotations

import argparse
import os
import signal
import threading
import time
import uuid
from datetime import UTC, datetime

import psycopg
from _common import OUTPUT, distribution, fresh_database, median, percentile, start_twofold, write_result
from confluent_kafka import Consumer, Producer
from confluent_kafka.admin import AdminClient
from projector import seed
from psycopg.rows import dict_row

from api import bootstrap
from api._heap import freeze_what_was_built
from api.settings import Settings
from read_model.adapters.kafka_bus import KafkaEventBus
from read_model.outbox import OutboxRecord
from read_model.relay import all_topics, cloud_event
from write_model import commands
from write_model.outbox import CommandContext


def servers() -> str:
    return os.environ.get("KAFKA_BOOTSTRAP_SERVERS") or "127.0.0.1:59092"


def settings_for(url: str, topics: str) -> Settings:
    return Settings(
        database_url=url,
        elasticsearch_url=os.environ["ELASTICSEARCH_URL"],
        index_prefix=f"{topics.rstrip('.')}_",
        kafka_bootstrap_servers=servers(),
        kafka_topic_prefix=topics,
        relay_batch_size=int(os.environ.get("BENCH_RELAY_BATCH", "2000")),
    )


def run_producer(url: str, topics: str) -> float:
    """The baseline: the same records, the same producer settings, no outbox consumer around them."""
    bus = KafkaEventBus(servers())
    bus.ensure_topics(all_topics(topics))
    producer = Producer(bus.config)
    started = time.perf_counter()
    with psycopg.connect(url, row_factory=dict_row) as connection, connection.cursor(name="outbox") as cursor:
        cursor.execute(
            "SELECT transaction_id::text::bigint AS transaction_id, position, aggregate_type, aggregate_id,"
            " aggregate_version, event_type, payload, metadata, occurred_at FROM outbox"
            " ORDER BY transaction_id, position"
        )
        for row in cursor:
            message = cloud_event(OutboxRecord(**row), topic_prefix=topics, source="/twofold")
            while True:
                try:
                    producer.produce(message.topic, value=message.value, key=message.key, headers=message.headers)  # type: ignore[arg-type]
                    break
                except BufferError:
                    producer.poll(0.05)
    left = producer.flush(120)
    assert left == 0, f"{left} records not acknowledged"
    return time.perf_counter() - started


def drop_topics(prefix: str) -> None:
    """Deletes a round's topics: each holds the whole outbox, and a local broker (heap 256m) kept every
    round's of earlier runs until it ran out of memory loading them at its start."""
    admin = AdminClient({"bootstrap.servers": servers()})
    for future in admin.delete_topics(all_topics(prefix)).values():
        future.result(timeout=30)


def run_relay(url: str, topics: str) -> float:
    process = bootstrap.build_relay(settings_for(url, topics))
    try:
        process.relay.prepare()
        started = time.perf_counter()
        process.relay.run_until_caught_up()
        return time.perf_counter() - started
    finally:
        process.close()


def throughput(args: argparse.Namespace) -> dict[str, object]:
    rounds: list[dict[str, object]] = []
    with fresh_database() as url:
        seed(url, args.events)
        # Both sides run in a process whose start is frozen out of the garbage collector's full collections,
        # as `twofold relay` runs (api/_heap.py): unfrozen, collections were 1.7 to 2.1 s of the relay's 4 to
        # 5 s of CPU for 100,000 events, its batches of 2,000 records alive while they walked the whole heap.
        freeze_what_was_built()
        for _ in range(args.rounds):
            for side, run in (("producer", run_producer), ("relay", run_relay)):
                topics = f"bench{uuid.uuid4().hex[:8]}."
                seconds = run(url, topics)
                drop_topics(topics)
                rounds.append(
                    {"side": side, "seconds": round(seconds, 3), "per_second": round(args.events / seconds, 1)}
                )
                print(f"| {side} | {args.events / seconds:,.0f} events/s | {seconds:.2f} s |", flush=True)
    producer = median([r["per_second"] for r in rounds if r["side"] == "producer"])  # type: ignore[misc]
    relay = median([r["per_second"] for r in rounds if r["side"] == "relay"])  # type: ignore[misc]
    return {
        "events": args.events,
        "rounds": rounds,
        "producer_events_per_second": producer,
        "relay_events_per_second": relay,
        "ratio": round(relay / producer, 3),
        "goal": 0.60,
    }


def reported(url: str) -> bool:
    with psycopg.connect(url) as connection:
        return connection.execute("SELECT 1 FROM outbox_consumer_status WHERE kind = 'relay'").fetchone() is not None


def latency(args: argparse.Namespace) -> dict[str, object]:
    topics = f"lat{uuid.uuid4().hex[:8]}."
    with fresh_database() as url:
        settings = settings_for(url, topics)
        env = {**os.environ, "DATABASE_URL": url, "TWOFOLD_INDEX_PREFIX": settings.index_prefix,
               "TWOFOLD_KAFKA_TOPIC_PREFIX": topics, "KAFKA_BOOTSTRAP_SERVERS": servers()}  # fmt: skip
        KafkaEventBus(servers()).ensure_topics(all_topics(topics))
        relay = start_twofold("relay", env, "relay_latency.log")
        engine = bootstrap.create_engine(settings)
        # Measure the running relay, not its start: wait for its first report.
        deadline = time.monotonic() + 60
        while not reported(url):
            if relay.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"the relay did not start; see {OUTPUT / 'relay_latency.log'}")
            time.sleep(0.1)
        # A consumer that waits for records (fetch.wait.max.ms) at most 10 ms at the broker: the default, 500 ms,
        # is what a consumer that favours fewer requests over latency would see at worst.
        consumer = Consumer({"bootstrap.servers": servers(), "group.id": f"bench-{uuid.uuid4()}",
                             "auto.offset.reset": "earliest", "enable.auto.commit": False,
                             "fetch.wait.max.ms": 10})  # fmt: skip
        assigned = threading.Event()
        consumer.subscribe([f"{topics}product"], on_assign=lambda consumer, partitions: assigned.set())
        # Time the relay, not the consumer joining its group: the writes start once it has its partitions.
        deadline = time.monotonic() + 30
        while not assigned.is_set():
            if time.monotonic() > deadline:
                raise SystemExit("the benchmark's consumer got no partitions within 30 s")
            consumer.poll(0.1)
        committed: dict[str, float] = {}
        arrived: dict[str, float] = {}
        writing = threading.Event()
        writing.set()
        try:
            bus = bootstrap.build_command_bus(engine)

            def write() -> None:
                context = CommandContext(actor="bench", request_id="relay")
                started = time.monotonic()
                try:
                    for i in range(int(args.rate * args.seconds)):
                        due = started + i / args.rate
                        if due > time.monotonic():
                            time.sleep(max(0.0, due - time.monotonic()))
                        command = commands.CreateProduct(sku=f"R-{i}-{uuid.uuid4().hex[:6]}", name="R", brand="B",
                                                         category="C", price="1.00")  # fmt: skip
                        changed = bus.handle(command, context)
                        committed[str(changed.aggregate_id)] = time.monotonic()
                finally:
                    writing.clear()

            # Warm up: one write through the whole path (the producer's first connection and idempotence id, the
            # consumer's first fetch) before the timed ones.
            warm = bus.handle(
                commands.CreateProduct(sku=f"W-{uuid.uuid4().hex[:8]}", name="W", brand="B", category="C", price="1"),
                CommandContext(actor="bench", request_id="warm"),
            )
            deadline = time.monotonic() + 30
            while True:
                message = consumer.poll(0.1)
                if message is not None and message.error() is None and message.key() == str(warm.aggregate_id).encode():
                    break
                if time.monotonic() > deadline:
                    raise SystemExit("the warm-up write never reached the consumer")
            writer = threading.Thread(target=write)
            writer.start()
            deadline = None
            while True:
                message = consumer.poll(0.1)
                if message is not None and message.error() is None:
                    arrived.setdefault(bytes(message.key() or b"").decode(), time.monotonic())
                if not writing.is_set():
                    deadline = deadline or time.monotonic() + 15
                    if set(committed) <= set(arrived) or time.monotonic() > deadline:
                        break
            writer.join()
        finally:
            consumer.close()
            relay.send_signal(signal.SIGTERM)
            relay.wait(timeout=30)
            engine.dispose()
    lags = [arrived[key] - committed[key] for key in committed if key in arrived]
    return {
        "target_rate": args.rate,
        "seconds": args.seconds,
        "writes": len(committed),
        "never_consumed": len(committed) - len(lags),
        "latency_ms": {
            "p50": round(percentile(lags, 0.50) * 1000, 1),
            "p99": round(percentile(lags, 0.99) * 1000, 1),
            "max": round(max(lags, default=0.0) * 1000, 1),
        },
        "distribution_ms": distribution(lags),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--rate", type=float, default=200.0, help="writes per second, for the latency")
    parser.add_argument("--seconds", type=float, default=20.0)
    args = parser.parse_args()
    OUTPUT.mkdir(parents=True, exist_ok=True)
    measured = throughput(args)
    latencies = latency(args)
    path = write_result(
        "relay",
        {
            "benchmark": "relay vs a plain confluent-kafka producer, same records; commit-to-consumed latency",
            "measured_at": datetime.now(UTC).isoformat(),
            **measured,
            "latency": latencies,
        },
    )
    lat: dict[str, float] = latencies["latency_ms"]  # type: ignore[assignment]
    print(
        f"\nmedian: relay {measured['relay_events_per_second']:,.0f}/s, producer"
        f" {measured['producer_events_per_second']:,.0f}/s, ratio {measured['ratio']:.0%} (goal ≥ 60%);"
        f" commit-to-consumed at {args.rate:g}/s: p50 {lat['p50']} ms, p99 {lat['p99']} ms"
        f" ({latencies['never_consumed']} never consumed)"
    )
    print(f"written to {path}")


if __name__ == "__main__":
    main()
