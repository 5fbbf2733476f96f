"""What the `customer` query decides, run in process over the real schema with the read model's fakes.

The fakes keep the contract of their real adapters (tests/integration/test_read_side_contract.py); the
e2e tests run the same decisions against real processes.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from starlette.requests import Request

from api.auth import ANONYMOUS, Actor, Role
from api.consistency import encode_token
from api.context import Context
from api.cost import RequestBudget
from api.ids import to_global_id
from api.observation import Observation
from api.pagination import Cursors
from api.schema import build_schema
from api.settings import Settings
from api.write_threads import WriteThreads
from read_model.checkpoint import Checkpoint
from read_model.consistency import ConsistencyWaiter
from read_model.ports import ReadModel
from read_model.views import CustomerView
from tests.fakes import FakeCustomerLookup, FakePublishedProgress, FakeStore, fake_command_bus

SETTINGS = Settings(database_url="postgresql://unused", elasticsearch_url="http://unused")
SCHEMA = build_schema(SETTINGS)
ADA, BOB = uuid.UUID(int=1), uuid.UUID(int=2)
NOW = datetime(2026, 1, 2, tzinfo=UTC)
QUERY = "query($id: ID!, $t: String) { customer(id: $id, consistentWith: $t) { name orderCount lifetimeValue } }"


class Untouched:
    """A port the query must not use: any use fails the test."""

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"the customer query used {name} of a port it has no business with")


def run(actor: Actor, customer: uuid.UUID, **variables: Any) -> dict[str, Any]:
    lookup = FakeCustomerLookup()
    lookup.customers[str(ADA)] = CustomerView(
        id=ADA,
        name="Ada",
        email="ada@example.com",
        version=1,
        order_count=2,
        lifetime_value=Decimal("8.96"),
        average_order_value=Decimal("4.48"),
        first_order_at=NOW,
        last_order_at=NOW,
        created_at=NOW,
        updated_at=NOW,
    )
    progress = FakePublishedProgress()
    progress.positions["customers"] = Checkpoint(10, 5)

    seen = Observation("r-1")

    async def execute() -> dict[str, Any]:
        context = Context(
            settings=SETTINGS,
            read=ReadModel(
                products=Untouched(),  # type: ignore[arg-type]
                orders=Untouched(),  # type: ignore[arg-type]
                customers=lookup,
                customer_search=Untouched(),  # type: ignore[arg-type]
                customer_reports=Untouched(),  # type: ignore[arg-type]
                records=Untouched(),  # type: ignore[arg-type]
                events=Untouched(),  # type: ignore[arg-type]
                order_history=Untouched(),  # type: ignore[arg-type]
                sales=Untouched(),  # type: ignore[arg-type]
                consistency=ConsistencyWaiter(progress, timeout_seconds=0.05),
                projections=Untouched(),  # type: ignore[arg-type]
            ),
            command_bus=fake_command_bus(FakeStore()),
            request=Request(
                {"type": "http", "method": "POST", "path": "/graphql", "headers": [], "state": {"observation": seen}}
            ),
            actor=actor,
            request_id="r-1",
            cursors=Cursors("a secret of at least thirty-two characters"),
            budget=RequestBudget(SETTINGS.max_cost),
            searches=asyncio.Semaphore(4),
            write_threads=WriteThreads(1),
        )
        result = await SCHEMA.execute(
            QUERY, variable_values={"id": to_global_id("Customer", customer), **variables}, context_value=context
        )
        return {"data": result.data, "codes": [(e.extensions or {}).get("code") for e in result.errors or []]}

    return asyncio.run(execute())


def customer_actor(customer: uuid.UUID) -> Actor:
    return Actor(Role.CUSTOMER, str(customer), customer)


def test_a_customer_reads_their_own_record() -> None:
    assert run(customer_actor(ADA), ADA) == {
        "data": {"customer": {"name": "Ada", "orderCount": 2, "lifetimeValue": "8.96"}},
        "codes": [],
    }


def test_another_customers_record_is_forbidden_and_an_anonymous_caller_needs_a_token() -> None:
    assert run(customer_actor(BOB), ADA)["codes"] == ["FORBIDDEN"]
    assert run(ANONYMOUS, ADA)["codes"] == ["UNAUTHENTICATED"]


def test_an_admin_reads_anyone_and_an_unknown_customer_is_null() -> None:
    admin = Actor(Role.ADMIN, "ops")
    assert run(admin, ADA)["data"] == {"customer": {"name": "Ada", "orderCount": 2, "lifetimeValue": "8.96"}}
    assert run(admin, uuid.UUID(int=3)) == {"data": {"customer": None}, "codes": []}


def test_a_token_the_read_model_has_not_reached_times_out_with_its_code() -> None:
    late = run(Actor(Role.ADMIN, "ops"), ADA, t=encode_token(11, 1))
    assert late["codes"] == ["CONSISTENCY_TIMEOUT"]
    assert run(Actor(Role.ADMIN, "ops"), ADA, t=encode_token(10, 5))["codes"] == []
