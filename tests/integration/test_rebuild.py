"""`twofold rebuild`: a projection refilled from the outbox beside the live one, then switched to with no
downtime, while writers keep writing and readers keep reading."""

from __future__ import annotations

import itertools
import subprocess
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import sqlalchemy as sa
from elasticsearch import ApiError, Elasticsearch

from api import bootstrap
from api.settings import Settings
from read_model.indexes import CUSTOMERS, EVENTS, ORDERS, PRODUCTS, IndexNames
from tests._launcher import launcher
from tests.conftest import cli_env, fresh_database, scratch_prefix, settings_for
from tests.integration._indexes import INDEXES, projected_from_scratch, sources
from tests.integration._shop import write_a_shop
from write_model import commands
from write_model.outbox import CommandContext


@dataclass
class UnderLoad:
    """What a rebuild under writes and reads gave: its output, and what the reader saw meanwhile."""

    done: subprocess.CompletedProcess[str]
    counts: list[int]
    problems: list[str]


def rebuild_under_load(engine: sa.Engine, settings: Settings, es: Elasticsearch, index_prefix: str) -> UnderLoad:
    """`twofold rebuild all` while the live projector runs, a writer adds 50 products a second and a reader
    counts the products without pause; then the live projector catches up."""
    bus = bootstrap.build_command_bus(engine)
    write_a_shop(bus, writers=4, steps=20)
    live = bootstrap.build_projector(settings)
    try:
        live.projector.prepare()
        live.projector.run_until_caught_up()  # the shop is searchable before the reader starts
        stop = threading.Event()
        threads = [threading.Thread(target=live.projector.run_forever, args=(stop,))]
        problems: list[str] = []
        counts: list[int] = []

        def read_all_the_time() -> None:
            while not stop.is_set():
                try:
                    counts.append(es.count(index=f"{index_prefix}products")["count"])
                except ApiError as exc:
                    problems.append(str(exc))

        def keep_writing() -> None:
            context = CommandContext(actor="writer", request_id="rebuild")
            while not stop.wait(0.02):  # about 50 writes a second
                sku = f"RB-{uuid.uuid4().hex[:10]}"
                bus.handle(commands.CreateProduct(sku=sku, name="R", brand="B", category="C", price="2"), context)

        threads += [threading.Thread(target=read_all_the_time), threading.Thread(target=keep_writing)]
        for thread in threads:
            thread.start()
        try:
            env = cli_env(settings, TWOFOLD_PROJECTOR_BATCH_SIZE="50")
            done = launcher().run(["rebuild", "all"], env)
        finally:
            stop.set()
            for thread in threads:
                thread.join()
        live.projector.run_until_caught_up()
    finally:
        live.close()
    return UnderLoad(done, counts, problems)


@dataclass
class Rebuilt:
    result: UnderLoad
    settings: Settings
    es: Elasticsearch


@pytest.fixture(scope="module")
def rebuilt(server_database_url: str, elasticsearch_url: str) -> Iterator[Rebuilt]:
    """One rebuild under load for the whole module: its tests check different things of the same run. In a
    database of its own, so that it replays its own shop, not whatever the tests before it wrote."""
    with (
        fresh_database(server_database_url) as database_url,
        Elasticsearch(elasticsearch_url, request_timeout=30) as es,
        scratch_prefix(es) as prefix,
    ):
        settings = settings_for(database_url, elasticsearch_url, prefix)
        engine = bootstrap.create_engine(settings)
        try:
            yield Rebuilt(rebuild_under_load(engine, settings, es, prefix), settings, es)
        finally:
            engine.dispose()


def test_a_rebuild_switches_indexes_without_failed_queries_or_an_empty_index_and_loses_nothing(
    rebuilt: Rebuilt,
) -> None:
    result, settings, es, index_prefix = rebuilt.result, rebuilt.settings, rebuilt.es, rebuilt.settings.index_prefix
    assert result.done.returncode == 0, result.done.stderr
    assert not result.problems, result.problems[:3]
    assert result.counts, "the reader never read"
    assert min(result.counts) > 0, "a query saw an empty index"
    names = IndexNames(index_prefix)
    for definition in (PRODUCTS, CUSTOMERS, ORDERS, EVENTS):
        assert f"{definition.name}: " in result.done.stdout
        (target,) = es.indices.get_alias(name=names.alias(definition))
        assert target.startswith(f"{names.versioned(definition)}_"), target
        assert es.indices.exists(index=names.versioned(definition)), "the previous index is kept"
    assert "events/s" in result.done.stderr
    with projected_from_scratch(settings, es) as fresh:
        for index in INDEXES:
            assert sources(es, f"{index_prefix}{index}") == sources(es, f"{fresh}{index}"), index


def test_a_rebuild_never_hides_a_product_even_for_a_moment(rebuilt: Rebuilt) -> None:
    result = rebuilt.result
    assert result.done.returncode == 0, result.done.stderr
    assert all(later >= earlier for earlier, later in itertools.pairwise(result.counts)), "products vanished"
