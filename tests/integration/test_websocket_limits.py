"""The WebSocket endpoint's own limits (docs/subscriptions.md#limits), on the application served in this
process (uvicorn on a thread) with a clock of the test's own: a token's expiry, the connections a process
holds, the origins let in."""

from __future__ import annotations

import dataclasses
import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import uvicorn
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import ClientConnection, connect

from api.app import create_app
from api.auth import Role, mint_token
from api.settings import Settings
from tests.e2e.conftest import free_port
from tests.integration._waiting import until

PROTOCOL: Any = ["graphql-transport-ws"]


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 3, 1, 12, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


class Client:
    """Opens WebSocket connections to the server the test runs."""

    def __init__(self, url: str) -> None:
        self.url = url

    def websocket_connect(
        self, path: str, subprotocols: Any, headers: dict[str, str] | None = None
    ) -> ClientConnection:
        origin: Any = (headers or {}).get("origin")
        return connect(self.url + path, subprotocols=subprotocols, origin=origin, open_timeout=10, close_timeout=1)


@pytest.fixture
def client(settings: Settings, clock: Clock) -> Iterator[Client]:
    limited = dataclasses.replace(settings, ws_max_connections=2, ws_allowed_origins=("https://shop.example",))
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(limited, clock=clock), port=port, log_config=None))
    thread = threading.Thread(target=server.run)
    thread.start()
    try:
        until(lambda: server.started)
        yield Client(f"ws://127.0.0.1:{port}")
    finally:
        server.should_exit = True
        thread.join()


def init(ws: ClientConnection, token: str | None = None) -> None:
    payload = {} if token is None else {"Authorization": f"Bearer {token}"}
    ws.send(json.dumps({"type": "connection_init", "payload": payload}))
    assert json.loads(ws.recv(timeout=10))["type"] == "connection_ack"


def closed(ws: ClientConnection) -> tuple[int | None, str | None]:
    with pytest.raises(ConnectionClosed):
        ws.recv(timeout=10)
    return ws.close_code, ws.close_reason


def test_a_connection_is_closed_with_4403_once_its_token_expires(
    client: Client, settings: Settings, clock: Clock
) -> None:
    token = mint_token(settings.jwt_secret, role=Role.ADMIN, subject="t", ttl=timedelta(minutes=5), now=clock.now)
    with client.websocket_connect("/graphql", subprotocols=PROTOCOL) as ws:
        init(ws, token)
        clock.now += timedelta(minutes=5)  # expired, but within the 30 s of leeway HTTP allows too
        ws.send(json.dumps({"type": "ping"}))
        assert json.loads(ws.recv(timeout=10)) == {"type": "pong"}
        clock.now += timedelta(seconds=31)
        code, reason = closed(ws)
    assert code == 4403
    assert "expired" in (reason or "")


def test_an_expired_token_is_refused_at_connection_init(client: Client, settings: Settings, clock: Clock) -> None:
    token = mint_token(
        settings.jwt_secret, role=Role.ADMIN, subject="t", ttl=timedelta(minutes=5), now=clock.now - timedelta(hours=1)
    )
    with client.websocket_connect("/graphql", subprotocols=PROTOCOL) as ws:
        ws.send(json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}}))
        assert closed(ws) == (4403, "Forbidden: the token has expired")


def test_a_connection_beyond_the_process_limit_is_closed_with_1013(client: Client) -> None:
    with (
        client.websocket_connect("/graphql", subprotocols=PROTOCOL) as first,
        client.websocket_connect("/graphql", subprotocols=PROTOCOL) as second,
    ):
        init(first)
        init(second)
        with client.websocket_connect("/graphql", subprotocols=PROTOCOL) as third:
            assert closed(third)[0] == 1013
    until(lambda: "twofold_ws_connections 0.0" in httpx.get(client.url.replace("ws://", "http://") + "/metrics").text)
    with client.websocket_connect("/graphql", subprotocols=PROTOCOL) as again:  # the two have left
        init(again)


def test_a_page_on_an_origin_not_allowed_cannot_open_a_websocket(client: Client) -> None:
    with pytest.raises(InvalidStatus) as refused:
        client.websocket_connect("/graphql", subprotocols=PROTOCOL, headers={"origin": "https://evil.example"})
    assert refused.value.response.status_code == 403
    with client.websocket_connect(
        "/graphql", subprotocols=PROTOCOL, headers={"origin": "https://shop.example"}
    ) as allowed:
        init(allowed)
