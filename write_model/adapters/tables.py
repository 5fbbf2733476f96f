"""The write model's tables, as SQLAlchemy Core sees them. The migrations in `migrations/` create them."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.types import UserDefinedType


class Xid8(UserDefinedType[int]):
    """PostgreSQL's 64-bit transaction id type. Only ever read back cast to text."""

    cache_ok = True

    def get_col_spec(self, **kw: object) -> str:
        return "xid8"


metadata = sa.MetaData()

products = sa.Table(
    "products",
    metadata,
    sa.Column("id", postgresql.UUID(as_uuid=True), primary_key=True),
    sa.Column("sku", sa.Text, nullable=False, unique=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("brand", sa.Text, nullable=False),
    sa.Column("category", sa.Text, nullable=False),
    sa.Column("tags", postgresql.ARRAY(sa.Text), nullable=False),
    sa.Column("price", sa.Numeric(12, 2), nullable=False),
    sa.Column("stock", sa.Integer, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)

customers = sa.Table(
    "customers",
    metadata,
    sa.Column("id", postgresql.UUID(as_uuid=True), primary_key=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("email", sa.Text, nullable=False, unique=True),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)

orders = sa.Table(
    "orders",
    metadata,
    sa.Column("id", postgresql.UUID(as_uuid=True), primary_key=True),
    sa.Column("customer_id", postgresql.UUID(as_uuid=True), sa.ForeignKey("customers.id"), nullable=False),
    sa.Column("lines", postgresql.JSONB, nullable=False),
    sa.Column("total", sa.Numeric(18, 2), nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("paid_amount", sa.Numeric(18, 2), nullable=True),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("placed_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("shipping_address", postgresql.JSONB, nullable=True),
    sa.Column("payments", postgresql.JSONB, nullable=False),
    sa.Column("refunds", postgresql.JSONB, nullable=False),
    sa.Column("shipment", postgresql.JSONB, nullable=True),
    sa.Column("cancellation_reason", sa.Text, nullable=True),
)

idempotency_keys = sa.Table(
    "idempotency_keys",
    metadata,
    sa.Column("actor", sa.Text, primary_key=True),
    sa.Column("key", sa.Text, primary_key=True),
    sa.Column("fingerprint", sa.Text, nullable=False),
    sa.Column("aggregate_id", postgresql.UUID(as_uuid=True)),
    sa.Column("version", sa.Integer),
    sa.Column("status", sa.Text),
    sa.Column("transaction_id", sa.BigInteger),
    sa.Column("position", sa.BigInteger),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)

outbox = sa.Table(
    "outbox",
    metadata,
    sa.Column("position", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("transaction_id", Xid8, nullable=False, server_default=sa.text("pg_current_xact_id()")),
    sa.Column("aggregate_type", sa.Text, nullable=False),
    sa.Column("aggregate_id", postgresql.UUID(as_uuid=True), nullable=False),
    sa.Column("aggregate_version", sa.Integer, nullable=False),
    sa.Column("event_type", sa.Text, nullable=False),
    sa.Column("payload", postgresql.JSONB, nullable=False),
    sa.Column("metadata", postgresql.JSONB, nullable=False),
    sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
)
