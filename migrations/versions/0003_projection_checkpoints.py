"""Projection checkpoints: how far each read-model projection has applied the outbox.

Revision ID: 0003
Revises: 0002
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE projection_checkpoints (
            name           text PRIMARY KEY,
            transaction_id bigint NOT NULL,
            position       bigint NOT NULL,
            updated_at     timestamptz NOT NULL DEFAULT now()
        )
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE projection_checkpoints")
