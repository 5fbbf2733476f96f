"""What each worker process of `twofold serve --workers N` loads by name (uvicorn spawns its workers and
gives them import strings, not objects): the application and the HTTP protocol, built from the settings
in the environment the worker inherits from `twofold serve`."""

from __future__ import annotations

from starlette.applications import Starlette

from api import logs
from api._http_protocol import protocol_with_header_timeout
from api.app import create_serving_app
from api.settings import Settings

logs.configure()  # a spawned process starts with no logging of its own: the same JSON lines as the parent's
_settings = Settings.from_env()

HeaderTimeoutProtocol = protocol_with_header_timeout(_settings.read_timeout_seconds)


def application() -> Starlette:
    return create_serving_app(_settings)
