"""What the benchmarks share: a fresh database of their own, results written where the README says."""

from __future__ import annotations

import contextlib
import json
import os
import statistics
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy.engine import make_url

from api.migrate import upgrade_to_head
from api.settings import sqlalchemy_url

ROOT = Path(__file__).resolve().parents[2]
OUTPUT = ROOT / "test-output" / "bench"


@contextlib.contextmanager
def fresh_database() -> Iterator[str]:
    """A new database migrated to head on the server DATABASE_URL names, dropped afterwards."""
    server_url = os.environ["DATABASE_URL"]
    name = f"twofold_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(server_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = make_url(server_url).set(database=name).render_as_string(hide_password=False)
    try:
        upgrade_to_head(sqlalchemy_url(url))
        yield url
    finally:
        with psycopg.connect(server_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))] if ordered else 0.0


def median(values: list[float]) -> float:
    return statistics.median(values) if values else 0.0


def write_result(name: str, result: dict[str, Any]) -> Path:
    OUTPUT.mkdir(parents=True, exist_ok=True)
    path = OUTPUT / f"{name}.json"
    path.write_text(json.dumps(result, indent=2) + "\n")
    return path
