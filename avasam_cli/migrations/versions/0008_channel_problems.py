"""channel problems

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0008'
down_revision: Union[str, None] = '0007'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('channel_problems',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('channel_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('problem', sa.String(length=1000), nullable=False),
    sa.ForeignKeyConstraint(['channel_id'], ['channels.id'], name=op.f('fk_channel_problems_channel_id_channels')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_channel_problems'))
    )
    with op.batch_alter_table('channel_problems', schema=None) as batch_op:
        batch_op.create_index('ix_channel_problems_channel_at', ['channel_id', 'at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('channel_problems', schema=None) as batch_op:
        batch_op.drop_index('ix_channel_problems_channel_at')

    op.drop_table('channel_problems')
