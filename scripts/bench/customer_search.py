"""Benchmark: `customers` search latency through GraphQL over HTTP against the same Elasticsearch request sent
directly, in the same run, at a fixed rate.

    scripts/dev.sh bench-customer-search [--customers 100000] [--rate 20] [--seconds 20] [--rounds 2]

A fresh database holds the benchmarks' data set (scripts/bench/dataset.py) with `--customers` customers,
a product for every hundred of them and an order for every ten, indexed by the projector. Each request
searches a customer's name with one typo (a letter of the last name changed), as a back office types it:

- `graphql`: `POST /graphql` as an admin to one `twofold serve` process, asking for a page of 20 with
  highlights and every statistic; it selects no cursor and no page info, so nobody can page on: the
  search is one request, with no point in time;
- `direct`: the same search request body (read_model/adapters/elasticsearch_customer_search.py), POSTed to
  the alias's `_search`.

Open loop and one client for both sides, as `search.py`. Figures go to `test-output/bench/customer_search.json`.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import signal
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from _common import (
    JsonPoster,
    alternate,
    free_port,
    fresh_database,
    start_serve,
    wait_until_up,
    write_result,
)
from dataset import drop_indexes, load
from search import open_loop

from api.auth import Role, mint_token
from api.seed import FIRST_NAMES, LAST_NAMES
from api.settings import jwt_secret
from read_model.adapters.elasticsearch_customer_search import search_body
from read_model.indexes import CUSTOMERS
from read_model.search.customers import CustomerCriteria

QUERY = """
query($q: String) {
  customers(query: $q, first: 20) {
    totalCount
    edges {
      highlights { field snippets }
      node { id name email orderCount lifetimeValue averageOrderValue lastOrderAt }
    }
  }
}
"""
PAGE = 20


def typos(count: int, seed_value: int) -> list[str]:
    """`count` names of the data set, each with one letter of the last name changed."""
    rng = random.Random(seed_value)
    names = []
    for _ in range(count):
        last = rng.choice(LAST_NAMES)
        at = rng.randrange(1, len(last))
        names.append(f"{rng.choice(FIRST_NAMES)} {last[:at]}{rng.choice('aeiouxz')}{last[at + 1 :]}")
    return names


async def run_graphql(port: int, token: str, rate: float, work: list[str]) -> list[float]:
    async with JsonPoster({"authorization": f"Bearer {token}"}) as client:

        async def send(name: str) -> None:
            answer = await client.post(f"http://127.0.0.1:{port}/graphql", {"query": QUERY, "variables": {"q": name}})
            assert "errors" not in answer, answer

        return await open_loop(rate, [(name, "") for name in work], lambda name, _: send(name))


async def run_direct(url: str, alias: str, rate: float, work: list[str]) -> list[float]:
    async with JsonPoster() as client:

        async def send(name: str) -> None:
            body = {**search_body(CustomerCriteria(text=name)), "size": PAGE + 1}
            await client.post(f"{url}/{alias}/_search", body)

        return await open_loop(rate, [(name, "") for name in work], lambda name, _: send(name))


def measure(url: str, prefix: str, *, rate: float, seconds: float, rounds: int, name: str) -> dict[str, Any]:
    es_url = os.environ["ELASTICSEARCH_URL"]
    alias = f"{prefix}{CUSTOMERS.name}"
    count = int(rate * seconds)
    port = free_port()
    env = {**os.environ, "DATABASE_URL": url, "TWOFOLD_INDEX_PREFIX": prefix, "TWOFOLD_PORT": str(port)}
    secret = jwt_secret(env, production=False)
    token = mint_token(secret, role=Role.ADMIN, subject="bench", ttl=timedelta(hours=1), now=datetime.now(UTC))
    server = start_serve(env, f"{name}_serve.log")
    try:
        wait_until_up(f"http://127.0.0.1:{port}/healthz", server)
        figures = alternate(
            rounds,
            lambda number: typos(count, number),
            {
                "direct": lambda work: asyncio.run(run_direct(es_url, alias, rate, work)),
                "graphql": lambda work: asyncio.run(run_graphql(port, token, rate, work)),
            },
            warm_up=typos(min(100, count), 0),
        )
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    return {
        "benchmark": "customers search (a name with a typo, highlights, statistics): GraphQL vs the direct request",
        "measured_at": datetime.now(UTC).isoformat(),
        "rate_per_second": rate,
        "seconds_per_round": seconds,
        **figures,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--rate", type=float, default=20.0)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--name", default="customer_search", help="result file name under test-output/bench/")
    args = parser.parse_args()
    prefix = f"customers{uuid.uuid4().hex[:8]}_"
    with fresh_database() as url:
        try:
            loaded = load(
                url, prefix, max(1, args.customers // 100), max(1, args.customers // 10), customers=args.customers
            )
            result = measure(url, prefix, rate=args.rate, seconds=args.seconds, rounds=args.rounds, name=args.name)
        finally:
            drop_indexes(prefix)
    result["customers"] = loaded.customers
    result["dataset"] = loaded.summary()
    path = write_result(args.name, result)
    print(
        f"\nmedian: graphql p50 {result['graphql_p50_ms']} ms / p99 {result['graphql_p99_ms']} ms;"
        f" direct p50 {result['direct_p50_ms']} ms / p99 {result['direct_p99_ms']} ms"
    )
    print(f"written to {path}")


if __name__ == "__main__":
    main()
