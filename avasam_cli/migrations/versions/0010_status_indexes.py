"""status indexes: partial indexes of the orders in flight

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30

`avasam status` counts stale paid orders, held orders by reason, payment errors and
channel changes not applied; with these small indexes (only the rows in that state) each
count reads a handful of index entries instead of a million orders or audit events.
`ix_job_runs_running` serves the reaping of killed runs at the start of every job.
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0010'
down_revision: Union[str, None] = '0009'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

INDEXES = [
    ("ix_orders_open_paid_at", "orders", ["paid_at"], "status = 'open' AND payment_status = 'paid'"),
    ("ix_orders_held_reason", "orders", ["hold_reason"], "status = 'held'"),
    ("ix_orders_payment_error", "orders", ["status"], "payment_error IS NOT NULL"),
    ("ix_order_events_change_ignored", "order_events", ["order_id", "at"],
     "event = 'channel_change_ignored'"),
    ("ix_job_runs_running", "job_runs", ["job"], "outcome = 'running'"),
]


def upgrade() -> None:
    for name, table, columns, where in INDEXES:
        op.create_index(
            name, table, columns, unique=False,
            sqlite_where=sa.text(where), postgresql_where=sa.text(where),
        )


def downgrade() -> None:
    for name, table, _columns, _where in reversed(INDEXES):
        op.drop_index(name, table_name=table)
