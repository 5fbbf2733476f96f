"""The events' JSON Schemas for consumers: kept in docs/event-schemas/ as the code makes them, valid, and
describing exactly the payloads the write model records, at every schema version."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import jsonschema
import pytest

from write_model.event_schemas import all_schemas, file_name, schema_id
from write_model.events import (
    EVENT_TYPES,
    OrderLine,
    OrderPaid,
    OrderPlaced,
    OrderRefunded,
    ReturnedLine,
    ShippingAddress,
    encode_payload,
)

FOLDER = Path(__file__).resolve().parents[2] / "docs" / "event-schemas"
NOW = datetime(2026, 6, 1, 9, 30, tzinfo=UTC)


def test_the_committed_schemas_are_the_ones_the_code_makes() -> None:
    committed = {path.name: json.loads(path.read_text()) for path in FOLDER.glob("*.json")}
    assert committed == all_schemas(), "docs/event-schemas is stale: run `.venv/bin/twofold export-event-schemas`"


def test_there_is_a_schema_for_every_event_type_at_every_version() -> None:
    schemas = all_schemas()
    for event_type, cls in EVENT_TYPES.items():
        for version in range(1, cls.SCHEMA_VERSION + 1):
            schema = schemas[file_name(event_type, version)]
            jsonschema.Draft202012Validator.check_schema(schema)
            assert schema["$id"] == schema_id(event_type, version)
            assert schema["properties"]["schema_version"] == {"const": version}


def validate(payload: dict[str, object]) -> None:
    event_type = payload.pop("__type")
    schema = all_schemas()[file_name(str(event_type), int(payload["schema_version"]))]  # type: ignore[call-overload]
    jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker()).validate(payload)


def test_the_payloads_the_write_model_records_match_their_schema() -> None:
    order, customer, product = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    line = OrderLine(
        product_id=product, sku="MUG", name="Mug", unit_price=Decimal("2.50"), quantity=2, line_total=Decimal("5.00")
    )
    address = ShippingAddress(
        name="Ada", line1="1 St", line2=None, city="London", postal_code="SW1", region=None, country="GB"
    )
    events = [
        OrderPlaced(
            order_id=order,
            customer_id=customer,
            customer_name="Ada",
            customer_email="ada@example.com",
            lines=(line,),
            total=Decimal("5.00"),
            placed_at=NOW,
            customer_version=3,
            shipping_address=address,
        ),
        OrderPaid(order_id=order, customer_id=customer, amount=Decimal("5.00"), reason=None, method="CARD"),
        OrderRefunded(
            order_id=order,
            customer_id=customer,
            amount=Decimal("2.50"),
            reference="r-1",
            reason="broken",
            returned_lines=(ReturnedLine(product_id=product, quantity=1),),
        ),
    ]
    for event in events:
        validate({"__type": type(event).__name__, **encode_payload(event)})


def test_a_payload_of_an_older_version_matches_its_own_schema_and_not_the_newer_one() -> None:
    older = {
        "__type": "OrderPaid",
        "schema_version": 1,
        "order_id": str(uuid.uuid4()),
        "customer_id": str(uuid.uuid4()),
        "amount": "5.00",
        "reason": None,
    }
    validate(dict(older))
    with pytest.raises(jsonschema.ValidationError):
        validate({**older, "schema_version": 2})  # version 2 requires method and reference
    with pytest.raises(jsonschema.ValidationError):
        validate({**older, "amount": 5.0})  # money is an exact decimal string, never a float
