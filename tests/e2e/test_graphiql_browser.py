"""GraphiQL in a real browser (Debian's chromium, headless), with every request off loopback refused."""

from __future__ import annotations

import json
import urllib.parse
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, Response, Route, sync_playwright

from tests.e2e.conftest import OUTPUT, GraphQLClient, admin_token
from tests.e2e.test_products_http import CREATE, product_input
from tests.integration._waiting import until

CHROMIUM = Path("/usr/bin/chromium")
RESTOCK = "mutation($input: RestockProductInput!) { restockProduct(input: $input) { __typename } }"
SCREENSHOTS = OUTPUT / "graphiql"


def run_in_graphiql(page: Page, server: str, query: str, expected: str, headers: dict[str, str] | None = None) -> str:
    """Opens GraphiQL with `query`, presses its run button, and returns the result pane once it shows `expected`."""
    params = {"query": query, **({"headers": json.dumps(headers)} if headers else {})}
    page.goto(f"{server}/graphql?{urllib.parse.urlencode(params)}")
    page.locator(".graphiql-execute-button").click()
    result = page.locator(".result-window")
    result.get_by_text(expected).first.wait_for(timeout=20_000)
    # The editor renders indentation as non-breaking spaces.
    return str(result.inner_text()).replace("\xa0", " ")


def test_graphiql_runs_a_query_offline_and_shows_the_result(server: str) -> None:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: the test command installs Debian's chromium (scripts/dev.sh)")
    admin = GraphQLClient(server, admin_token())
    name = "Offline Lantern"
    created = admin(CREATE, input=product_input(name=name))["data"]["createProduct"]
    assert created["product"]["name"] == name  # searchable now: the payload waited for the projection

    outside: list[str] = []
    problems: list[str] = []

    def loopback_only(route: Route) -> None:
        if urllib.parse.urlsplit(route.request.url).hostname == "127.0.0.1":
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.route("**/*", loopback_only)
            page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
            page.on("pageerror", lambda error: problems.append(str(error)))
            introspections: list[Response] = []
            page.on(
                "response",
                lambda response: (
                    introspections.append(response)
                    if "IntrospectionQuery" in (response.request.post_data or "")
                    else None
                ),
            )

            shown = run_in_graphiql(
                page, server, '{ products(query: "lantern") { totalCount edges { node { name } } } }', name
            )
            page.screenshot(path=str(SCREENSHOTS / "graphiql.png"))
            answer = json.loads(shown)
            assert answer["data"] == {"products": {"totalCount": 1, "edges": [{"node": {"name": name}}]}}
            # The page shows what the query cost: a search (10), its connection (1), 20 edges and nodes.
            assert answer["extensions"] == {"cost": {"requested": 51, "budget": 2000, "remaining": 1949}}
            # GraphiQL loaded the schema with its own introspection query, within the depth limit.
            assert introspections, "GraphiQL sent no introspection query"
            schema = introspections[0].json()
            assert "errors" not in schema, schema["errors"]
            assert schema["data"]["__schema"]["queryType"]["name"] == "Query"

            # The Headers tab carries a token, as the page's welcome text tells newcomers to do.
            token = {"Authorization": f"Bearer {admin_token()}"}
            shown = run_in_graphiql(page, server, "{ orders { totalCount } }", "totalCount", token)
            page.screenshot(path=str(SCREENSHOTS / "graphiql-with-token.png"))
            assert isinstance(json.loads(shown)["data"]["orders"]["totalCount"], int)

            # A subscription runs over the page's WebSocket; a write over HTTP shows up in the result pane.
            product = created["productId"]
            subscription = f'subscription Stock {{ productUpdated(ids: ["{product}"]) {{ name stock }} }}'
            page.goto(f"{server}/graphql?{urllib.parse.urlencode({'query': subscription})}")
            page.locator(".graphiql-execute-button").click()
            until(lambda: 'twofold_ws_subscriptions{field="productUpdated"} 1.0' in httpx.get(f"{server}/metrics").text)
            admin(RESTOCK, input={"id": product, "quantity": 7})
            result = page.locator(".result-window")
            result.get_by_text('"stock": 14').first.wait_for(timeout=20_000)
            page.screenshot(path=str(SCREENSHOTS / "graphiql-subscription.png"))
        finally:
            browser.close()
    assert outside == []
    assert problems == []
