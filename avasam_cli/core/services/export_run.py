"""`exports run` and `exports test`: the supplier's open orders to its server.

One run: claim the export (so two processes never send the same orders), record the run,
write the file locally while streaming the orders, upload it atomically with retries, and
in one transaction record the outcome, mark the orders sent and audit the ones the
supplier receives for the first time (from then on the seller must raise a ticket to
cancel them).
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO, Any

from sqlalchemy import (
    Integer,
    String,
    bindparam,
    delete,
    exists,
    func,
    insert,
    literal,
    or_,
    select,
    type_coerce,
    update,
)
from sqlalchemy.orm import Session

from avasam_cli.core.errors import AvasamError, RemoteError
from avasam_cli.core.export_file import LINE_FIELDS, ORDER_FIELDS, Written, write_export
from avasam_cli.core.lifecycle import Payment, Shipping, Status, event_row
from avasam_cli.core.models import (
    ExportedOrder,
    ExportRun,
    ExportTarget,
    Order,
    OrderEvent,
    OrderLine,
    OrderNote,
    table,
)
from avasam_cli.core.progress import SILENT, Progress
from avasam_cli.core.retry import retry
from avasam_cli.core.services.exports import render_filename, target_of
from avasam_cli.core.services.lookup import get_export
from avasam_cli.core.statuses import RunOutcome
from avasam_cli.core.transports import TransferError, Uploader, remote_step, uploader_for
from avasam_cli.core.workspace import Workspace

ATTEMPTS = 3
ROWS_PER_FETCH = 5000  # order lines per fetch from the export's server-side cursor
SENT = "sent_to_supplier"
STALE_CLAIM = timedelta(minutes=15)

# Where a dry run's file goes, chosen by the caller (a file, stdout): opens a binary stream,
# and is called only once the file is written, so a run that fails first opens nothing.
DryRunOutput = Callable[[], AbstractContextManager[IO[bytes]]]


@dataclass
class RunResult:
    export: str
    outcome: str  # ok | failed | dry_run | nothing_new | busy
    file_name: str | None = None
    orders: int = 0
    bytes: int = 0
    error: str | None = None


def enabled_exports(ws: Workspace) -> list[str]:
    with ws.uow(read_only=True) as uow:
        return list(
            uow.session.scalars(
                select(ExportTarget.name)
                .where(ExportTarget.enabled.is_(True))
                .order_by(ExportTarget.name)
            )
        )


def test_export(ws: Workspace, name: str) -> Iterator[str]:
    with ws.uow(read_only=True) as uow:
        target = target_of(get_export(uow.session, name))
    uploader = uploader_for(target, timeout=ws.settings.export_timeout)
    try:
        yield from remote_step(uploader.connect)
        remote_step(uploader.check_writable)
        yield f"wrote and deleted a probe file in {target.remote_dir}"
    finally:
        uploader.close()


def run_export(
    ws: Workspace,
    name: str,
    *,
    dry_run: bool = False,
    output: DryRunOutput | None = None,
    progress: Progress = SILENT,
    exclusive: bool = False,
) -> RunResult:
    """Write the export's file and send it; `progress` counts the order lines written.

    A dry run sends nothing and copies the file to `output` (nowhere without one).
    `exclusive`: the caller holds the exports job lock, so a claim left on the export is a
    killed run's: it is taken over at once (and that run marked killed), not after
    STALE_CLAIM.
    """
    started = ws.now()
    with ws.uow() as uow:
        export = get_export(uow.session, name)
        export_id, fmt, only_new = export.id, export.format, export.only_new
        template, supplier_code = export.filename_template, export.supplier.code
        target = None if dry_run else target_of(export)
        if not dry_run and not _claim(uow.session, export_id, started, exclusive=exclusive):
            return RunResult(
                name, RunOutcome.BUSY, error="another run of this export is in progress"
            )
        run = ExportRun(
            export_id=export_id,
            started_at=started,
            outcome=RunOutcome.DRY_RUN if dry_run else RunOutcome.RUNNING,
            order_count=0,
            bytes=0,
        )
        uow.session.add(run)
        uow.session.flush()
        run_id = run.id
        uow.commit()
    file_name: str | None = None
    workdir = Path(tempfile.mkdtemp(prefix="avasam-export-"))
    try:
        file_name = render_filename(
            template, supplier=supplier_code, export=name, moment=started, run=run_id
        )
        local = workdir / file_name
        first_time = [] if dry_run else _claim_orders(ws, export_id, only_new, started)
        written = _write(ws, export_id, only_new, fmt, local, progress, claimed=not dry_run)
        if dry_run:
            _copy_out(local, output)
            _finish(
                ws, export_id, run_id, RunOutcome.DRY_RUN, file_name, written, None, release=False
            )
            return RunResult(
                name, RunOutcome.DRY_RUN, file_name, len(written.order_ids), written.bytes
            )
        if only_new and not written.order_ids:
            _finish(ws, export_id, run_id, RunOutcome.NOTHING_NEW, None, written, None)
            return RunResult(name, RunOutcome.NOTHING_NEW)
        assert target is not None
        try:
            _upload_with_retries(
                uploader_for(target, timeout=ws.settings.export_timeout),
                local,
                file_name,
                ws.settings.export_backoff,
            )
        except RemoteError as exc:
            _release_orders(ws, export_id, started)
            _finish(ws, export_id, run_id, RunOutcome.FAILED, file_name, written, str(exc))
            return RunResult(
                name, RunOutcome.FAILED, file_name, len(written.order_ids), written.bytes, str(exc)
            )
        _finish(
            ws, export_id, run_id, RunOutcome.OK, file_name, written, None, sent=set(first_time)
        )
        return RunResult(name, RunOutcome.OK, file_name, len(written.order_ids), written.bytes)
    except Exception as exc:
        if dry_run:  # a rehearsal that failed leaves no trace: no run, no new last_run_at
            _forget(ws, run_id)
            raise
        # Whatever broke, give the orders back, record the failed run and release the claim
        # before re-raising.
        _release_orders(ws, export_id, started)
        message = str(exc) if isinstance(exc, AvasamError) else f"{type(exc).__name__}"
        _finish(ws, export_id, run_id, RunOutcome.FAILED, file_name, Written(), message)
        raise
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def history(ws: Workspace, name: str, limit: int | None) -> Iterator[dict[str, Any]]:
    with ws.uow(read_only=True) as uow:
        export = get_export(uow.session, name)
        query = (
            select(ExportRun).where(ExportRun.export_id == export.id).order_by(ExportRun.id.desc())
        )
        if limit:
            query = query.limit(limit)
        for run in uow.session.scalars(query):
            yield {
                "run": run.id,
                "started_at": run.started_at,
                "finished_at": run.finished_at,
                "outcome": run.outcome,
                "file_name": run.file_name,
                "orders": run.order_count,
                "bytes": run.bytes,
                "sha256": run.sha256,
                "error": run.error,
            }


def _claim(session: Session, export_id: int, now: datetime, *, exclusive: bool) -> bool:
    free = [ExportTarget.id == export_id]
    if not exclusive:
        free.append(
            or_(
                ExportTarget.running_since.is_(None), ExportTarget.running_since < now - STALE_CLAIM
            )
        )
    result = session.execute(
        update(ExportTarget)
        .where(*free)
        .values(running_since=now)
        .execution_options(synchronize_session=False)
    )
    if exclusive:  # any run of this export still `running` died without finishing
        session.execute(
            update(ExportRun)
            .where(ExportRun.export_id == export_id, ExportRun.outcome == RunOutcome.RUNNING)
            .values(
                outcome=RunOutcome.KILLED,
                finished_at=now,
                error="the run ended without finishing (killed)",
            )
            .execution_options(synchronize_session=False)
        )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def _open_orders(export_id: int, supplier_id: int, only_new: bool) -> list[Any]:
    """Which orders an export sends: its supplier's paid open orders not yet shipped (and,
    with only_new, not yet sent by this export)."""
    conditions: list[Any] = [
        Order.supplier_id == supplier_id,
        Order.status == Status.OPEN,
        Order.payment_status == Payment.PAID,
        Order.shipping_status == Shipping.UNSHIPPED,
    ]
    if only_new:
        conditions.append(
            ~exists().where(
                ExportedOrder.export_id == export_id, ExportedOrder.order_id == Order.id
            )
        )
    return conditions


def _claim_orders(ws: Workspace, export_id: int, only_new: bool, claimed_at: datetime) -> list[int]:
    """Before the file is written, the orders it will hold count as received by the supplier:
    from then on the seller's direct cancel is refused (the ticket route), so an order is
    never both refunded and in a delivered file. Returns the orders received for the first
    time, which `_release_orders` gives back if the file is not delivered."""
    with ws.uow() as uow:
        session = uow.session
        supplier_id = session.get_one(ExportTarget, export_id).supplier_id
        waiting = [
            *_open_orders(export_id, supplier_id, only_new),
            Order.received_by_supplier_at.is_(None),
        ]
        first_time = list(
            session.connection().scalars(  # plain ids, not through the ORM's loading
                select(Order.id).where(*waiting).order_by(Order.id).with_for_update()
            )
        )
        session.execute(  # the row changes now (a cancel sees it): updated_at with it
            update(Order)
            .where(*waiting)
            .values(received_by_supplier_at=claimed_at, updated_at=claimed_at)
            .execution_options(synchronize_session=False)
        )
        uow.commit()
    return first_time


def _release_orders(ws: Workspace, export_id: int, claimed_at: datetime) -> None:
    """The file was not delivered: the orders this run claimed go back to not received (an
    order another export has since sent stays received)."""
    with ws.uow() as uow:
        uow.session.execute(
            update(Order)
            .where(
                Order.received_by_supplier_at == claimed_at,
                Order.supplier_id
                == select(ExportTarget.supplier_id)
                .where(ExportTarget.id == export_id)
                .scalar_subquery(),
                ~exists().where(ExportedOrder.order_id == Order.id),
            )
            .values(received_by_supplier_at=None, updated_at=ws.now())
            .execution_options(synchronize_session=False)
        )
        uow.commit()


def _write(
    ws: Workspace,
    export_id: int,
    only_new: bool,
    fmt: str,
    local: Path,
    progress: Progress,
    *,
    claimed: bool,
) -> Written:
    """Stream the export's order lines into `local`: plain rows from a server-side cursor
    (never the whole export in memory), no ORM objects."""
    with ws.uow(read_only=True) as uow:
        session = uow.session
        export = session.get_one(ExportTarget, export_id)
        conditions = _open_orders(export_id, export.supplier_id, only_new)
        if claimed:  # only what the claim took: an order opened since waits for the next run
            conditions.append(Order.received_by_supplier_at.is_not(None))
        query = (
            select(
                *(
                    # as the driver gives it (text on SQLite, a datetime on PostgreSQL):
                    # the file converts it once per order, not the column type once per line
                    type_coerce(Order.placed_at, String).label(name)
                    if name == "placed_at"
                    else getattr(Order, name)
                    for name in ORDER_FIELDS
                ),
                *(getattr(OrderLine, name) for name in LINE_FIELDS),
            )
            .join(OrderLine, OrderLine.order_id == Order.id)
            .where(*conditions)
            .order_by(Order.id, OrderLine.line_no)
            .execution_options(stream_results=True, yield_per=ROWS_PER_FETCH)
        )
        connection = session.connection()

        def notes(order_id: int) -> str:
            return " | ".join(
                connection.scalars(
                    select(OrderNote.text)
                    .where(OrderNote.order_id == order_id)
                    .order_by(OrderNote.id)
                )
            )

        def rows() -> Iterator[Any]:
            for part in connection.execute(query).partitions():
                yield from part
                progress.advance(len(part))

        with local.open("wb") as out:
            progress.start(None)
            return write_export(rows(), notes, fmt, ws.timezone, out, raw_csv=export.raw_csv)


def _upload_with_retries(uploader: Uploader, local: Path, name: str, backoff: float) -> None:
    """Connect and upload, on a new connection each try; a transient failure is tried again
    (`backoff`, AVASAM_EXPORT_BACKOFF: seconds before the first retry, doubling)."""
    tries = 0

    def attempt() -> None:
        nonlocal tries
        tries += 1
        try:
            uploader.connect()
            uploader.upload(local, name)
        finally:
            uploader.close()

    try:
        retry(
            attempt,
            attempts=ATTEMPTS,
            first_delay=backoff,
            transient=lambda exc: isinstance(exc, TransferError) and exc.transient,
        )
    except TransferError as exc:
        after = f" (after {tries} tries)" if tries > 1 else ""
        raise RemoteError(f"{exc}{after}") from None


def _finish(
    ws: Workspace,
    export_id: int,
    run_id: int,
    outcome: str,
    file_name: str | None,
    written: Written,
    error: str | None,
    *,
    sent: set[int] | None = None,
    release: bool = True,
) -> None:
    with ws.uow() as uow:
        session, now = uow.session, ws.now()
        run = session.get_one(ExportRun, run_id)
        run.outcome, run.finished_at, run.error = outcome, now, error
        run.file_name, run.order_count = file_name, len(written.order_ids)
        run.bytes, run.sha256 = written.bytes, written.sha256 or None
        export = session.get_one(ExportTarget, export_id)
        if release:
            export.running_since = None
            export.last_run_at = run.started_at
        if sent is not None:
            _mark_sent(
                session, export, run_id, written.order_ids, sent, file_name or "", ws.actor, now
            )
        uow.commit()


def _forget(ws: Workspace, run_id: int) -> None:
    with ws.uow() as uow:
        uow.session.execute(delete(ExportRun).where(ExportRun.id == run_id))
        uow.commit()


def _mark_sent(
    session: Session,
    export: ExportTarget,
    run_id: int,
    order_ids: list[int],
    first_time_ids: set[int],
    file_name: str,
    actor: str,
    now: datetime,
) -> None:
    """Set-based: two statements for the whole file, whatever its size. The ids go to the
    database as one value (a JSON array on SQLite, an integer array on PostgreSQL)."""
    dialect = session.get_bind().dialect.name
    sent = _id_rows(dialect, order_ids, "sent")
    # An order this export sent before keeps its row: ON CONFLICT DO NOTHING on the
    # (export_id, order_id) key. (Not NOT EXISTS: PostgreSQL plans that against the table
    # as it was before the insert, often empty, and rescans it for every id.)
    rows = select(literal(export.id), sent.c.value, literal(run_id)).where(
        sent.c.value.is_not(None)  # keeps SQLite's parser from reading ON CONFLICT as a join's
    )
    columns, key = ["export_id", "order_id", "run_id"], ["export_id", "order_id"]
    if dialect == "postgresql":
        from sqlalchemy.dialects import postgresql

        session.execute(
            postgresql.insert(table(ExportedOrder))
            .from_select(columns, rows)
            .on_conflict_do_nothing(index_elements=key)
        )
    else:
        from sqlalchemy.dialects import sqlite

        session.execute(
            sqlite.insert(table(ExportedOrder))
            .from_select(columns, rows)
            .on_conflict_do_nothing(index_elements=key)
        )
    first_time = [oid for oid in order_ids if oid in first_time_ids]
    if not first_time:
        return
    received = _id_rows(dialect, first_time, "received")  # updated_at was set by the claim
    row = event_row(
        None, SENT, actor=actor, at=now, details={"export": export.name, "file": file_name}
    )
    events = table(OrderEvent)
    session.execute(
        insert(events).from_select(
            list(row),
            select(
                *(
                    received.c.value
                    if column == "order_id"
                    else literal(value, events.c[column].type).label(column)
                    for column, value in row.items()
                )
            ),
        )
    )


def _id_rows(dialect: str, ids: list[int], name: str) -> Any:
    """`ids` as a table of one column, `value`, passed as a single parameter."""
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import ARRAY

        return (
            func.unnest(bindparam(name, ids, type_=ARRAY(Integer)))
            .table_valued("value")
            .render_derived()
        )
    return func.json_each(bindparam(name, json.dumps(ids), type_=String)).table_valued("value")


def _copy_out(local: Path, output: DryRunOutput | None) -> None:
    if output is None:
        return
    with local.open("rb") as source, output() as sink:
        shutil.copyfileobj(source, sink)
        sink.flush()
