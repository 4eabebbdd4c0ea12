"""supplier feeds (import_feeds, import_files, import_problems), product_changes, orders.hold_detail

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-30
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0012'
down_revision: Union[str, None] = '0011'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('import_feeds',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('supplier_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('protocol', sa.String(length=8), nullable=False),
    sa.Column('host', sa.String(length=255), nullable=True),
    sa.Column('port', sa.Integer(), nullable=True),
    sa.Column('username', sa.String(length=100), nullable=True),
    sa.Column('secret_kind', sa.String(length=16), nullable=True),
    sa.Column('secret_ref', sa.String(length=500), nullable=True),
    sa.Column('known_hosts', sa.String(length=500), nullable=True),
    sa.Column('remote_dir', sa.String(length=500), nullable=False),
    sa.Column('pattern', sa.String(length=200), nullable=False),
    sa.Column('columns', sa.String(length=1000), nullable=True),
    sa.Column('after', sa.String(length=8), nullable=False),
    sa.Column('schedule', sa.String(length=100), nullable=True),
    sa.Column('passive', sa.Boolean(), nullable=False),
    sa.Column('insecure_tls', sa.Boolean(), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('last_run_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.String(length=500), nullable=True),
    sa.Column('last_error_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['supplier_id'], ['suppliers.id'], name=op.f('fk_import_feeds_supplier_id_suppliers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_import_feeds')),
    sa.UniqueConstraint('name', name=op.f('uq_import_feeds_name'))
    )
    with op.batch_alter_table('import_feeds', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_import_feeds_supplier_id'), ['supplier_id'], unique=False)

    op.create_table('import_files',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('feed_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('mtime', sa.BigInteger(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('outcome', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=True),
    sa.Column('rows', sa.Integer(), nullable=False),
    sa.Column('changed', sa.Integer(), nullable=False),
    sa.Column('unchanged', sa.Integer(), nullable=False),
    sa.Column('problems', sa.Integer(), nullable=False),
    sa.Column('applied_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('archived_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['feed_id'], ['import_feeds.id'], name=op.f('fk_import_files_feed_id_import_feeds')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_import_files')),
    sa.UniqueConstraint('feed_id', 'name', 'size', 'mtime', 'sha256', name=op.f('uq_import_files_feed_id_name_size_mtime_sha256'))
    )
    with op.batch_alter_table('import_files', schema=None) as batch_op:
        batch_op.create_index('ix_import_files_feed_id', ['feed_id', 'id'], unique=False)
        batch_op.create_index('ix_import_files_applied_at', ['applied_at'], unique=False)

    op.create_table('product_changes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=100), nullable=False),
    sa.Column('source', sa.String(length=300), nullable=False),
    sa.Column('details', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['product_id'], ['products.id'], name=op.f('fk_product_changes_product_id_products')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_product_changes'))
    )
    with op.batch_alter_table('product_changes', schema=None) as batch_op:
        batch_op.create_index('ix_product_changes_product', ['product_id', 'id'], unique=False)

    op.create_table('import_problems',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('file_id', sa.Integer(), nullable=False),
    sa.Column('line', sa.Integer(), nullable=False),
    sa.Column('ref', sa.String(length=128), nullable=True),
    sa.Column('message', sa.String(length=500), nullable=False),
    sa.ForeignKeyConstraint(['file_id'], ['import_files.id'], name=op.f('fk_import_problems_file_id_import_files')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_import_problems'))
    )
    with op.batch_alter_table('import_problems', schema=None) as batch_op:
        batch_op.create_index('ix_import_problems_file_line', ['file_id', 'line'], unique=False)

    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.add_column(sa.Column('hold_detail', sa.String(length=200), nullable=True))



def downgrade() -> None:
    # A plain DROP COLUMN (SQLite 3.35+ has it): batch mode would copy the orders table,
    # which other tables reference, and fail on their foreign keys.
    op.drop_column('orders', 'hold_detail')

    with op.batch_alter_table('import_problems', schema=None) as batch_op:
        batch_op.drop_index('ix_import_problems_file_line')

    op.drop_table('import_problems')
    with op.batch_alter_table('product_changes', schema=None) as batch_op:
        batch_op.drop_index('ix_product_changes_product')

    op.drop_table('product_changes')
    with op.batch_alter_table('import_files', schema=None) as batch_op:
        batch_op.drop_index('ix_import_files_applied_at')
        batch_op.drop_index('ix_import_files_feed_id')

    op.drop_table('import_files')
    with op.batch_alter_table('import_feeds', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_import_feeds_supplier_id'))

    op.drop_table('import_feeds')
