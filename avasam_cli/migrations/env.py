"""Alembic environment: the package's metadata, batch mode for SQLite, type comparison.

`avasam init` passes its own connection in `config.attributes["connection"]`.
"""

from alembic import context
from sqlalchemy import create_engine, pool

from avasam_cli.core.models import Base

config = context.config
target_metadata = Base.metadata

# The title-search index lives outside the models (migration 0009): SQLite's FTS5 table
# and its shadow tables, PostgreSQL's GIN index. Autogenerate must not see them as drift.
NOT_MODELLED = ("order_lines_fts", "ix_order_lines_search_title_trgm")


def modelled(obj, name, type_, reflected, compare_to) -> bool:  # type: ignore[no-untyped-def]
    return not (reflected and name is not None and name.startswith(NOT_MODELLED))


def run_with(connection) -> None:  # type: ignore[no-untyped-def]
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        include_object=modelled,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        run_with(connection)
        return
    url = config.get_main_option("sqlalchemy.url")
    if url is None:
        raise SystemExit("no database: run the migrations with `avasam init`")
    engine = create_engine(url, poolclass=pool.NullPool)
    with engine.connect() as conn:
        run_with(conn)


if context.is_offline_mode():
    raise SystemExit("avasam migrations run online only (avasam init)")
run_migrations_online()
