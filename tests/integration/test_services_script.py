"""`scripts/services.sh` refuses clearly, and at once, what it cannot do: a port another program holds."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_kafka_on_a_port_in_use_stops_with_a_message_naming_it() -> None:
    # A state folder the unprivileged service user can enter (pytest's own are private to their owner).
    state = Path(tempfile.mkdtemp(prefix="twofold-state-", dir="/var/tmp"))
    state.chmod(0o755)
    try:
        refused_on_a_port_in_use(state)
    finally:
        shutil.rmtree(state, ignore_errors=True)


def refused_on_a_port_in_use(state: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = {
            **os.environ,
            # Only Kafka is asked for: the other services are "set", and the state is a folder of the test's own.
            "DATABASE_URL": "postgresql://unused@127.0.0.1:1/unused",
            "ELASTICSEARCH_URL": "http://127.0.0.1:1",
            "TWOFOLD_STATE_DIR": str(state),
            "TWOFOLD_KAFKA_PORT": str(port),
        }
        env.pop("KAFKA_BOOTSTRAP_SERVERS", None)
        started = time.monotonic()
        run = subprocess.run(
            ["scripts/services.sh", "up"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=False
        )
    assert run.returncode != 0
    assert f"port {port} is in use by another program" in run.stderr
    assert "TWOFOLD_KAFKA_PORT" in run.stderr
    assert time.monotonic() - started < 30  # refused at once, never a hang
