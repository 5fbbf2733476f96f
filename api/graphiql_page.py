"""GraphiQL, served whole by the API: the page, its start script and the npm-installed assets.

The assets come from `api/graphiql/node_modules`, which the setup fills from the npm registry
(`api/graphiql/package-lock.json`), so the browser never asks a CDN for anything. The page's
Content-Security-Policy forbids every other origin, so a stray reference would fail loudly in the browser.
"""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, PlainTextResponse, Response

HERE = Path(__file__).resolve().parent / "graphiql"
MODULES = HERE / "node_modules"
ASSETS = {
    "react.js": MODULES / "react" / "umd" / "react.production.min.js",
    "react-dom.js": MODULES / "react-dom" / "umd" / "react-dom.production.min.js",
    "graphiql.js": MODULES / "graphiql" / "graphiql.min.js",
    "graphiql.css": MODULES / "graphiql" / "graphiql.min.css",
    "start.js": HERE / "start.js",
}
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; font-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    "script-src 'self'; connect-src 'self'; frame-ancestors 'none'"
)


def assets_missing() -> list[str]:
    return [name for name, path in ASSETS.items() if not path.is_file()]


def page() -> Response:
    missing = assets_missing()
    if missing:
        return PlainTextResponse(
            f"GraphiQL's assets are not installed ({', '.join(missing)}): run `make setup`.", status_code=503
        )
    return HTMLResponse((HERE / "page.html").read_text(), headers={"Content-Security-Policy": CONTENT_SECURITY_POLICY})


async def asset(request: Request) -> Response:
    path = ASSETS.get(request.path_params["name"])
    if path is None or not path.is_file():
        return PlainTextResponse("Not Found", status_code=404)
    return FileResponse(path, headers={"Cache-Control": "public, max-age=3600"})
