"""The loyalty service: one point per whole currency unit a customer paid, taken back on refund.

It knows Twofold only through the wire format of its events (CloudEvents on Kafka, docs/events.md) and
keeps its own model in its own PostgreSQL database. The relay delivers every event at least once, so each
event is applied exactly once in effect: its `ce_id` is recorded in the same transaction as the change it
makes, and an event whose `ce_id` is already recorded changes nothing.

What counts, per customer, in cents: `OrderPaid.amount` is paid; `OrderRefunded.amount` is refunded (a
paid order's cancellation records one); an `OrderCancelled` of schema version 1, from before that event
existed, carries its refund itself. Points are the whole currency units of paid minus refunded.
"""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from uuid import UUID

import psycopg
from confluent_kafka import Consumer, KafkaError
from confluent_kafka import Message as KafkaMessage

logger = logging.getLogger("loyalty")

SCHEMA = """
CREATE TABLE IF NOT EXISTS loyalty_accounts (
    customer_id    uuid PRIMARY KEY,
    paid_cents     bigint NOT NULL DEFAULT 0,
    refunded_cents bigint NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS loyalty_applied_events (
    ce_id      text PRIMARY KEY,
    applied_at timestamptz NOT NULL DEFAULT now()
);
"""
CLAIM = "INSERT INTO loyalty_applied_events (ce_id) VALUES (%s) ON CONFLICT (ce_id) DO NOTHING"
CREDIT = """
INSERT INTO loyalty_accounts (customer_id, paid_cents, refunded_cents) VALUES (%(customer)s, %(paid)s, %(refunded)s)
ON CONFLICT (customer_id) DO UPDATE
   SET paid_cents = loyalty_accounts.paid_cents + excluded.paid_cents,
       refunded_cents = loyalty_accounts.refunded_cents + excluded.refunded_cents
"""
POINTS = "SELECT customer_id, (paid_cents - refunded_cents) / 100 AS points FROM loyalty_accounts ORDER BY customer_id"


@dataclass(frozen=True)
class Change:
    customer: UUID
    paid_cents: int
    refunded_cents: int


def change_of(event_type: str, payload: dict[str, Any]) -> Change | None:
    """What an order event does to its customer's account, if anything."""
    customer = UUID(payload["customer_id"])
    if event_type == "OrderPaid":
        return Change(customer, cents(payload["amount"]), 0)
    if event_type == "OrderRefunded":
        return Change(customer, 0, cents(payload["amount"]))
    if event_type == "OrderCancelled" and payload["schema_version"] == 1 and payload.get("refund") is not None:
        return Change(customer, 0, cents(payload["refund"]))
    return None


def header_values(message: KafkaMessage) -> dict[str, str]:
    """A record's headers as text (a consumer always gets them as a list of (name, bytes) pairs)."""
    pairs: list[tuple[str, bytes | None]] = list(message.headers() or [])  # type: ignore[arg-type]
    return {name: (value or b"").decode() for name, value in pairs}


def cents(amount: str) -> int:
    return int(Decimal(amount) * 100)


@dataclass
class Counts:
    applied: int = 0  # events that changed an account
    duplicates: int = 0  # events delivered again, recognised by their ce_id
    ignored: int = 0  # events that do not concern points


class LoyaltyService:
    def __init__(self, database_url: str, bootstrap_servers: str, topic: str, *, group_id: str = "loyalty") -> None:
        self._database_url = database_url
        self._topic = topic
        self._consumer = Consumer(
            {
                "bootstrap.servers": bootstrap_servers,
                "group.id": group_id,
                "auto.offset.reset": "earliest",
                # Offsets are committed after the database did, so a crash redelivers rather than loses.
                "enable.auto.commit": False,
            }
        )
        self._connection: psycopg.Connection[Any] | None = None
        self.counts = Counts()

    def migrate(self) -> None:
        with psycopg.connect(self._database_url, autocommit=True) as connection:
            connection.execute(SCHEMA)

    def run(self, stop: threading.Event) -> None:
        self.migrate()
        self._consumer.subscribe([self._topic])
        logger.info("loyalty consuming %s", self._topic)
        while not stop.is_set():
            self.poll(1.0)

    def start(self) -> None:
        """Join the consumer group (`run` does; tests that call `poll` themselves call this first)."""
        self.migrate()
        self._consumer.subscribe([self._topic])

    def poll(self, timeout: float) -> bool:
        """Handle the next record, if one comes within `timeout` seconds; whether one came."""
        message = self._consumer.poll(timeout)
        if message is None:
            return False
        error = message.error()
        if error is not None:
            if error.code() != KafkaError._PARTITION_EOF:
                logger.warning("loyalty: %s", error)
            return False
        self._apply(message)
        self._consumer.commit(message=message, asynchronous=True)
        return True

    def points(self) -> dict[UUID, int]:
        with psycopg.connect(self._database_url) as connection:
            return {row[0]: int(row[1]) for row in connection.execute(POINTS)}

    def close(self) -> None:
        self._consumer.close()
        if self._connection is not None:
            self._connection.close()

    def _apply(self, message: KafkaMessage) -> None:
        headers = header_values(message)
        event_type = headers["ce_type"].rsplit(".", 1)[-1]
        change = change_of(event_type, json.loads(message.value() or b"{}"))
        if change is None:
            self.counts.ignored += 1
            return
        connection = self._database()
        with connection.transaction():
            if connection.execute(CLAIM, (headers["ce_id"],)).rowcount == 0:
                self.counts.duplicates += 1
                return
            connection.execute(
                CREDIT, {"customer": change.customer, "paid": change.paid_cents, "refunded": change.refunded_cents}
            )
        self.counts.applied += 1

    def _database(self) -> psycopg.Connection[Any]:
        if self._connection is None or self._connection.closed:
            self._connection = psycopg.connect(self._database_url, autocommit=True)
        return self._connection
