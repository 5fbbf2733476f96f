"""Starts the tests' `twofold` processes by forking a warm one, instead of a new interpreter each time.

A new interpreter spends about two seconds importing the service before it serves or projects; the e2e
tests start two such processes per test. The launcher keeps one process (`tests/_zygote.py`) that has
imported everything once, and forks each requested process from it: a real, separate `twofold` process
with its own environment, output and signals, running the same `api.cli.main`, up in milliseconds.
`Child` answers as much of `subprocess.Popen` as the tests use.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import IO

ROOT = Path(__file__).resolve().parents[1]


class Child:
    """A `twofold` process the launcher forked: `poll`, `wait`, `terminate`, `kill`, `pid`, `returncode`."""

    def __init__(self, launcher: Launcher, pid: int) -> None:
        self._launcher = launcher
        self.pid = pid

    @property
    def returncode(self) -> int | None:
        return self._launcher.exit_code(self.pid)

    def poll(self) -> int | None:
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        code = self._launcher.wait_for_exit(self.pid, timeout)
        if code is None:
            raise subprocess.TimeoutExpired(f"twofold (pid {self.pid})", timeout or 0.0)
        return code

    def send_signal(self, number: int) -> None:
        if self.returncode is None:
            os.kill(self.pid, number)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)


class Launcher:
    def __init__(self) -> None:
        self._process = subprocess.Popen(
            [sys.executable, "-m", "tests._zygote"], cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE
        )
        assert self._process.stdin is not None
        assert self._process.stdout is not None
        self._stdin: IO[bytes] = self._process.stdin
        self._started: queue.Queue[int] = queue.Queue()
        self._exits: dict[int, int] = {}
        self._changed = threading.Condition()
        self._lock = threading.Lock()
        first = json.loads(self._process.stdout.readline() or b"{}")
        if "ready" not in first:
            raise RuntimeError("the test launcher did not start; run `python -m tests._zygote` to see why")
        self._listener = threading.Thread(target=self._listen, args=(self._process.stdout,), daemon=True)
        self._listener.start()

    def start(self, args: list[str], env: dict[str, str], log: Path) -> Child:
        """Forks `twofold ARGS` with environment `env` and its output (both streams) in `log`."""
        log.parent.mkdir(parents=True, exist_ok=True)
        return self._fork({"args": args, "env": env, "log": str(log)})

    def run(self, args: list[str], env: dict[str, str], *, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        """Runs `twofold ARGS` to its end, as `subprocess.run(..., capture_output=True, text=True)` would."""
        with tempfile.TemporaryDirectory(prefix="twofold-run-") as folder:
            out, err = Path(folder) / "stdout", Path(folder) / "stderr"
            child = self._fork({"args": args, "env": env, "stdout": str(out), "stderr": str(err)})
            try:
                code = child.wait(timeout)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
                raise
            return subprocess.CompletedProcess(["twofold", *args], code, out.read_text(), err.read_text())

    def _fork(self, request_fields: dict[str, object]) -> Child:
        request = json.dumps(request_fields) + "\n"
        with self._lock:
            self._stdin.write(request.encode())
            self._stdin.flush()
            return Child(self, self._started.get(timeout=30))

    def exit_code(self, pid: int) -> int | None:
        with self._changed:
            return self._exits.get(pid)

    def wait_for_exit(self, pid: int, timeout: float | None) -> int | None:
        with self._changed:
            self._changed.wait_for(lambda: pid in self._exits, timeout)
            return self._exits.get(pid)

    def close(self) -> None:
        """Ends the launcher and any process of its still running."""
        self._stdin.close()
        self._process.wait(timeout=30)
        self._listener.join(timeout=30)
        if self._process.stdout is not None:
            self._process.stdout.close()

    def _listen(self, stdout: IO[bytes]) -> None:
        for line in stdout:
            message = json.loads(line)
            if "started" in message:
                self._started.put(message["started"])
            elif "exited" in message:
                with self._changed:
                    self._exits[message["exited"]] = message["code"]
                    self._changed.notify_all()


_launcher: Launcher | None = None
_creating = threading.Lock()


def launcher() -> Launcher:
    """The session's launcher, started on first use; `close_launcher()` ends it."""
    global _launcher
    with _creating:
        if _launcher is None:
            _launcher = Launcher()
        return _launcher


def close_launcher() -> None:
    global _launcher
    with _creating:
        if _launcher is not None:
            _launcher.close()
            _launcher = None
