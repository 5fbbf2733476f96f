"""Fixtures shared by the integration and end-to-end tests: real PostgreSQL and Elasticsearch.

A missing or unreachable service fails the tests that need it (never skips): `make test` starts both.
Each session migrates a fresh database of its own; each test gets its own index prefix.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from elasticsearch import Elasticsearch

from api.migrate import scratch_database
from api.settings import Settings
from tests._launcher import close_launcher
from tests.integration._chaos import RECORDS as CHAOS_RECORDS


def _required_env(name: str) -> str:
    value = os.environ.get(name, "").strip()
    if not value:
        pytest.fail(f"{name} is not set: run the tests with `make test`, which starts every service they need")
    return value


@pytest.fixture(scope="session")
def server_database_url() -> str:
    url = _required_env("DATABASE_URL")
    try:
        psycopg.connect(url, connect_timeout=5).close()
    except psycopg.OperationalError as exc:
        pytest.fail(f"PostgreSQL at DATABASE_URL is unreachable: {exc}")
    return url


@pytest.fixture(scope="session")
def kafka_bootstrap_servers() -> str:
    from confluent_kafka.admin import AdminClient

    servers = _required_env("KAFKA_BOOTSTRAP_SERVERS")
    try:
        AdminClient({"bootstrap.servers": servers}).list_topics(timeout=10)
    except Exception as exc:
        pytest.fail(f"Kafka at KAFKA_BOOTSTRAP_SERVERS is unreachable: {exc}")
    return servers


@pytest.fixture(scope="session")
def elasticsearch_url() -> str:
    url = _required_env("ELASTICSEARCH_URL")
    with Elasticsearch(url, request_timeout=5) as client:
        try:
            client.cluster.health()
        except Exception as exc:
            pytest.fail(f"Elasticsearch at ELASTICSEARCH_URL is unreachable: {exc}")
    return url


def fresh_database(server_database_url: str) -> contextlib.AbstractContextManager[str]:
    """The URL of a new database migrated to head, dropped afterwards."""
    return scratch_database(server_database_url, "twofold_test")


def own_database() -> Any:
    """A `database_url` fixture that gives each test of a module a database of its own, for tests that count
    or compare everything in it. Use as `database_url = own_database()`, with a comment saying why."""

    @pytest.fixture
    def database_url(server_database_url: str) -> Iterator[str]:
        with fresh_database(server_database_url) as url:
            yield url

    return database_url


@pytest.fixture(scope="session")
def database_url(server_database_url: str) -> Iterator[str]:
    """A database of this session's own. Tests share it: each reads only what it wrote, or all of it."""
    with fresh_database(server_database_url) as url:
        yield url


@pytest.fixture
def es(elasticsearch_url: str) -> Iterator[Elasticsearch]:
    with Elasticsearch(elasticsearch_url, request_timeout=30) as client:
        yield client


@contextlib.contextmanager
def scratch_prefix(es: Elasticsearch) -> Iterator[str]:
    """A new prefix for indexes and aliases; those named with it are deleted afterwards, by name."""
    prefix = f"t{uuid.uuid4().hex[:10]}_"
    try:
        yield prefix
    finally:
        names = list(es.indices.get(index=f"{prefix}*", expand_wildcards="all"))
        if names:
            es.indices.delete(index=",".join(names))


@pytest.fixture
def index_prefix(es: Elasticsearch) -> Iterator[str]:
    """A prefix for this test's indexes and aliases; they are deleted afterwards, by name."""
    with scratch_prefix(es) as prefix:
        yield prefix


def settings_for(database_url: str, elasticsearch_url: str, index_prefix: str) -> Settings:
    """The settings the tests run processes with: a short poll, a generous wait for read-your-writes."""
    return Settings(
        database_url=database_url,
        elasticsearch_url=elasticsearch_url,
        index_prefix=index_prefix,
        consistency_timeout_seconds=10.0,
        projector_batch_size=100,
        projector_poll_seconds=0.2,
        kafka_bootstrap_servers=os.environ.get("KAFKA_BOOTSTRAP_SERVERS") or None,
        kafka_topic_prefix=f"{index_prefix}.",
    )


@pytest.fixture
def settings(database_url: str, elasticsearch_url: str, index_prefix: str) -> Settings:
    return settings_for(database_url, elasticsearch_url, index_prefix)


def cli_env(settings: Settings, **overrides: str) -> dict[str, str]:
    """The environment for a `twofold` process working on `settings`' database and indexes."""
    return {
        **os.environ,
        "DATABASE_URL": settings.database_url,
        "ELASTICSEARCH_URL": settings.elasticsearch_url,
        "TWOFOLD_INDEX_PREFIX": settings.index_prefix,
        "TWOFOLD_KAFKA_TOPIC_PREFIX": settings.kafka_topic_prefix,
        **overrides,
    }


def pytest_sessionfinish(session: pytest.Session) -> None:
    close_launcher()


def pytest_sessionstart(session: pytest.Session) -> None:
    shutil.rmtree(CHAOS_RECORDS, ignore_errors=True)  # the summary is of this run only


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """The chaos summary table: faults injected, events written, events lost, one row per fault test run."""
    rows = [json.loads(path.read_text()) for path in sorted(CHAOS_RECORDS.glob("*.json"))]
    if not rows:
        return
    header = "| scenario | faults | injected | events written | duplicates delivered | events lost |"
    table = [header, "| --- | --- | --- | --- | --- | --- |"] + [
        f"| {row['scenario']} | {row['faults']} | {row['injected']}"
        f" | {row['events_written']:,} | {row.get('duplicates', 0):,} | {row['events_lost']} |"
        for row in rows
    ]
    totals = {
        key: sum(row.get(key, 0) for row in rows) for key in ("injected", "events_written", "duplicates", "events_lost")
    }
    table.append(
        f"| **all** | | {totals['injected']} | {totals['events_written']:,} | {totals['duplicates']:,}"
        f" | **{totals['events_lost']}** |"
    )
    summary = CHAOS_RECORDS.parent
    (summary / "summary.md").write_text("\n".join(table) + "\n")
    (summary / "summary.json").write_text(json.dumps({"rows": rows, "totals": totals}, indent=2) + "\n")
    terminalreporter.section("chaos summary (test-output/chaos/summary.md)")
    for line in table:
        terminalreporter.write_line(line)
