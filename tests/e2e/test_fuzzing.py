"""Generated requests against the served schema: whatever a client sends, the answer is never a 5xx.

hypothesis-graphql writes queries and mutations from the schema itself, valid ones and invalid ones, with
strategies of ours for the custom scalars that mix good values with the hostile ones of issue 13
(exponents, floats, other scripts' digits, times out of range once in UTC). The examples are derandomized,
so every run sends the same few hundred requests, and a failure names the request that caused it.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as examples
from hypothesis import strategies as st
from hypothesis_graphql import Mode, mutations, nodes, queries

from api.schema import build_schema
from api.settings import Settings
from tests.e2e.conftest import admin_token, bearer, module_service

# One server for the module, on a store of its own: the generated mutations write whatever they are
# allowed to, and nothing else reads it.
settings, server = module_service(own_database=True)

SCHEMA = build_schema(Settings(database_url="postgresql://unused", elasticsearch_url="http://unused"))._schema
HOSTILE_TEXT = st.sampled_from(["1E+30", "NaN", "-Infinity", "\u0663.\u0660\u0660", "1.999", "", " 7", "\x00"])
DECIMALS = st.one_of(
    st.decimals(min_value=-(10**12) + 1, max_value=10**12 - 1, places=2).map(lambda d: nodes.String(str(d))),
    HOSTILE_TEXT.map(nodes.String),
    st.floats(allow_nan=False, allow_infinity=False).map(nodes.Float),
)
DATETIMES = st.one_of(
    st.datetimes(timezones=st.timezones()).map(lambda moment: nodes.String(moment.isoformat())),
    st.sampled_from(
        ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00", "2026-02-30T00:00:00Z", "yesterday"]
    ).map(nodes.String),
)
SCALARS = {"Decimal": DECIMALS, "DateTime": DATETIMES, "JSON": st.just(nodes.String("{}"))}
ADMIN = {"content-type": "application/json", **bearer(admin_token())}
ANONYMOUS = {"content-type": "application/json"}


def check(server: str, query: str, headers: dict[str, str]) -> None:
    body = json.dumps({"query": query}).encode()
    response = httpx.post(f"{server}/graphql", content=body, headers=headers, timeout=30)
    assert response.status_code < 500, response.text
    answer: Any = response.json()
    codes = [(error.get("extensions") or {}).get("code") for error in answer.get("errors") or []]
    assert "INTERNAL_SERVER_ERROR" not in codes, answer


FUZZ = examples(
    max_examples=150,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@pytest.mark.parametrize("mode", [Mode.POSITIVE, Mode.NEGATIVE], ids=["valid", "invalid"])
def test_generated_queries_never_get_a_server_error(server: str, mode: Mode) -> None:
    @FUZZ
    @given(query=queries(SCHEMA, custom_scalars=SCALARS, mode=mode))
    def run(query: str) -> None:
        check(server, query, ADMIN)

    run()


@pytest.mark.parametrize("headers", [ADMIN, ANONYMOUS], ids=["admin", "anonymous"])
def test_generated_mutations_never_get_a_server_error(server: str, headers: dict[str, str]) -> None:
    @FUZZ
    @given(query=mutations(SCHEMA, custom_scalars=SCALARS))
    def run(query: str) -> None:
        check(server, query, headers)

    run()
    assert httpx.get(f"{server}/healthz").json() == {"status": "ok"}
