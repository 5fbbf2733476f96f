"""Dead letters: outbox events a projection could not apply, parked with their error.

Revision ID: 0005
Revises: 0004
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE dead_letters (
            id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            projection     text NOT NULL,
            transaction_id bigint NOT NULL,
            position       bigint NOT NULL,
            aggregate_type text NOT NULL,
            aggregate_id   uuid NOT NULL,
            event_type     text NOT NULL,
            error          text NOT NULL,
            attempts       integer NOT NULL CHECK (attempts >= 0),
            status         text NOT NULL CHECK (status IN ('PARKED', 'RETRY', 'SKIPPED', 'RESOLVED')),
            parked_at      timestamptz NOT NULL,
            updated_at     timestamptz NOT NULL,
            CONSTRAINT dead_letters_event_key UNIQUE (projection, transaction_id, position)
        )
        """
    )
    # The open letters (parked or due for a retry) block their aggregate in their projection.
    op.execute(
        "CREATE INDEX dead_letters_open ON dead_letters (projection, aggregate_id) WHERE status IN ('PARKED', 'RETRY')"
    )


def downgrade() -> None:
    op.execute("DROP TABLE dead_letters")
