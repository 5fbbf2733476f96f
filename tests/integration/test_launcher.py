"""The tests' launcher forks real `twofold` processes: each with its own environment, output, exit code and
signals, as a new interpreter would have."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

import pytest

from api.settings import Settings
from tests._launcher import launcher
from tests.conftest import cli_env


def test_a_forked_command_runs_with_its_arguments_and_environment_and_reports_its_exit_code(tmp_path: Path) -> None:
    schema = tmp_path / "schema.graphql"
    done = launcher().start(["export-schema", "--output", str(schema)], dict(os.environ), tmp_path / "export.log")
    assert done.wait(timeout=30) == 0
    assert "type Query" in schema.read_text()

    refused = launcher().start(["project"], {**os.environ, "TWOFOLD_ENV": "staging"}, tmp_path / "refused.log")
    assert refused.wait(timeout=30) == 2
    assert "TWOFOLD_ENV must be one of" in (tmp_path / "refused.log").read_text()


def test_a_forked_projector_is_a_process_of_its_own_that_signals_end(settings: Settings, tmp_path: Path) -> None:
    projector = launcher().start(["project"], cli_env(settings), tmp_path / "project.log")
    assert projector.poll() is None
    assert projector.pid != os.getpid()
    with pytest.raises(subprocess.TimeoutExpired):
        projector.wait(timeout=0.5)
    os.kill(projector.pid, signal.SIGKILL)
    assert projector.wait(timeout=30) == -signal.SIGKILL
    assert projector.returncode == -signal.SIGKILL
