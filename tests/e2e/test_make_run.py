"""`make run` (scripts/dev.sh run): a run that fails leaves nothing of itself behind."""

from __future__ import annotations

import os
import socket
import subprocess
from pathlib import Path

from tests.conftest import own_database

ROOT = Path(__file__).resolve().parents[2]

# A database of the test's own: the run's saga would expire the unpaid orders other tests left in theirs.
database_url = own_database()


def processes_with(marker: str) -> list[int]:
    """The pids of the live processes whose environment holds `marker`."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and entry.name != str(os.getpid()):
            try:
                if marker.encode() in (entry / "environ").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                continue  # gone meanwhile, or not ours to read
    return found


def test_a_run_whose_port_is_taken_fails_and_takes_its_projector_and_saga_with_it(
    database_url: str, elasticsearch_url: str, index_prefix: str, tmp_path: Path
) -> None:
    logs = tmp_path
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "ELASTICSEARCH_URL": elasticsearch_url,
            "TWOFOLD_INDEX_PREFIX": index_prefix,
            "TWOFOLD_PORT": str(taken.getsockname()[1]),
            "TWOFOLD_SEED_DEMO": "0",
        }
        # Output to files, not pipes: a projector or saga left behind would hold a pipe open, and the test with it.
        with (logs / "stdout").open("w+") as stdout, (logs / "stderr").open("w+") as stderr:
            run = subprocess.run(
                ["scripts/dev.sh", "run"], cwd=ROOT, env=env, stdout=stdout, stderr=stderr, timeout=120, check=False
            )
        output, errors = (logs / "stdout").read_text(), (logs / "stderr").read_text()
    assert run.returncode != 0
    assert "address already in use" in output + errors
    assert "unbound variable" not in errors
    assert processes_with(f"TWOFOLD_INDEX_PREFIX={index_prefix}") == []
