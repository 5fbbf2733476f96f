"""Customers, orders, and the idempotency keys of commands.

An order is one row: its lines are part of the aggregate and are only ever read and written with it, so
they live in a jsonb column (a snapshot of sku, name and unit price at order time).

Revision ID: 0004
Revises: 0003
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE customers (
            id         uuid PRIMARY KEY,
            name       text NOT NULL,
            email      text NOT NULL CONSTRAINT customers_email_key UNIQUE CHECK (email = lower(email)),
            version    integer NOT NULL CHECK (version > 0),
            created_at timestamptz NOT NULL
        )
        """
    )
    op.execute(
        """
        CREATE TABLE orders (
            id          uuid PRIMARY KEY,
            customer_id uuid NOT NULL REFERENCES customers (id),
            lines       jsonb NOT NULL,
            total       numeric(18, 2) NOT NULL CHECK (total >= 0),
            status      text NOT NULL CHECK (status IN ('PLACED', 'PAID', 'SHIPPED', 'DELIVERED', 'CANCELLED')),
            paid_amount numeric(18, 2),
            version     integer NOT NULL CHECK (version > 0),
            placed_at   timestamptz NOT NULL,
            updated_at  timestamptz NOT NULL
        )
        """
    )
    op.execute("CREATE INDEX orders_customer_id ON orders (customer_id)")
    # One row per (actor, key): claimed at the start of a command's transaction, completed with its result in
    # the same transaction, so a concurrent retry waits on the primary key and then reads the result.
    op.execute(
        """
        CREATE TABLE idempotency_keys (
            actor          text NOT NULL,
            key            text NOT NULL,
            fingerprint    text NOT NULL,
            aggregate_id   uuid,
            version        integer,
            status         text,
            transaction_id bigint,
            position       bigint,
            created_at     timestamptz NOT NULL,
            PRIMARY KEY (actor, key)
        )
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE idempotency_keys")
    op.execute("DROP TABLE orders")
    op.execute("DROP TABLE customers")
