"""A graphql-transport-ws client for the tests: the `websockets` package speaking the protocol by hand, so
that tests can also send what a well-behaved client never would."""

from __future__ import annotations

import json
import time
from typing import Any

from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

PROTOCOL = "graphql-transport-ws"


class LiveClient:
    def __init__(
        self,
        base: str,
        token: str | None = None,
        *,
        init: bool = True,
        subprotocol: str = PROTOCOL,
        request_id: str | None = None,
    ) -> None:
        self.ws: ClientConnection = connect(
            base.replace("http://", "ws://") + "/graphql",
            subprotocols=[subprotocol],  # type: ignore[list-item]
            open_timeout=10,
            # A subscriber that leaves mid-stream finds its close behind what the server sent meanwhile.
            close_timeout=1,
            additional_headers=None if request_id is None else {"X-Request-ID": request_id},
            legacy=True,  # the tests open and close connections by hand, not as context managers
        )
        if init:
            self.send(
                {"type": "connection_init", "payload": {} if token is None else {"Authorization": f"Bearer {token}"}}
            )
            assert self.receive()["type"] == "connection_ack"

    def send(self, message: Any) -> None:
        self.ws.send(message if isinstance(message, str | bytes) else json.dumps(message))

    def receive(self, timeout: float = 15) -> dict[str, Any]:
        message: dict[str, Any] = json.loads(self.ws.recv(timeout=timeout))
        return message

    def subscribe(self, operation_id: str, query: str, **variables: Any) -> None:
        self.send({"id": operation_id, "type": "subscribe", "payload": {"query": query, "variables": variables}})

    def next_data(self, operation_id: str, timeout: float = 15) -> dict[str, Any]:
        """The data of the next `next` message for `operation_id` (other messages are skipped)."""
        deadline = time.monotonic() + timeout
        while True:
            message = self.receive(timeout=max(0.01, deadline - time.monotonic()))
            if message.get("id") != operation_id:
                continue
            assert message["type"] == "next", message
            assert "errors" not in message["payload"], message
            data: dict[str, Any] = message["payload"]["data"]
            return data

    def closed(self, timeout: float = 15) -> tuple[int | None, str | None]:
        """Waits for the server to close the connection; its close code and reason."""
        deadline = time.monotonic() + timeout
        try:
            while time.monotonic() < deadline:
                self.ws.recv(timeout=max(0.01, deadline - time.monotonic()))
        except ConnectionClosed:
            pass
        except TimeoutError:
            raise AssertionError("the server did not close the connection") from None
        return self.ws.close_code, self.ws.close_reason

    def close(self) -> None:
        self.ws.close()

    def __enter__(self) -> LiveClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()
