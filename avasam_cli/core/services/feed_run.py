"""`imports run`, `imports test`, `imports history`: a supplier's files fetched from its
server and applied, each exactly once.

One run of a feed, in three steps:
1. fetch (retried on a new connection): list the directory, download every file that
   matches the pattern and is not marked partial, list again; a file whose size or time
   changed between the listings is still being written and waits for the next run;
2. apply, one transaction per file: the file's identity (name, size, time, sha256) is
   inserted first, so a file already applied (a run killed before it archived the file, a
   second process) is recognised and never applied twice; a file that cannot be read is
   recorded as rejected and changes nothing; bad rows are listed and the good ones apply;
3. archive (retried): move the file into processed/ (rejected/), delete it, or keep it,
   per `--after`, and record that it was done. A run killed before this step leaves the
   file for the next run, which only archives it.
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from avasam_cli.core.csvfile import FileFormatError, Utf8Lines, csv_rows, watch
from avasam_cli.core.db import retry_conflicts
from avasam_cli.core.errors import AvasamError, NotFound, RemoteError
from avasam_cli.core.models import ImportFeed, ImportFile, ImportProblem
from avasam_cli.core.progress import SILENT, Progress, counted
from avasam_cli.core.retry import retry
from avasam_cli.core.services.dispatch_file import KEPT_PROBLEMS, apply_dispatch_file
from avasam_cli.core.services.feeds import (
    PROCESSED,
    REJECTED,
    column_names,
    get_feed,
    matches,
    same_place,
    target_of,
)
from avasam_cli.core.services.product_import import Feed, apply_feed, read_feed
from avasam_cli.core.statuses import FeedAfter, FeedKind, FileOutcome, RunOutcome
from avasam_cli.core.transports import (
    Fetcher,
    RemoteFile,
    TransferError,
    fetcher_for,
    remote_step,
)
from avasam_cli.core.workspace import Workspace

ATTEMPTS = 3
DISPATCH_REQUIRED = ["OrderNumber", "Status", "TrackingNumber"]
SKIPPED, SEEN = "skipped", "seen"  # a file still being written; one applied before


@dataclass
class FileResult:
    name: str
    outcome: str  # applied | rejected | skipped | seen | dry_run
    rows: int = 0
    changed: int = 0
    unchanged: int = 0
    problems: int = 0
    detail: str | None = None


@dataclass
class FeedResult:
    feed: str
    outcome: str  # ok | failed | nothing_new | dry_run
    files: list[FileResult] = field(default_factory=list)
    error: str | None = None


@dataclass(frozen=True)
class _Feed:
    """What a run needs of a feed, read once (the secret with it)."""

    id: int
    name: str
    supplier_id: int
    kind: FeedKind
    pattern: str
    after: FeedAfter
    renamed: dict[str, str]


@dataclass
class _Pending:
    """A file whose effects are committed and that waits to be archived."""

    record_id: int
    name: str
    rejected: bool


def enabled_feeds(ws: Workspace) -> list[str]:
    with ws.uow(read_only=True) as uow:
        return list(
            uow.session.scalars(
                select(ImportFeed.name)
                .where(ImportFeed.enabled.is_(True))
                .order_by(ImportFeed.name)
            )
        )


def test_feed(ws: Workspace, name: str) -> Iterator[str]:
    """Connect, log in, list the matching files, and check the directory is writable when
    files are to be archived or deleted."""
    with ws.uow(read_only=True) as uow:
        feed = get_feed(uow.session, name)
        target, pattern, after = target_of(feed), feed.pattern, feed.after
    fetcher = fetcher_for(target, timeout=ws.settings.export_timeout)
    try:
        yield from remote_step(fetcher.connect)
        files = [f for f in remote_step(fetcher.listing) if matches(pattern, f.name)]
        yield f"{len(files)} file(s) in {target.remote_dir} match {pattern!r}"
        if after != FeedAfter.KEEP:
            remote_step(fetcher.check_writable)
            yield f"can write in {target.remote_dir} (to {after} applied files)"
    finally:
        fetcher.close()


def run_feed(
    ws: Workspace, name: str, *, dry_run: bool = False, progress: Progress = SILENT
) -> FeedResult:
    """Fetch and apply the feed's new files. A dry run applies each in a transaction it
    rolls back (the counts are what a run would do) and leaves the server as it is."""
    with ws.uow(read_only=True) as uow:
        row = get_feed(uow.session, name)
        feed = _Feed(
            row.id,
            row.name,
            row.supplier_id,
            FeedKind(row.kind),
            row.pattern,
            FeedAfter(row.after),
            column_names(row),
        )
        try:
            target = target_of(row)
        except AvasamError as exc:  # "import NAME password: ...": the caller names the feed
            target, error = None, str(exc).removeprefix(f"import {name} ")
    result = FeedResult(name, RunOutcome.OK)
    if target is None:
        result.outcome, result.error = RunOutcome.FAILED, error
        _finish(ws, feed, result, dry_run)
        return result
    fetcher = fetcher_for(target, timeout=ws.settings.export_timeout)
    workdir = Path(tempfile.mkdtemp(prefix="avasam-import-"))
    try:
        fetched, moving = _fetch(ws, fetcher, feed, workdir)
        pending: list[_Pending] = []
        for item in fetched:
            if item.local is None:
                result.files.append(FileResult(item.remote.name, SKIPPED, detail=item.problem))
                if item.problem != STILL_WRITING:  # unreadable on the server: say so
                    result.error = f"file {item.remote.name}: {item.problem}"
                continue
            # A file's cancels refund (products, then the account) while its batch holds
            # up to 500 orders: PostgreSQL may end a deadlock with `orders process` by
            # aborting us; the file's transaction is then simply run again.
            applied, waiting = retry_conflicts(
                partial(_apply_file, ws, feed, item.remote, item.local, dry_run, progress)
            )
            result.files.append(applied)
            if waiting is not None:
                pending.append(waiting)
        pending += moving
        if pending and not dry_run and feed.after != FeedAfter.KEEP:
            _archive(ws, fetcher, feed, pending)
        elif pending and not dry_run:
            _mark_archived(ws, [p.record_id for p in pending])
    except RemoteError as exc:
        result.outcome, result.error = RunOutcome.FAILED, str(exc)
    finally:
        fetcher.close()
        shutil.rmtree(workdir, ignore_errors=True)
    if result.error and result.outcome == RunOutcome.OK:
        result.outcome = RunOutcome.FAILED  # a file the server would not give: the rest ran
    if dry_run:
        result.outcome = RunOutcome.DRY_RUN
    elif result.outcome == RunOutcome.OK and not any(
        f.outcome in (FileOutcome.APPLIED, FileOutcome.REJECTED) for f in result.files
    ):
        result.outcome = RunOutcome.NOTHING_NEW
    _finish(ws, feed, result, dry_run)
    return result


@dataclass
class _Fetched:
    """A file found by the fetch: downloaded to `local`, or left on the server (`local`
    None) because it is still being written or could not be read (`problem`)."""

    remote: RemoteFile
    local: Path | None
    problem: str | None = None


STILL_WRITING = "still being written"


def _fetch(
    ws: Workspace, fetcher: Fetcher, feed: _Feed, workdir: Path
) -> tuple[list[_Fetched], list[_Pending]]:
    """Download the files to apply, in the supplier's order (oldest first), and the files
    applied before that still wait to be archived (not downloaded again).

    A file is taken only when two listings AVASAM_IMPORT_SETTLE seconds apart, and a third
    after its download, agree on its size and time, and it is not empty: a supplier's
    upload in progress waits for the next run."""
    known = _known_files(ws, feed)

    def attempt() -> tuple[list[_Fetched], list[_Pending]]:
        try:
            fetcher.connect()
            first = sorted(
                (f for f in fetcher.listing() if matches(feed.pattern, f.name)),
                key=lambda f: (f.mtime, f.name),
            )
            new, moving = [], []
            for remote in first:
                seen = known.get((remote.name, remote.size, remote.mtime))
                # Applied or rejected before: at most archive it. An archived file that
                # is back is a new one (the old was moved or deleted), unless kept.
                if seen is not None and (seen.record_id >= 0 or feed.after == FeedAfter.KEEP):
                    if seen.record_id >= 0:
                        moving.append(seen)
                    continue
                new.append(remote)
            if new and ws.settings.import_settle:
                time.sleep(ws.settings.import_settle)
            second = {f.name: f for f in fetcher.listing()} if new else {}
            fetched: list[_Fetched] = []
            for index, remote in enumerate(new):
                if not _utf8(remote.name):  # it could be neither recorded nor shown
                    shown = remote.name.encode("utf-8", "backslashreplace").decode()
                    fetched.append(
                        _Fetched(
                            RemoteFile(shown, remote.size, remote.mtime),
                            None,
                            "its name is not UTF-8 text; ask the supplier to rename it",
                        )
                    )
                    continue
                if second.get(remote.name) != remote or remote.size == 0:
                    fetched.append(_Fetched(remote, None, STILL_WRITING))
                    continue
                local = workdir / f"{index}.download"
                try:
                    size = fetcher.download(remote.name, local)
                except TransferError as exc:
                    if exc.transient:
                        raise
                    fetched.append(_Fetched(remote, None, f"cannot download it: {exc}"))
                    continue
                fetched.append(_Fetched(remote, local if size == remote.size else None))
            third = {f.name: f for f in fetcher.listing()} if fetched else {}
            for item in fetched:
                if item.problem is None and (
                    item.local is None or third.get(item.remote.name) != item.remote
                ):
                    item.local, item.problem = None, STILL_WRITING
            return fetched, moving
        finally:
            fetcher.close()

    try:
        return retry(
            attempt,
            attempts=ATTEMPTS,
            first_delay=ws.settings.export_backoff,
            transient=lambda exc: isinstance(exc, TransferError) and exc.transient,
        )
    except TransferError as exc:
        raise RemoteError(str(exc)) from None


def _known_files(ws: Workspace, feed: _Feed) -> dict[tuple[str, int, int], _Pending]:
    """Files recorded before by this feed, or by a feed of the same kind on the same folder
    (one removed and added again must not apply its kept files twice), by name, size and
    time; record_id -1 for those needing nothing more (archived, or kept), or another
    feed's."""
    with ws.uow(read_only=True) as uow:
        row = uow.session.get_one(ImportFeed, feed.id)
        rows = uow.session.execute(
            select(
                ImportFile.id,
                ImportFile.feed_id,
                ImportFile.name,
                ImportFile.size,
                ImportFile.mtime,
                ImportFile.outcome,
                ImportFile.archived_at,
            )
            .join(ImportFeed, ImportFeed.id == ImportFile.feed_id)
            .where(*_worth_knowing(row, feed))
            .order_by(ImportFile.id)
        )
        return {
            (name, size, mtime): _Pending(
                record_id if archived_at is None and feed_id == feed.id else -1,
                name,
                outcome == FileOutcome.REJECTED,
            )
            for record_id, feed_id, name, size, mtime, outcome, archived_at in rows
        }


def _worth_knowing(row: ImportFeed, feed: _Feed) -> list[Any]:
    """Which recorded files can matter to this run: a feed that keeps its files needs every
    file ever recorded on its folder; one that archives them only those of its own still
    waiting to be archived (the rest are gone from the server), not years of history."""
    if feed.after == FeedAfter.KEEP:
        return [same_place(row), ImportFeed.kind == row.kind]
    return [ImportFile.feed_id == feed.id, ImportFile.archived_at.is_(None)]


def _apply_file(
    ws: Workspace,
    feed: _Feed,
    remote: RemoteFile,
    local: Path,
    dry_run: bool,
    progress: Progress,
) -> tuple[FileResult, _Pending | None]:
    """Apply one downloaded file in one transaction; what it did, and the file to archive
    (None for a dry run)."""
    digest = _sha256(local)
    key = (feed.id, remote.name, remote.size, remote.mtime, digest)
    with ws.uow() as uow:
        session = uow.session
        record = _record(feed, remote, digest, FileOutcome.APPLIED, ws.now())
        session.add(record)
        try:
            session.flush()  # claims the file: a second process stops here
        except IntegrityError:
            uow.rollback()
            return _seen(ws, feed, key)
        try:
            problems = _apply_rows(ws, session, feed, remote.name, local, record, progress)
        except FileFormatError as exc:
            uow.rollback()
            reason = exc.named(remote.name)
            if dry_run:
                return FileResult(remote.name, FileOutcome.REJECTED, detail=reason), None
            return _reject(ws, feed, remote, digest, reason, key)
        if problems:
            session.execute(
                insert(ImportProblem),
                [
                    {
                        "file_id": record.id,
                        "line": line,
                        "ref": ref[:128] if ref else None,
                        "message": message[:500],
                    }
                    for line, ref, message in problems
                ],
            )
        result = FileResult(
            remote.name,
            RunOutcome.DRY_RUN if dry_run else FileOutcome.APPLIED,
            record.rows,
            record.changed,
            record.unchanged,
            record.problems,
            "; ".join(message for _, _, message in problems[:3]) or None,
        )
        if dry_run:
            return result, None
        uow.commit()
        return result, _Pending(record.id, remote.name, rejected=False)


def _apply_rows(
    ws: Workspace,
    session: Session,
    feed: _Feed,
    name: str,
    local: Path,
    record: ImportFile,
    progress: Progress,
) -> list[tuple[int, str | None, str]]:
    source = f"import {feed.name}, file {name}"
    watch(progress, local)
    with local.open("rb") as raw:
        lines = Utf8Lines(raw)
        if feed.kind == FeedKind.DISPATCHES:
            rows = csv_rows(lines, DISPATCH_REQUIRED, ["Carrier"], renamed=feed.renamed)
            report = apply_dispatch_file(
                session,
                feed.supplier_id,
                counted(rows, progress),
                source=source,
                actor=ws.actor,
                at=ws.now(),
            )
            changed, unchanged, problems = report.changed, report.unchanged, report.problems
            count = report.problem_count
        else:
            shape = read_feed(lines, feed.renamed)
            stock = apply_feed(
                session,
                feed.supplier_id,
                Feed(shape.columns, counted(shape.rows, progress)),
                source=source,
                actor=ws.actor,
                now=ws.now(),
            )
            changed, unchanged = stock.created + stock.updated, stock.unchanged
            problems = [(p.line, p.ref, p.message) for p in stock.problems[:KEPT_PROBLEMS]]
            count = len(stock.problems)
    record.rows = changed + unchanged + count
    record.changed, record.unchanged, record.problems = changed, unchanged, count
    return problems


def _record(
    feed: _Feed,
    remote: RemoteFile,
    digest: str,
    outcome: FileOutcome,
    at: datetime,
    reason: str | None = None,
) -> ImportFile:
    """The file's identity row, counts to be filled in (the unique key is the claim)."""
    return ImportFile(
        feed_id=feed.id,
        name=remote.name,
        size=remote.size,
        mtime=remote.mtime,
        sha256=digest,
        outcome=outcome,
        reason=reason,
        rows=0,
        changed=0,
        unchanged=0,
        problems=0,
        applied_at=at,
    )


def _reject(
    ws: Workspace,
    feed: _Feed,
    remote: RemoteFile,
    digest: str,
    reason: str,
    key: tuple[int, str, int, int, str],
) -> tuple[FileResult, _Pending | None]:
    with ws.uow() as uow:
        record = _record(feed, remote, digest, FileOutcome.REJECTED, ws.now(), reason[:500])
        uow.session.add(record)
        try:
            uow.commit()
        except IntegrityError:
            uow.rollback()
            return _seen(ws, feed, key)
        return (
            FileResult(remote.name, FileOutcome.REJECTED, detail=reason),
            _Pending(record.id, remote.name, rejected=True),
        )


def _seen(
    ws: Workspace, feed: _Feed, key: tuple[int, str, int, int, str]
) -> tuple[FileResult, _Pending | None]:
    """The same file (name, size, time and content) was recorded before: by another run
    meanwhile, or it was archived and the supplier sent it again. Never applied twice; it
    is archived again unless the feed keeps its files."""
    feed_id, name, size, mtime, digest = key
    with ws.uow(read_only=True) as uow:
        record_id, outcome = uow.session.execute(
            select(ImportFile.id, ImportFile.outcome).where(
                ImportFile.feed_id == feed_id,
                ImportFile.name == name,
                ImportFile.size == size,
                ImportFile.mtime == mtime,
                ImportFile.sha256 == digest,
            )
        ).one()
    result = FileResult(name, SEEN, detail=f"{outcome} before; not applied again")
    if feed.after == FeedAfter.KEEP:
        return result, None
    return result, _Pending(record_id, name, rejected=outcome == FileOutcome.REJECTED)


def _archive(ws: Workspace, fetcher: Fetcher, feed: _Feed, pending: list[_Pending]) -> None:
    """Move or delete the files whose effects are committed, recording each as done."""
    done: list[int] = []

    def attempt() -> None:
        try:
            fetcher.connect()
            present = {f.name for f in fetcher.listing()}
            for item in pending:
                if item.record_id in done:
                    continue
                if item.name not in present:  # archived meanwhile by another run
                    done.append(item.record_id)
                    continue
                if item.rejected:
                    fetcher.move(item.name, REJECTED)  # the supplier must see why
                elif feed.after == FeedAfter.DELETE:
                    fetcher.delete(item.name)
                else:
                    fetcher.move(item.name, PROCESSED)
                done.append(item.record_id)
        finally:
            fetcher.close()

    try:
        retry(
            attempt,
            attempts=ATTEMPTS,
            first_delay=ws.settings.export_backoff,
            transient=lambda exc: isinstance(exc, TransferError) and exc.transient,
        )
    except TransferError as exc:
        raise RemoteError(
            f"{exc}; the file's rows are applied, and the next run will only move it"
        ) from None
    finally:
        _mark_archived(ws, done)


def _mark_archived(ws: Workspace, record_ids: list[int]) -> None:
    if not record_ids:
        return
    with ws.uow() as uow:
        uow.session.execute(
            update(ImportFile).where(ImportFile.id.in_(record_ids)).values(archived_at=ws.now())
        )
        uow.commit()


def _finish(ws: Workspace, feed: _Feed, result: FeedResult, dry_run: bool) -> None:
    """The feed's last run, for `--due` and `status` (a dry run leaves no trace)."""
    if dry_run:
        return
    failed = result.outcome == RunOutcome.FAILED
    with ws.uow() as uow:
        uow.session.execute(
            update(ImportFeed)
            .where(ImportFeed.id == feed.id)
            .values(
                last_run_at=ws.now(),
                last_error=(result.error or "failed")[:500] if failed else None,
                last_error_at=ws.now() if failed else None,
            )
        )
        uow.commit()


def history(ws: Workspace, name: str, limit: int | None) -> list[dict[str, Any]]:
    """The feed's files, newest first."""
    with ws.uow(read_only=True) as uow:
        feed = get_feed(uow.session, name)
        query = (
            select(ImportFile).where(ImportFile.feed_id == feed.id).order_by(ImportFile.id.desc())
        )
        if limit:
            query = query.limit(limit)
        return [
            {
                "file_id": f.id,
                "at": f.applied_at,
                "file": f.name,
                "outcome": f.outcome,
                "rows": f.rows,
                "changed": f.changed,
                "unchanged": f.unchanged,
                "problems": f.problems,
                "reason": f.reason,
                "archived_at": f.archived_at,
                "bytes": f.size,
                "sha256": f.sha256,
            }
            for f in uow.session.scalars(query)
        ]


def file_problems(ws: Workspace, name: str, file_id: int) -> list[dict[str, Any]]:
    """The rows of one of the feed's files that were not applied, and why."""
    with ws.uow(read_only=True) as uow:
        feed = get_feed(uow.session, name)
        record = uow.session.get(ImportFile, file_id)
        if record is None or record.feed_id != feed.id:
            raise NotFound(f"import {name} has no file {file_id}; see `avasam imports history`")
        if record.outcome == FileOutcome.REJECTED:
            return [{"line": None, "ref": None, "problem": f"rejected: {record.reason}"}]
        problems = uow.session.scalars(
            select(ImportProblem)
            .where(ImportProblem.file_id == file_id)
            .order_by(ImportProblem.line)
        )
        rows = [{"line": p.line, "ref": p.ref, "problem": p.message} for p in problems]
        if record.problems > len(rows):
            more = record.problems - len(rows)
            rows.append({"line": None, "ref": None, "problem": f"... and {more:,} more"})
        return rows


def _utf8(name: str) -> bool:
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:  # bytes a folder or server gave that are not UTF-8
        return False
    return True


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()
