"""The expiry saga's state: the payment deadlines it waits on, and what outbox consumers report of themselves.

Revision ID: 0007
Revises: 0006
"""

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # One row per order a saga waits on to be paid, written in the transaction that moves the saga's
    # checkpoint (in projection_checkpoints): a crash neither loses nor repeats a deadline. `saga` names the
    # saga (its deployment prefix included), so that two deployments sharing a database keep apart.
    op.execute(
        """
        CREATE TABLE payment_deadlines (
            saga       text NOT NULL,
            order_id   uuid NOT NULL,
            placed_at  timestamptz NOT NULL,
            attempts   integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
            last_error text,
            parked_at  timestamptz,
            PRIMARY KEY (saga, order_id)
        )
        """
    )
    # The saga's question every round: the oldest deadlines not parked.
    op.execute("CREATE INDEX payment_deadlines_due ON payment_deadlines (saga, placed_at) WHERE parked_at IS NULL")
    # What each outbox consumer other than the projector reports after its rounds; the projector copies it
    # into Elasticsearch beside the projections' status, since queries read nothing else.
    op.execute(
        """
        CREATE TABLE outbox_consumer_status (
            name           text PRIMARY KEY,
            kind           text NOT NULL,
            transaction_id bigint NOT NULL,
            position       bigint NOT NULL,
            lag_events     bigint NOT NULL,
            lag_seconds    double precision NOT NULL,
            dead_letters   bigint NOT NULL,
            pending        bigint NOT NULL,
            overdue        bigint NOT NULL,
            updated_at     timestamptz NOT NULL
        )
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE outbox_consumer_status")
    op.execute("DROP TABLE payment_deadlines")
