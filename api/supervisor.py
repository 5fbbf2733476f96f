"""The parent process of `twofold serve --workers N`: uvicorn's supervisor, except that every worker listens
on a socket of its own.

uvicorn's process model binds one socket and hands it to every worker, and the worker whose loop wakes first
accepts every connection waiting: eight keep-alive connections opened together sat 7 to 1 or 0 to 8 on two
workers (docs/benchmarks.md, "Two workers"). Here each worker gets its own socket in one `SO_REUSEPORT`
group, and the kernel spreads connections over the group by their addresses.
"""

from __future__ import annotations

import errno
import logging
import socket
import sys

from uvicorn.config import STARTUP_FAILURE, Config
from uvicorn.supervisors.multiprocess import Multiprocess, Process

logger = logging.getLogger("uvicorn.error")


class PortInUse(OSError):
    """Something already listens on the address `twofold serve` was asked to bind."""


def check_port_free(host: str, port: int) -> None:
    """Raises `PortInUse` when anything listens on `host:port`.

    Sockets of one `SO_REUSEPORT` group bind the same port, so binding the workers' own sockets would not
    notice a second `twofold serve --workers N` on the port (of the same user): it would silently take a
    share of the first one's connections. A plain bind does notice it (`SO_REUSEADDR` only lets it past
    connections left in TIME_WAIT, as uvicorn's own bind does)."""
    probe = socket.socket(_family(host), socket.SOCK_STREAM)
    try:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind((host, port))
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise PortInUse(f"{host}:{port} is already in use") from exc
        raise
    finally:
        probe.close()


def reuse_port_socket(host: str, port: int) -> socket.socket:
    """A socket bound to `host:port` in the port's `SO_REUSEPORT` group, not yet listening: the worker it is
    handed to listens on it, and the group takes it in from then on."""
    listener = socket.socket(_family(host), socket.SOCK_STREAM)
    try:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        listener.bind((host, port))
    except BaseException:
        listener.close()
        raise
    listener.set_inheritable(True)
    return listener


def _family(host: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in host else socket.AF_INET


class Workers(Multiprocess):
    """uvicorn's `Multiprocess`: it replaces a worker that dies or stops answering its health check, and
    keeps its signals (INT and TERM stop, HUP replaces every worker one by one, TTIN and TTOU add or remove
    one). Every worker it starts, replacements included, gets a socket of its own."""

    def __init__(self, config: Config) -> None:
        super().__init__(config, sockets=[])

    def run(self) -> None:
        host, port = self.config.host, self.config.port
        try:
            check_port_free(host, port)
        except OSError as exc:  # as uvicorn reports a failed bind for one worker
            logger.error(exc)
            sys.exit(STARTUP_FAILURE)
        logger.info(f"Listening on http://{host}:{port} with {self.processes_num} workers, a socket each")
        super().run()

    def start_worker(self) -> Process:
        """A started worker with a socket of its own. The parent closes its copy at once: it never accepts,
        and a listening socket of the group held by the parent after its worker died would keep taking its
        share of the connections, with nobody to accept them."""
        listener = reuse_port_socket(self.config.host, self.config.port)
        try:
            process = Process(self.config, [listener])
            process.start()  # the spawned worker inherits the descriptor here
        finally:
            listener.close()
        return process

    def init_processes(self) -> None:
        self.processes = [self.start_worker() for _ in range(self.processes_num)]

    # The three methods below are uvicorn 0.54's own, with `start_worker()` where it starts a worker on the
    # shared sockets.

    def restart_all(self) -> None:
        for index, old in enumerate(self.processes):
            if self.should_exit.is_set():
                return
            new = self.start_worker()
            if not new.wait_until_ready(self.config.timeout_worker_healthcheck, self.should_exit):
                new.kill()
                new.join()
                if not self.should_exit.is_set():
                    logger.error(f"New worker [{new.pid}] was not ready in time; keeping [{old.pid}], restart aborted.")
                return
            old.terminate()
            old.join()
            self.processes[index] = new

    def keep_subprocess_alive(self) -> None:
        if self.should_exit.is_set():
            return
        for index, process in enumerate(self.processes):
            if process.is_alive(timeout=self.config.timeout_worker_healthcheck):
                continue
            process.kill()  # hung: it has not answered its health check
            process.join()
            if process.exitcode == STARTUP_FAILURE:
                # It failed before serving: the app or the bind is broken, and would fail again on every restart.
                logger.error(f"Worker [{process.pid}] failed to start, stopping the parent process.")
                self.should_exit.set()
                return
            if self.should_exit.is_set():
                return
            logger.info(f"Worker [{process.pid}] died")
            self.processes[index] = self.start_worker()

    def handle_ttin(self) -> None:
        logger.info("Received SIGTTIN, adding a worker.")
        self.processes_num += 1
        self.processes.append(self.start_worker())
