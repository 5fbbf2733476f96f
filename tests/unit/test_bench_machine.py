"""The benchmarks' reading of how fast the machine was (`scripts/bench/machine.py`)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

_PATH = Path(__file__).resolve().parents[2] / "scripts" / "bench" / "machine.py"
_SPEC = importlib.util.spec_from_file_location("bench_machine", _PATH)
assert _SPEC is not None
assert _SPEC.loader is not None
machine = importlib.util.module_from_spec(_SPEC)
sys.modules["bench_machine"] = machine
_SPEC.loader.exec_module(machine)


def _stat(tmp_path: Path, cpu: str) -> Path:
    path = tmp_path / "stat"
    path.write_text(f"cpu  {cpu}\ncpu0 1 2 3 4 5 6 7 8 9 10\nintr 12345\n")
    return path


def test_cpu_times_count_every_state_once_and_the_stolen_share_between_two_readings(tmp_path: Path) -> None:
    # user nice system idle iowait irq softirq steal guest guest_nice: guest is already counted in user.
    before = machine.CpuTimes.now(_stat(tmp_path, "100 0 50 800 10 0 5 35 7 0"))
    assert (before.total, before.stolen) == (1000, 35)
    after = machine.CpuTimes.now(_stat(tmp_path, "200 0 50 850 10 0 5 85 9 0"))
    assert after.stolen_percent_since(before) == pytest.approx(25.0)
    assert before.stolen_percent_since(before) == 0.0
