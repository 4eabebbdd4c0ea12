"""title search index

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30

`order_lines.search_title` (fold_text of the title) with an index that never scans:
SQLite, an FTS5 trigram table over it kept in step by triggers (substring matches, so a
word inside a title still matches as LIKE did); PostgreSQL, a pg_trgm GIN index that
serves `LIKE '%word%'`. pg_trgm is a trusted extension: the database owner may create it.
Existing lines are folded here, in batches, by the same Python function the writers use.
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa

from avasam_cli.core.textfold import fold_text


revision: str = '0009'
down_revision: Union[str, None] = '0008'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

BATCH = 20_000
SQLITE_FTS = (
    "CREATE VIRTUAL TABLE order_lines_fts USING fts5(search_title, content='order_lines',"
    " content_rowid='id', tokenize='trigram')"
)
SQLITE_TRIGGERS = (
    "CREATE TRIGGER order_lines_fts_insert AFTER INSERT ON order_lines BEGIN"
    " INSERT INTO order_lines_fts(rowid, search_title) VALUES (new.id, new.search_title); END",
    "CREATE TRIGGER order_lines_fts_delete AFTER DELETE ON order_lines BEGIN"
    " INSERT INTO order_lines_fts(order_lines_fts, rowid, search_title)"
    " VALUES ('delete', old.id, old.search_title); END",
    "CREATE TRIGGER order_lines_fts_update AFTER UPDATE OF search_title ON order_lines BEGIN"
    " INSERT INTO order_lines_fts(order_lines_fts, rowid, search_title)"
    " VALUES ('delete', old.id, old.search_title);"
    " INSERT INTO order_lines_fts(rowid, search_title) VALUES (new.id, new.search_title); END",
)
PG_INDEX = (
    "CREATE INDEX ix_order_lines_search_title_trgm ON order_lines"
    " USING gin (search_title gin_trgm_ops)"
)


def upgrade() -> None:
    with op.batch_alter_table('order_lines', schema=None) as batch_op:
        batch_op.add_column(sa.Column('search_title', sa.Text(), nullable=True))
    _fold_existing_titles()
    with op.batch_alter_table('order_lines', schema=None) as batch_op:
        batch_op.alter_column('search_title', existing_type=sa.Text(), nullable=False)
    if op.get_bind().dialect.name == 'sqlite':
        op.execute(SQLITE_FTS)
        op.execute("INSERT INTO order_lines_fts(order_lines_fts) VALUES ('rebuild')")
        for trigger in SQLITE_TRIGGERS:
            op.execute(trigger)
    else:
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        op.execute(PG_INDEX)


def _fold_existing_titles() -> None:
    """Batches by id, so a million lines never sit in memory at once."""
    conn = op.get_bind()
    lines = sa.table('order_lines', sa.column('id', sa.Integer), sa.column('title', sa.String),
                     sa.column('search_title', sa.Text))
    update = (
        sa.update(lines)
        .where(lines.c.id == sa.bindparam('line_id'))
        .values(search_title=sa.bindparam('folded'))
    )
    last = 0
    while True:
        rows = conn.execute(
            sa.select(lines.c.id, lines.c.title).where(lines.c.id > last)
            .order_by(lines.c.id).limit(BATCH)
        ).all()
        if not rows:
            return
        conn.execute(update, [{'line_id': i, 'folded': fold_text(t)} for i, t in rows])
        last = rows[-1][0]


def downgrade() -> None:
    if op.get_bind().dialect.name == 'sqlite':
        for trigger in ('insert', 'delete', 'update'):
            op.execute(f"DROP TRIGGER order_lines_fts_{trigger}")
        op.execute("DROP TABLE order_lines_fts")
    else:
        op.execute("DROP INDEX ix_order_lines_search_title_trgm")
    with op.batch_alter_table('order_lines', schema=None) as batch_op:
        batch_op.drop_column('search_title')
