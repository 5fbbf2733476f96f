"""What a fault test injected, wrote and lost: one record per scenario for the chaos summary table.

`tests/conftest.py` gathers this session's records into `test-output/chaos/summary.{md,json}` and prints the
table at the end of the run, in `make chaos` (20 kills, real service restarts) and in the test command's
smaller run alike. A test records what it measured before it asserts, so a loss shows in the table too.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

RECORDS = Path(__file__).resolve().parents[2] / "test-output" / "chaos" / "records"


def record(
    scenario: str, *, faults: str, injected: int, events_written: int, events_lost: int, duplicates: int = 0
) -> None:
    """`duplicates`: events delivered more than once (at-least-once delivery, deduped by the consumer)."""
    RECORDS.mkdir(parents=True, exist_ok=True)
    row = {
        "scenario": scenario,
        "faults": faults,
        "injected": injected,
        "events_written": events_written,
        "events_lost": events_lost,
        "duplicates": duplicates,
    }
    (RECORDS / f"{re.sub(r'[^a-z0-9]+', '-', scenario.lower())}.json").write_text(json.dumps(row) + "\n")
