"""The trivial benchmark's baseline: a plain Starlette JSON route answering what `{ __typename }` answers.

It reads and parses the JSON body, as any endpoint of a JSON API would, and returns the same bytes the
GraphQL endpoint returns. Run by `scripts/bench/trivial.py` under the same uvicorn settings as `twofold serve`.
"""

from __future__ import annotations

import json

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

# What `{ __typename }` answers, its cost report included (docs/security.md, "Cost").
ANSWER = {"data": {"__typename": "Query"}, "extensions": {"cost": {"requested": 0, "budget": 2000, "remaining": 2000}}}


async def answer(request: Request) -> JSONResponse:
    json.loads(await request.body())
    return JSONResponse(ANSWER)


app = Starlette(routes=[Route("/graphql", answer, methods=["POST"])])
