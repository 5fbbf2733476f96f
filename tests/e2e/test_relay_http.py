"""The relay as `make run` runs it, beside the API and the projector: a product created over HTTP reaches
its Kafka topic as a CloudEvent, and the relay's state shows in `outboxConsumers`, `/metrics` and `twofold
status`."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from api.consistency import decode_token
from api.settings import Settings
from read_model.relay import all_topics
from tests._launcher import launcher
from tests.conftest import cli_env
from tests.e2e.conftest import OUTPUT, GraphQLClient, module_service
from tests.e2e.test_mutations_http import create_product
from tests.e2e.test_projections_http import scrape
from tests.integration._kafka import consume, topics_exist
from tests.integration._waiting import until

# A database of the module's own: the relay publishes the whole outbox it finds.
settings, server = module_service(own_database=True)

CONSUMERS = "{ outboxConsumers { name kind position lagEvents deadLetters pending overdue } }"


@pytest.fixture(scope="module")
def relay(settings: Settings, server: str, kafka_bootstrap_servers: str) -> Iterator[None]:
    env = cli_env(settings, KAFKA_BOOTSTRAP_SERVERS=kafka_bootstrap_servers)
    child = launcher().start(["relay"], env, OUTPUT / "e2e" / "test_relay_http" / "relay.log")
    # Running once it has created its topics: a consumer subscribed before would be told they do not exist.
    until(lambda: topics_exist(kafka_bootstrap_servers, all_topics(settings.kafka_topic_prefix)), seconds=30)
    yield
    child.terminate()
    child.wait(timeout=30)


def eventually(read: Callable[[], Any], holds: Callable[[Any], bool], seconds: float = 30) -> Any:
    deadline = time.monotonic() + seconds
    while not holds(value := read()):
        assert time.monotonic() < deadline, f"still {value} after {seconds} s"
        time.sleep(0.1)
    return value


def test_a_product_created_over_http_reaches_its_topic_as_a_cloud_event(
    relay: None, gql: GraphQLClient, settings: Settings, kafka_bootstrap_servers: str
) -> None:
    created = create_product(gql, initialStock=3)
    topic = f"{settings.kafka_topic_prefix}product"

    received = consume(
        kafka_bootstrap_servers,
        [topic],
        until=lambda got: any(r.headers.get("ce_type") == "twofold.product.ProductCreated" for r in got),
    )

    (record,) = [r for r in received if r.headers["ce_type"] == "twofold.product.ProductCreated"]
    assert record.headers["ce_specversion"] == "1.0"
    assert record.headers["ce_dataschema"] == "urn:twofold:event-schema:ProductCreated:v1"
    assert json.loads(record.value)["stock"] == 3
    written = decode_token(created["consistencyToken"])
    assert record.headers["ce_outboxposition"] == f"{written.transaction_id}:{written.position}"


def test_the_relays_state_shows_in_outbox_consumers_metrics_and_status(
    relay: None, gql: GraphQLClient, server: str, settings: Settings
) -> None:
    written = decode_token(create_product(gql)["consistencyToken"])

    def reported_past_the_write(consumers: list[dict[str, Any]]) -> bool:
        relays = [c for c in consumers if c["kind"] == "relay"]
        if not relays:
            return False
        transaction_id, position = (int(part) for part in relays[0]["position"].split(":"))
        return (transaction_id, position) >= (written.transaction_id, written.position) and relays[0]["lagEvents"] == 0

    consumers = eventually(lambda: gql(CONSUMERS)["data"]["outboxConsumers"], reported_past_the_write)
    (shown,) = [c for c in consumers if c["kind"] == "relay"]
    assert (shown["name"], shown["deadLetters"], shown["pending"], shown["overdue"]) == ("relay", 0, 0, 0)

    samples = scrape(server)
    assert samples['twofold_consumer_dead_letters{consumer="relay",kind="relay"}'] == 0
    assert samples['twofold_consumer_position{consumer="relay",kind="relay"}'] >= written.position

    status = launcher().run(["status"], cli_env(settings))
    assert status.returncode == 0, status.stderr
    assert "relay: running (a process holds the lease)" in status.stdout
    relay_line = next(
        line.split() for line in status.stdout.splitlines() if line.startswith("relay ") and "position" not in line
    )
    assert relay_line[4] == "0"  # dead letters
