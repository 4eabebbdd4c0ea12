"""SQLAlchemy 2.0 typed models: one seller's workspace.

Money is integer pence; VAT rates are integer basis points (20% = 2000).
Timestamps are stored in UTC (see UTCDateTime).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar, cast

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    event,
    false,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

from avasam_cli.core.textfold import fold_text

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on both databases (SQLite keeps no offset, so we add it back)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime()}


def partial_index(name: str, *columns: str, where: str) -> Index:
    """An index of only the rows `where` holds (both databases). A query uses it only when
    it repeats the condition with the same literals, so those queries write them inline
    (core/services/status.py)."""
    return Index(name, *columns, sqlite_where=text(where), postgresql_where=text(where))


def table(model: type[Base]) -> Table:
    """The Core table of a mapped class, for bulk inserts that must keep None values."""
    return cast(Table, model.__table__)


class Supplier(Base):
    __tablename__ = "suppliers"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    international: Mapped[bool] = mapped_column(Boolean, default=False)
    # Normalised, comma separated: "BT,HS,KW15-17,ZE"
    excluded_postcodes: Mapped[str] = mapped_column(String(1000), default="")
    created_at: Mapped[datetime]

    services: Mapped[list[ShippingService]] = relationship(
        back_populates="supplier", order_by="ShippingService.service"
    )


class ShippingService(Base):
    __tablename__ = "shipping_services"
    __table_args__ = (UniqueConstraint("supplier_id", "service"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    supplier_id: Mapped[int] = mapped_column(ForeignKey("suppliers.id"))
    service: Mapped[str] = mapped_column(String(32))
    price_pence: Mapped[int] = mapped_column(Integer)
    vat_rate_bp: Mapped[int] = mapped_column(Integer)
    carrier: Mapped[str | None] = mapped_column(String(100))

    supplier: Mapped[Supplier] = relationship(back_populates="services")


class Product(Base):
    __tablename__ = "products"
    __table_args__ = (UniqueConstraint("supplier_id", "supplier_product_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    supplier_id: Mapped[int] = mapped_column(ForeignKey("suppliers.id"), index=True)
    supplier_product_id: Mapped[str] = mapped_column(String(64), index=True)
    sku: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(String(500))
    stock: Mapped[int] = mapped_column(Integer)
    price_pence: Mapped[int] = mapped_column(Integer)
    rrp_pence: Mapped[int | None] = mapped_column(Integer)
    vat_rate_bp: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime]

    supplier: Mapped[Supplier] = relationship()


class Account(Base):
    """The seller's balance: one row (id 1). Always equal to the sum of the ledger."""

    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    balance_pence: Mapped[int] = mapped_column(Integer, default=0)
    currency: Mapped[str] = mapped_column(String(3), default="GBP")


class LedgerEntry(Base):
    """Append-only: top-ups, payments for orders, refunds."""

    __tablename__ = "ledger_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime]
    kind: Mapped[str] = mapped_column(String(16))
    amount_pence: Mapped[int] = mapped_column(Integer)
    balance_after_pence: Mapped[int] = mapped_column(Integer)
    reference: Mapped[str | None] = mapped_column(String(200))
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"), index=True)
    actor: Mapped[str] = mapped_column(String(100))


class Channel(Base):
    """A sales channel. The built-in channel `manual` holds orders keyed in by hand."""

    __tablename__ = "channels"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    type: Mapped[str] = mapped_column(String(16))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    # Adapter settings as JSON text. Never a secret: only the names of env vars or files.
    config: Mapped[str] = mapped_column(Text, default="{}")
    cursor: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    # `channels remove --force` keeps a channel that has orders, renamed and hidden.
    removed_at: Mapped[datetime | None]


class SourceOrder(Base):
    """One order as it came from a channel (or from `orders add`): the idempotency key.

    Pulling the same channel order again finds this row instead of creating orders.
    """

    __tablename__ = "source_orders"
    __table_args__ = (UniqueConstraint("channel_id", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id"))
    external_id: Mapped[str] = mapped_column(String(128))
    reference: Mapped[str | None] = mapped_column(String(128))
    content_hash: Mapped[str | None] = mapped_column(String(64))
    downloaded_at: Mapped[datetime]


class Order(Base):
    __tablename__ = "orders"
    __table_args__ = (
        Index("ix_orders_placed_at", "placed_at"),
        Index("ix_orders_status_placed_at", "status", "placed_at"),
        Index("ix_orders_status_payment_placed_at", "status", "payment_status", "placed_at"),
        Index("ix_orders_payment_placed_at", "payment_status", "placed_at"),
        Index("ix_orders_shipping_placed_at", "shipping_status", "placed_at"),
        Index("ix_orders_supplier_status", "supplier_id", "status"),
        Index("ix_orders_channel_placed_at", "channel_id", "placed_at"),
        Index("ix_orders_total_pence", "total_pence"),
        # Small indexes of the orders in flight that `status` counts (migration 0010).
        partial_index(
            "ix_orders_open_paid_at", "paid_at", where="status = 'open' AND payment_status = 'paid'"
        ),
        partial_index("ix_orders_held_reason", "hold_reason", where="status = 'held'"),
        partial_index("ix_orders_payment_error", "status", where="payment_error IS NOT NULL"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    source_order_id: Mapped[int] = mapped_column(ForeignKey("source_orders.id"), index=True)
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id"))
    channel_reference: Mapped[str | None] = mapped_column(String(128), index=True)
    supplier_id: Mapped[int | None] = mapped_column(ForeignKey("suppliers.id"))
    number: Mapped[str | None] = mapped_column(String(16), unique=True)

    status: Mapped[str] = mapped_column(String(16))
    payment_status: Mapped[str] = mapped_column(String(16), default="unpaid")
    shipping_status: Mapped[str] = mapped_column(String(16), default="unshipped")
    hold_reason: Mapped[str | None] = mapped_column(String(32))
    # What exactly holds it, in words ("city is missing"), for `orders show`.
    hold_detail: Mapped[str | None] = mapped_column(String(200))
    cancel_reason: Mapped[str | None] = mapped_column(String(32))
    payment_error: Mapped[str | None] = mapped_column(String(300))

    placed_at: Mapped[datetime]
    downloaded_at: Mapped[datetime]

    name: Mapped[str] = mapped_column(String(200))
    address1: Mapped[str] = mapped_column(String(200))
    address2: Mapped[str | None] = mapped_column(String(200))
    city: Mapped[str] = mapped_column(String(100))
    county: Mapped[str | None] = mapped_column(String(100))
    postcode: Mapped[str] = mapped_column(String(16))
    country: Mapped[str] = mapped_column(String(2))
    phone: Mapped[str | None] = mapped_column(String(40))
    email: Mapped[str | None] = mapped_column(String(200))

    shipping_service: Mapped[str | None] = mapped_column(String(32))
    channel_shipping_method: Mapped[str | None] = mapped_column(String(200))

    items_pence: Mapped[int] = mapped_column(Integer, default=0)
    shipping_pence: Mapped[int] = mapped_column(Integer, default=0)
    vat_pence: Mapped[int] = mapped_column(Integer, default=0)
    total_pence: Mapped[int] = mapped_column(Integer, default=0)
    currency: Mapped[str] = mapped_column(String(3), default="GBP")

    tracking_number: Mapped[str | None] = mapped_column(String(100))
    carrier: Mapped[str | None] = mapped_column(String(100))

    paid_at: Mapped[datetime | None]
    received_by_supplier_at: Mapped[datetime | None]
    dispatched_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]
    note_count: Mapped[int] = mapped_column(Integer, default=0)
    item_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    updated_at: Mapped[datetime]

    lines: Mapped[list[OrderLine]] = relationship(
        back_populates="order", order_by="OrderLine.line_no"
    )
    supplier: Mapped[Supplier | None] = relationship()
    channel: Mapped[Channel] = relationship()


class OrderLine(Base):
    __tablename__ = "order_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    line_no: Mapped[int] = mapped_column(Integer)
    channel_sku: Mapped[str] = mapped_column(String(64), index=True)
    product_id: Mapped[int | None] = mapped_column(ForeignKey("products.id"), index=True)
    # Searched through product_id (products' own indexes), so not indexed here: fewer
    # indexes keep intake and matching fast.
    sku: Mapped[str | None] = mapped_column(String(64))
    supplier_product_id: Mapped[str | None] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(500))
    # fold_text(title) (core/textfold.py), written with the title by every writer. Title
    # search reads it through an index: SQLite's FTS5 trigram table `order_lines_fts`
    # (kept in step by triggers) and PostgreSQL's pg_trgm GIN index; migration 0009.
    search_title: Mapped[str] = mapped_column(Text)
    quantity: Mapped[int] = mapped_column(Integer)
    channel_unit_price_pence: Mapped[int | None] = mapped_column(Integer)
    unit_price_pence: Mapped[int] = mapped_column(Integer, default=0)
    vat_rate_bp: Mapped[int] = mapped_column(Integer, default=0)
    line_vat_pence: Mapped[int] = mapped_column(Integer, default=0)
    line_total_pence: Mapped[int] = mapped_column(Integer, default=0)

    order: Mapped[Order] = relationship(back_populates="lines")
    product: Mapped[Product | None] = relationship()


@event.listens_for(OrderLine.title, "set")
def _fold_title(line: OrderLine, title: str, _old: object, _initiator: object) -> None:
    """An ORM write of a title (a channel's change, say) refreshes its search form too."""
    line.search_title = fold_text(title)


class OrderEvent(Base):
    """The audit trail: appended in the same transaction as the change it records."""

    __tablename__ = "order_events"
    __table_args__ = (
        partial_index(
            "ix_order_events_change_ignored",
            "order_id",
            "at",
            where="event = 'channel_change_ignored'",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(100))
    event: Mapped[str] = mapped_column(String(32))
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str | None] = mapped_column(String(16))
    details: Mapped[str | None] = mapped_column(Text)


class OrderNote(Base):
    __tablename__ = "order_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(100))
    text: Mapped[str] = mapped_column(Text)


class Ticket(Base):
    """A conversation with the supplier about one order (cancel request, query, return)."""

    __tablename__ = "tickets"
    __table_args__ = (Index("ix_tickets_status", "status", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]

    order: Mapped[Order] = relationship()
    messages: Mapped[list[TicketMessage]] = relationship(order_by="TicketMessage.id")


class TicketMessage(Base):
    __tablename__ = "ticket_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(100))
    text: Mapped[str] = mapped_column(Text)


class SkuLink(Base):
    """An explicit link from a channel's SKU to a catalogue product (for one channel, or
    for every channel when channel_id is NULL)."""

    __tablename__ = "sku_links"
    __table_args__ = (UniqueConstraint("channel_id", "channel_sku"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel_id: Mapped[int | None] = mapped_column(ForeignKey("channels.id"))
    channel_sku: Mapped[str] = mapped_column(String(64), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    created_at: Mapped[datetime]


class ShippingMapping(Base):
    """A channel's shipping method name mapped to one of our shipping services."""

    __tablename__ = "shipping_mappings"
    __table_args__ = (UniqueConstraint("channel_id", "method"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id"))
    method: Mapped[str] = mapped_column(String(200))
    service: Mapped[str] = mapped_column(String(32))


class ExportTarget(Base):
    """Where and how a supplier receives its open orders. Secrets are referenced by the
    name of an environment variable or the path of a file, never stored."""

    __tablename__ = "export_targets"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    supplier_id: Mapped[int] = mapped_column(ForeignKey("suppliers.id"), index=True)
    protocol: Mapped[str] = mapped_column(String(8))
    host: Mapped[str | None] = mapped_column(String(255))
    port: Mapped[int | None] = mapped_column(Integer)
    username: Mapped[str | None] = mapped_column(String(100))
    # password_env | password_file | key_file
    secret_kind: Mapped[str | None] = mapped_column(String(16))
    secret_ref: Mapped[str | None] = mapped_column(String(500))
    known_hosts: Mapped[str | None] = mapped_column(String(500))
    remote_dir: Mapped[str] = mapped_column(String(500), default=".")
    filename_template: Mapped[str] = mapped_column(String(200))
    format: Mapped[str] = mapped_column(String(8), default="csv")
    schedule: Mapped[str | None] = mapped_column(String(100))
    only_new: Mapped[bool] = mapped_column(Boolean, default=False)
    passive: Mapped[bool] = mapped_column(Boolean, default=True)
    insecure_tls: Mapped[bool] = mapped_column(Boolean, default=False)
    # CSV cells as they are (`--raw-csv`), instead of formulas neutralised with a `'`.
    raw_csv: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    last_run_at: Mapped[datetime | None]
    # Set while a run holds the export, so two processes never send the same orders.
    running_since: Mapped[datetime | None]
    created_at: Mapped[datetime]

    supplier: Mapped[Supplier] = relationship()


class ExportRun(Base):
    __tablename__ = "export_runs"
    __table_args__ = (Index("ix_export_runs_export_started", "export_id", "started_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    export_id: Mapped[int] = mapped_column(ForeignKey("export_targets.id"))
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    outcome: Mapped[str] = mapped_column(String(16))  # running|ok|failed|dry_run
    file_name: Mapped[str | None] = mapped_column(String(255))
    order_count: Mapped[int] = mapped_column(Integer, default=0)
    bytes: Mapped[int] = mapped_column(Integer, default=0)
    sha256: Mapped[str | None] = mapped_column(String(64))
    error: Mapped[str | None] = mapped_column(Text)


class ExportedOrder(Base):
    """Which orders an export has sent (for --only-new), and in which run."""

    __tablename__ = "exported_orders"
    __table_args__ = (UniqueConstraint("export_id", "order_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    export_id: Mapped[int] = mapped_column(ForeignKey("export_targets.id"))
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("export_runs.id"))


class JobRun(Base):
    """One run of a recurring job (pull, match, process, exports), for `avasam status`."""

    __tablename__ = "job_runs"
    __table_args__ = (
        Index("ix_job_runs_job_started", "job", "started_at"),
        partial_index("ix_job_runs_running", "job", where="outcome = 'running'"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    job: Mapped[str] = mapped_column(String(32))
    host: Mapped[str] = mapped_column(String(100))
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    outcome: Mapped[str] = mapped_column(String(16))  # running | ok | failed
    summary: Mapped[str | None] = mapped_column(Text)


class ChannelProblem(Base):
    """What a pull could not take in: a rejected file or an API order with its reason, kept
    so `channels errors` can show it after the terminal (or cron's mail) is gone."""

    __tablename__ = "channel_problems"
    __table_args__ = (Index("ix_channel_problems_channel_at", "channel_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id"))
    at: Mapped[datetime]
    problem: Mapped[str] = mapped_column(String(1000))


class ChannelUpdate(Base):
    """The outbox: a dispatch or cancel to tell an order's sales channel, written in the
    same transaction as the change and sent later by `channels push` (never inside it).

    `dedupe_key` keeps one update per change: dispatching again with the same tracking
    number, or a second cancel, adds nothing."""

    __tablename__ = "channel_updates"
    __table_args__ = (
        Index("ix_channel_updates_status_channel", "status", "channel_id", "id"),
        Index("ix_channel_updates_order", "order_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id"))
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"))
    external_id: Mapped[str] = mapped_column(String(128))  # the order's id on the channel
    kind: Mapped[str] = mapped_column(String(16))  # UpdateKind
    status: Mapped[str] = mapped_column(String(16))  # UpdateStatus
    dedupe_key: Mapped[str] = mapped_column(String(300), unique=True)
    tracking_number: Mapped[str | None] = mapped_column(String(100))
    carrier: Mapped[str | None] = mapped_column(String(100))
    reason: Mapped[str | None] = mapped_column(String(32))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime]
    next_attempt_at: Mapped[datetime]
    first_failed_at: Mapped[datetime | None]  # the first failed attempt (status's alarm)
    sent_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(500))
    remote_ref: Mapped[str | None] = mapped_column(String(200))  # fulfillment id, note id


class ImportFeed(Base):
    """Where a supplier leaves files for us (dispatch confirmations, stock and price
    feeds), and when to fetch them: the mirror of ExportTarget. Secrets are referenced by
    the name of an environment variable or the path of a file, never stored."""

    __tablename__ = "import_feeds"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    supplier_id: Mapped[int] = mapped_column(ForeignKey("suppliers.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # FeedKind
    protocol: Mapped[str] = mapped_column(String(8))
    host: Mapped[str | None] = mapped_column(String(255))
    port: Mapped[int | None] = mapped_column(Integer)
    username: Mapped[str | None] = mapped_column(String(100))
    secret_kind: Mapped[str | None] = mapped_column(String(16))
    secret_ref: Mapped[str | None] = mapped_column(String(500))
    known_hosts: Mapped[str | None] = mapped_column(String(500))
    remote_dir: Mapped[str] = mapped_column(String(500), default=".")
    pattern: Mapped[str] = mapped_column(String(200), default="*.csv")
    # The supplier's own column names: "OurName=TheirName,..." (empty: ours as they are).
    columns: Mapped[str | None] = mapped_column(String(1000))
    after: Mapped[str] = mapped_column(String(8), default="archive")  # FeedAfter
    schedule: Mapped[str | None] = mapped_column(String(100))
    passive: Mapped[bool] = mapped_column(Boolean, default=True)
    insecure_tls: Mapped[bool] = mapped_column(Boolean, default=False)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    last_run_at: Mapped[datetime | None]
    # The outcome of the last run that fetched anything or failed, for `status`.
    last_error: Mapped[str | None] = mapped_column(String(500))
    last_error_at: Mapped[datetime | None]
    created_at: Mapped[datetime]

    supplier: Mapped[Supplier] = relationship()


class ImportFile(Base):
    """One remote file seen by a feed, applied or rejected exactly once.

    The file is known by name, size, modification time and content hash: the unique key
    is written in the same transaction as the file's effects, so a second run (or a
    second process) that finds the same file again only finishes archiving it."""

    __tablename__ = "import_files"
    __table_args__ = (
        UniqueConstraint("feed_id", "name", "size", "mtime", "sha256"),
        Index("ix_import_files_feed_id", "feed_id", "id"),
        Index("ix_import_files_applied_at", "applied_at"),  # status: the last day's
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    feed_id: Mapped[int] = mapped_column(ForeignKey("import_feeds.id"))
    name: Mapped[str] = mapped_column(String(255))
    size: Mapped[int] = mapped_column(BigInteger)
    mtime: Mapped[int] = mapped_column(BigInteger)  # seconds since the epoch, UTC
    sha256: Mapped[str] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(16))  # FileOutcome: applied | rejected
    reason: Mapped[str | None] = mapped_column(String(500))  # why it was rejected
    rows: Mapped[int] = mapped_column(Integer, default=0)
    changed: Mapped[int] = mapped_column(Integer, default=0)
    unchanged: Mapped[int] = mapped_column(Integer, default=0)
    problems: Mapped[int] = mapped_column(Integer, default=0)
    applied_at: Mapped[datetime]
    # When it was moved to processed/ or rejected/, or deleted; None while it waits for
    # that step (a run killed after the commit) or when the feed keeps its files.
    archived_at: Mapped[datetime | None]


class ImportProblem(Base):
    """A row of an imported file that was not applied, and why."""

    __tablename__ = "import_problems"
    __table_args__ = (Index("ix_import_problems_file_line", "file_id", "line"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    file_id: Mapped[int] = mapped_column(ForeignKey("import_files.id"))
    line: Mapped[int] = mapped_column(Integer)
    ref: Mapped[str | None] = mapped_column(String(128))  # order number or product id
    message: Mapped[str] = mapped_column(String(500))


class ProductChange(Base):
    """The audit trail of a product's stock and prices: what a feed file (or `products
    import`) changed, with its source."""

    __tablename__ = "product_changes"
    __table_args__ = (Index("ix_product_changes_product", "product_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(100))
    source: Mapped[str] = mapped_column(String(300))  # "feed NAME, file FILE"
    details: Mapped[str] = mapped_column(Text)  # JSON: {"stock": [old, new], ...}
