"""Products: the write model's product aggregates.

Revision ID: 0002
Revises: 0001
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE products (
            id          uuid PRIMARY KEY,
            sku         text NOT NULL CONSTRAINT products_sku_key UNIQUE,
            name        text NOT NULL,
            description text NOT NULL,
            brand       text NOT NULL,
            category    text NOT NULL,
            tags        text[] NOT NULL,
            price       numeric(12, 2) NOT NULL CHECK (price >= 0),
            stock       integer NOT NULL CHECK (stock >= 0),
            status      text NOT NULL CHECK (status IN ('ACTIVE', 'DISCONTINUED')),
            version     integer NOT NULL CHECK (version > 0),
            created_at  timestamptz NOT NULL,
            updated_at  timestamptz NOT NULL
        )
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE products")
