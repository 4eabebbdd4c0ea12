"""channel updates (the write-back outbox)

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0011'
down_revision: Union[str, None] = '0010'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('channel_updates',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('channel_id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('external_id', sa.String(length=128), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('dedupe_key', sa.String(length=300), nullable=False),
    sa.Column('tracking_number', sa.String(length=100), nullable=True),
    sa.Column('carrier', sa.String(length=100), nullable=True),
    sa.Column('reason', sa.String(length=32), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('first_failed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.String(length=500), nullable=True),
    sa.Column('remote_ref', sa.String(length=200), nullable=True),
    sa.ForeignKeyConstraint(['channel_id'], ['channels.id'], name=op.f('fk_channel_updates_channel_id_channels')),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_channel_updates_order_id_orders')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_channel_updates')),
    sa.UniqueConstraint('dedupe_key', name=op.f('uq_channel_updates_dedupe_key'))
    )
    with op.batch_alter_table('channel_updates', schema=None) as batch_op:
        batch_op.create_index('ix_channel_updates_order', ['order_id', 'id'], unique=False)
        batch_op.create_index('ix_channel_updates_status_channel', ['status', 'channel_id', 'id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('channel_updates', schema=None) as batch_op:
        batch_op.drop_index('ix_channel_updates_status_channel')
        batch_op.drop_index('ix_channel_updates_order')

    op.drop_table('channel_updates')
