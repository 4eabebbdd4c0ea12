"""Recurring jobs: one at a time, recorded, logged.

On the light path (core/lightdb.py, the driver alone): a cron job that finds nothing to
do finishes without loading SQLAlchemy.

A job holds a lock while it runs: a file lock beside a SQLite database, a PostgreSQL
advisory lock otherwise (so two hosts sharing one database never run the same job at
once). Both are released by the operating system or the server when a process dies, so a
killed job never blocks the next run.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from avasam_cli.core.errors import AvasamError, InvalidInput, describe_unexpected
from avasam_cli.core.lightdb import sqlite_path
from avasam_cli.core.statuses import RunOutcome
from avasam_cli.core.workspace import Workspace


class JobBusy(Exception):
    pass


@dataclass
class Job:
    name: str
    summary: dict[str, Any] = field(default_factory=dict)
    failed: bool = False


@contextmanager
def run_job(ws: Workspace, name: str) -> Iterator[Job]:
    """Hold the job's lock and record the run; JobBusy when another run holds it.

    The run fails when the caller sets `job.failed` or when an exception escapes; an
    exception's message (its first line) is recorded as the run's error. How a front end
    ends a run that failed (an exit code, say) is its own business: it sets `job.failed`.
    """
    # The light path's writer (core/lightdb.py): a job with nothing to do never loads
    # SQLAlchemy. Opening it checks the database first: a lock beside a database that is
    # not there would create its folder.
    ws.light(write=True).scalar("SELECT 1")
    with _lock(ws, name):
        _reap(ws, name)
        job = Job(name)
        run_id = _record_start(ws, name, ws.now())
        try:
            yield job
        except BaseException as exc:
            job.failed = True
            if isinstance(exc, AvasamError):
                message = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
            elif isinstance(exc, Exception):  # a database error's text holds its parameters
                message = describe_unexpected(exc)
            else:
                message = ""
            if message:
                job.summary.setdefault("error", message)
            raise
        finally:
            _record_end(ws, run_id, job)


def log_line(path: str | None, moment: datetime, job: Job) -> None:
    """Append one line per job run to the log file (--log-file / AVASAM_LOG_FILE)."""
    if not path:
        return
    counts = " ".join(f"{k}={v}" for k, v in job.summary.items())
    outcome = RunOutcome.FAILED if job.failed else RunOutcome.OK
    try:
        Path(path).parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        descriptor = os.open(path, os.O_CREAT | os.O_WRONLY | os.O_APPEND, 0o600)
        with open(descriptor, "a", encoding="utf-8") as log:  # owner-only: it names orders
            log.write(f"{moment.isoformat(timespec='seconds')} {job.name} {outcome} {counts}\n")
    except OSError as exc:
        raise InvalidInput(
            f"cannot write the job log {path!r} ({exc.strerror}); the {job.name} "
            f"job itself {'failed' if job.failed else 'ran'}: choose another "
            "--log-file or AVASAM_LOG_FILE"
        ) from None


@contextmanager
def _lock(ws: Workspace, name: str) -> Iterator[None]:
    db = ws.light(write=True)
    if db.dialect == "sqlite":
        path = Path(f"{sqlite_path(ws.settings.database_url)}.{name}.lock")
        try:  # owner-only, like the database beside it
            handle = open(  # noqa: SIM115  (closed by the `with handle` below)
                os.open(path, os.O_CREAT | os.O_WRONLY | os.O_APPEND, 0o600), "a"
            )
        except OSError as exc:
            raise InvalidInput(
                f"cannot take the job lock {path} ({exc.strerror}); the database's folder must "
                "be writable by this user"
            ) from None
        with handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise JobBusy(name) from None
            yield  # closing the file releases the lock, as does the process dying
        return
    # A session lock of the writer's connection: the server frees it if the process dies.
    key = zlib.crc32(f"avasam:{name}".encode())
    if not db.scalar("SELECT pg_try_advisory_lock(?)", [key]):
        raise JobBusy(name)
    try:
        yield
    finally:
        db.scalar("SELECT pg_advisory_unlock(?)", [key])


def _reap(ws: Workspace, name: str) -> None:
    """Runs of this job still marked `running` were killed: we hold the job's lock, which a
    live run would hold (the operating system or the server freed it when it died).

    'running' is written into the SQL, not bound: SQLite uses the partial index
    ix_job_runs_running only for the literal; without it this reads every run the job
    ever had (a cron job has a hundred thousand a year)."""
    db = ws.light(write=True)
    db.execute(
        f"UPDATE job_runs SET outcome = '{RunOutcome.KILLED}', finished_at = ? "
        f"WHERE job = ? AND outcome = '{RunOutcome.RUNNING}'",
        [db.time_param(ws.now()), name],
    )


def _record_start(ws: Workspace, name: str, started: datetime) -> int:
    db = ws.light(write=True)
    return int(
        db.scalar(
            "INSERT INTO job_runs (job, host, started_at, outcome) VALUES (?, ?, ?, ?) "
            "RETURNING id",
            [name, socket.gethostname()[:100], db.time_param(started), RunOutcome.RUNNING.value],
        )
    )


def _record_end(ws: Workspace, run_id: int, job: Job) -> None:
    db = ws.light(write=True)
    db.execute(
        "UPDATE job_runs SET finished_at = ?, outcome = ?, summary = ? WHERE id = ?",
        [
            db.time_param(ws.now()),
            (RunOutcome.FAILED if job.failed else RunOutcome.OK).value,
            json.dumps(job.summary, default=str),
            run_id,
        ],
    )
