"""The warm side of `tests/_launcher.py`: imports the service once, then forks each `twofold` process asked for.

Started as `python -m tests._zygote`. It reads one JSON request a line on standard input,
`{"args": [...], "env": {...}, "log": "path"}` (or `"stdout"` and `"stderr"` paths apart), forks a child
that runs `api.cli.main(args)` with that environment and its output there, and answers
`{"started": pid}` on standard output. When a child
ends it says `{"exited": pid, "code": n}` (a signal's number negated, as `subprocess` does). At the end of
standard input it ends its children and exits.

It has imported everything a `twofold` process needs before it forks, so a child is up in milliseconds,
and it has started no thread, event loop or connection that a child would inherit.
"""

from __future__ import annotations

import json
import os
import select
import signal
import sys
import traceback

# Everything a child needs, imported once here: uvicorn with the C parser and loop it picks up on its own.
import uvicorn.loops.uvloop
import uvicorn.protocols.http.httptools_impl  # noqa: F401

import api.app
import api.bootstrap
import api.cli


def _run_child(request: dict[str, object], wakeup: tuple[int, int]) -> None:
    """In the forked child: becomes the asked-for `twofold` process; never returns."""
    code = 1
    try:
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        for fd in wakeup:
            os.close(fd)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        out = _open_for_writing(str(request.get("stdout", request.get("log"))))
        os.dup2(out, 1)
        os.dup2(out if "log" in request else _open_for_writing(str(request["stderr"])), 2)
        os.environ.clear()
        os.environ.update({str(k): str(v) for k, v in dict(request["env"]).items()})  # type: ignore[call-overload]
        code = api.cli.main([str(arg) for arg in request["args"]])  # type: ignore[attr-defined]
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    except BaseException:
        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def _open_for_writing(path: str) -> int:
    return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)


def _say(message: dict[str, int]) -> None:
    os.write(1, (json.dumps(message) + "\n").encode())


def _reap(children: set[int]) -> None:
    while children:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        children.discard(pid)
        code = -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)
        _say({"exited": pid, "code": code})


def main() -> None:
    wakeup = os.pipe()
    os.set_blocking(wakeup[1], False)
    signal.set_wakeup_fd(wakeup[1])
    signal.signal(signal.SIGCHLD, lambda *_: None)
    children: set[int] = set()
    pending = b""
    _say({"ready": os.getpid()})
    while True:
        try:
            ready, _, _ = select.select([0, wakeup[0]], [], [])
        except InterruptedError:
            continue
        if wakeup[0] in ready:
            os.read(wakeup[0], 4096)
            _reap(children)
        if 0 not in ready:
            continue
        chunk = os.read(0, 65536)
        if not chunk:
            break
        pending += chunk
        while b"\n" in pending:
            line, pending = pending.split(b"\n", 1)
            request = json.loads(line)
            pid = os.fork()
            if pid == 0:
                _run_child(request, wakeup)
            children.add(pid)
            _say({"started": pid})
    for pid in children:
        os.kill(pid, signal.SIGKILL)


if __name__ == "__main__":
    main()
