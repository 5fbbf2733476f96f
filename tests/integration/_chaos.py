"""What a fault test injected, wrote and lost: one record per scenario for the chaos summary table; and the
restart of a local service that some of them inject.

`tests/conftest.py` gathers this session's records into `test-output/chaos/summary.{md,json}` and prints the
table at the end of the run, in `make chaos` (20 kills, real service restarts) and in the test command's
smaller run alike. A test records what it measured before it asserts, so a loss shows in the table too.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RECORDS = ROOT / "test-output" / "chaos" / "records"


def restart_service(service: str, log: Path) -> None:
    """`scripts/services.sh restart <service>`, its output kept in `log` and shown when it fails."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("w") as out:
        restarted = subprocess.run(
            ["scripts/services.sh", "restart", service], cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, check=False
        )
    assert restarted.returncode == 0, f"scripts/services.sh restart {service} failed:\n{log.read_text()[-4000:]}"


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
