"""The order's journey: where it ships, what was paid and refunded, how the parcel travels, why it was cancelled.

Revision ID: 0006
Revises: 0005
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The payments an order recorded before: one, of its total, by method OTHER, without a reference.
    op.execute(
        """
        ALTER TABLE orders
            ADD COLUMN shipping_address    jsonb,
            ADD COLUMN payments            jsonb NOT NULL DEFAULT '[]',
            ADD COLUMN refunds             jsonb NOT NULL DEFAULT '[]',
            ADD COLUMN shipment            jsonb,
            ADD COLUMN cancellation_reason text
        """
    )
    op.execute(
        """
        UPDATE orders
           SET payments = jsonb_build_array(jsonb_build_object(
                   'amount', paid_amount::text, 'method', 'OTHER', 'reference', NULL,
                   'version', (SELECT min(aggregate_version) FROM outbox
                                WHERE aggregate_id = orders.id AND event_type = 'OrderPaid')))
         WHERE paid_amount IS NOT NULL
        """
    )
    # And a paid order cancelled before had all of it refunded by its cancellation.
    op.execute(
        """
        UPDATE orders
           SET refunds = jsonb_build_array(jsonb_build_object(
                   'amount', paid_amount::text, 'reference', NULL, 'returned_lines', '[]'::jsonb, 'status', 'PAID',
                   'version', (SELECT min(aggregate_version) FROM outbox
                                WHERE aggregate_id = orders.id AND event_type = 'OrderCancelled')))
         WHERE paid_amount IS NOT NULL AND status = 'CANCELLED'
        """
    )


def downgrade() -> None:
    op.execute(
        "ALTER TABLE orders DROP COLUMN shipping_address, DROP COLUMN payments, DROP COLUMN refunds,"
        " DROP COLUMN shipment, DROP COLUMN cancellation_reason"
    )
