"""`kill -9` of the projector in the middle of its work: nothing lost, nothing corrupted.

The projector is killed several times while it works through a backlog in small batches, restarted, and
finally compared, index by index, with a rebuild from scratch into fresh indexes. `make chaos` runs the
same test with 20 kills (TWOFOLD_CHAOS_KILLS).
"""

from __future__ import annotations

import os
import random
import signal
import time
from pathlib import Path

import psycopg
import sqlalchemy as sa
from elasticsearch import Elasticsearch

from api import bootstrap
from api.settings import Settings
from tests._launcher import launcher
from tests.conftest import cli_env, own_database
from tests.integration._chaos import record
from tests.integration._indexes import INDEXES, projected_from_scratch, sources
from tests.integration._shop import write_a_shop

KILLS = int(os.environ.get("TWOFOLD_CHAOS_KILLS", "3"))
OUTPUT = Path(__file__).resolve().parents[2] / "test-output" / "crash-recovery"


# A database of its own: every index is compared with a rebuild of the whole outbox, which must be this
# test's alone, whatever ran before it.
database_url = own_database()


def checkpoints(database_url: str, prefix: str) -> dict[str, tuple[int, int]]:
    with psycopg.connect(database_url) as connection:
        rows = connection.execute(
            "SELECT name, transaction_id, position FROM projection_checkpoints WHERE name LIKE %s", (f"{prefix}%",)
        ).fetchall()
    return {name: (transaction_id, position) for name, transaction_id, position in rows}


def behind(database_url: str, prefix: str) -> bool:
    """Whether some projection had not reached the end of the outbox."""
    with psycopg.connect(database_url) as connection:
        head = connection.execute(
            "SELECT transaction_id::text::bigint, position FROM outbox ORDER BY transaction_id DESC, position DESC"
            " LIMIT 1"
        ).fetchone()
    reached = checkpoints(database_url, prefix)
    return len(reached) < len(INDEXES) or any(checkpoint < head for checkpoint in reached.values())  # type: ignore[operator]


def test_killing_the_projector_mid_batch_never_loses_or_corrupts_anything(
    engine: sa.Engine, settings: Settings, database_url: str, es: Elasticsearch, index_prefix: str
) -> None:
    bus = bootstrap.build_command_bus(engine)
    OUTPUT.mkdir(parents=True, exist_ok=True)
    env = cli_env(settings, TWOFOLD_PROJECTOR_BATCH_SIZE="7", TWOFOLD_PROJECTOR_POLL_INTERVAL="0.1")
    rng = random.Random(KILLS)
    kills_mid_work = 0
    for kill in range(KILLS):
        write_a_shop(bus, writers=4, steps=30)  # a fresh backlog for every round
        before = checkpoints(database_url, index_prefix)
        projector = launcher().start(["project"], env, OUTPUT / f"project-{kill}.log")
        # Wait until it is working through the backlog (a checkpoint moved), then kill it at a random moment.
        deadline = time.monotonic() + 30
        while checkpoints(database_url, index_prefix) == before:
            assert projector.poll() is None, f"the projector exited; see {OUTPUT}"
            assert time.monotonic() < deadline, "the projector made no progress"
            time.sleep(0.01)
        time.sleep(rng.uniform(0, 0.05))
        os.kill(projector.pid, signal.SIGKILL)
        projector.wait()
        if behind(database_url, index_prefix):
            kills_mid_work += 1

    survivor = bootstrap.build_projector(settings)
    try:
        survivor.projector.prepare()
        survivor.projector.run_until_caught_up()
    finally:
        survivor.close()

    wrong: dict[str, list[str]] = {}
    with projected_from_scratch(settings, es) as fresh:
        for index in INDEXES:
            survived, rebuilt = sources(es, f"{index_prefix}{index}"), sources(es, f"{fresh}{index}")
            wrong[index] = sorted(
                doc_id for doc_id in survived.keys() | rebuilt.keys() if survived.get(doc_id) != rebuilt.get(doc_id)
            )
    with engine.connect() as connection:
        written = connection.execute(sa.text("SELECT count(*) FROM outbox")).scalar_one()
    # Every event has its own document in the events index: a lost event is a missing or different one there.
    record(
        "kill -9 of the projector mid-batch, compared with a rebuild from scratch",
        faults="kill -9",
        injected=kills_mid_work,
        events_written=written,
        events_lost=len(wrong["events"]),
    )
    assert all(not ids for ids in wrong.values()), {index: ids[:3] for index, ids in wrong.items() if ids}
    assert kills_mid_work == KILLS, f"only {kills_mid_work} of {KILLS} kills landed while the projector was behind"
