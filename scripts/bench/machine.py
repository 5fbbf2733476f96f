"""How fast the machine itself is while a benchmark step runs.

Ratios and differences measured within one run are comparable; figures of different runs are not, because
this machine kind's speed moves by hours (the plain Starlette route of the trivial benchmark served from
2,000 to 23,800 requests/s in full runs of the same day). Two figures per step say how the machine fared:

- the reference loop: a fixed piece of pure Python (JSON, dicts, strings: what the API does most) timed
  before the step and after it, the median of five runs of it each time: the interpreter's speed then;
- the CPU stolen: the share of the machine's CPU time that the hypervisor gave to other guests during
  the step (`steal` in `/proc/stat`).
"""

from __future__ import annotations

import json
import statistics
import time
from dataclasses import dataclass
from pathlib import Path

PROC_STAT = Path("/proc/stat")
REFERENCE_RUNS = 5


@dataclass(frozen=True)
class CpuTimes:
    """The machine's CPU time since boot, in clock ticks, all cores together: every state, and stolen."""

    total: int
    stolen: int

    @classmethod
    def now(cls, stat: Path = PROC_STAT) -> CpuTimes:
        # "cpu  user nice system idle iowait irq softirq steal guest guest_nice" (guest is counted in user).
        ticks = [int(field) for field in stat.read_text().splitlines()[0].split()[1:]]
        return cls(total=sum(ticks[:8]), stolen=ticks[7])

    def stolen_percent_since(self, earlier: CpuTimes) -> float:
        elapsed = self.total - earlier.total
        return round(100 * (self.stolen - earlier.stolen) / elapsed, 1) if elapsed > 0 else 0.0


def _reference_work() -> int:
    catalog = [
        {"id": f"{index:08x}", "name": f"Product {index}", "price": f"{index % 500}.99", "tags": ["a", "b", "c"]}
        for index in range(2_000)
    ]
    decoded = json.loads(json.dumps(catalog))
    by_name = {item["name"].lower(): item for item in decoded if item["tags"][0] == "a"}
    return sum(len(key) for key in by_name)


def reference_loop_ms() -> float:
    """The median wall time of `REFERENCE_RUNS` runs of the reference loop, in milliseconds."""
    _reference_work()  # the first run warms the allocator
    timings = []
    for _ in range(REFERENCE_RUNS):
        started = time.perf_counter()
        _reference_work()
        timings.append(time.perf_counter() - started)
    return round(statistics.median(timings) * 1000, 2)
