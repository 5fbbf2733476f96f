"""What the benchmarks share: a fresh database of their own, results written where the README says."""

from __future__ import annotations

import contextlib
import json
import os
import statistics
from pathlib import Path
from typing import Any

from api.migrate import scratch_database

ROOT = Path(__file__).resolve().parents[2]
OUTPUT = ROOT / "test-output" / "bench"


def fresh_database() -> contextlib.AbstractContextManager[str]:
    """A new database migrated to head on the server DATABASE_URL names, dropped afterwards."""
    return scratch_database(os.environ["DATABASE_URL"], "twofold_bench")


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
