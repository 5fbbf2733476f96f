"""The outbox: the durable, ordered log of every event, written in the aggregates' transactions.

Revision ID: 0001
Revises:
"""

from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE outbox (
            position          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            transaction_id    xid8 NOT NULL DEFAULT pg_current_xact_id(),
            aggregate_type    text NOT NULL,
            aggregate_id      uuid NOT NULL,
            aggregate_version integer NOT NULL CHECK (aggregate_version > 0),
            event_type        text NOT NULL,
            payload           jsonb NOT NULL,
            metadata          jsonb NOT NULL,
            occurred_at       timestamptz NOT NULL,
            CONSTRAINT outbox_aggregate_version_key UNIQUE (aggregate_id, aggregate_version)
        )
        """
    )
    # The projector reads in commit order: (transaction_id, position) below the transaction horizon.
    op.execute("CREATE INDEX outbox_commit_order ON outbox (transaction_id, position)")


def downgrade() -> None:
    op.execute("DROP TABLE outbox")
