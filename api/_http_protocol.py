"""uvicorn's HTTP protocol with a bound on how long a client may take to send a request's headers.

uvicorn closes idle keep-alive connections, but not one that opened and never finished its headers: a few
hundred such half-open connections would otherwise stay open for good. The body has its own bound, the
same one, between each of its chunks (api/observation.py).
"""

from __future__ import annotations

import asyncio

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

_TIMED_OUT = b"HTTP/1.1 408 Request Timeout\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"


def protocol_with_header_timeout(seconds: float) -> type[HttpToolsProtocol]:
    """The protocol class for `uvicorn.run(http=...)`: a request whose headers have not all arrived
    `seconds` after its connection opened (or after its first byte, on a kept-alive connection) gets a 408
    and its connection is closed."""

    class HeaderTimeoutProtocol(HttpToolsProtocol):
        _header_timer: asyncio.TimerHandle | None = None

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._start_header_timer()

        def on_message_begin(self) -> None:
            super().on_message_begin()
            if self._header_timer is None:
                self._start_header_timer()

        def on_headers_complete(self) -> None:
            self._stop_header_timer()
            super().on_headers_complete()

        def connection_lost(self, exc: Exception | None) -> None:
            self._stop_header_timer()
            super().connection_lost(exc)

        def _start_header_timer(self) -> None:
            self._header_timer = self.loop.call_later(seconds, self._headers_too_slow)

        def _stop_header_timer(self) -> None:
            if self._header_timer is not None:
                self._header_timer.cancel()
                self._header_timer = None

        def _headers_too_slow(self) -> None:
            self._header_timer = None
            if not self.transport.is_closing():
                self.transport.write(_TIMED_OUT)
                self.transport.close()

    return HeaderTimeoutProtocol
