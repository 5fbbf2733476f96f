"""A progress bar on standard error for long CLI commands: events done, rate and time left."""

from __future__ import annotations

import sys
import time
from typing import TextIO

from read_model.rebuild import Progress

WIDTH = 30


class ProgressBar:
    """Redraws one line on a terminal; elsewhere (a log file, CI) writes a line every few seconds."""

    def __init__(
        self, label: str, stream: TextIO = sys.stderr, every_seconds: float = 5.0, unit: str = "events"
    ) -> None:
        self._label = label
        self._unit = unit
        self._stream = stream
        self._tty = stream.isatty()
        self._every = every_seconds
        self._last = 0.0
        self._unshown: Progress | None = None

    def show(self, progress: Progress) -> None:
        now = time.monotonic()
        if not self._tty and now - self._last < self._every:
            self._unshown = progress
            return
        self._last, self._unshown = now, None
        self._write(progress)

    def finish(self) -> None:
        """Ends the bar; off a terminal, first writes the last figures if they were held back."""
        if self._unshown is not None:
            self._write(self._unshown)
            self._unshown = None
        if self._tty:
            self._stream.write("\n")
            self._stream.flush()

    def _write(self, progress: Progress) -> None:
        line = render(self._label, progress, self._unit)
        self._stream.write(f"\r{line}\033[K" if self._tty else f"{line}\n")
        self._stream.flush()


def render(label: str, progress: Progress, unit: str = "events") -> str:
    total = max(progress.total, progress.events, 1)
    filled = int(WIDTH * progress.events / total)
    eta = progress.eta_seconds
    left = "?" if eta is None else f"{eta:.0f} s"
    return (
        f"{label:<10} [{'#' * filled}{'.' * (WIDTH - filled)}] {progress.events}/{total} {unit}"
        f"  {progress.per_second:,.0f} {unit}/s  ETA {left}"
    )
