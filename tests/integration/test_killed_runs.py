"""A run killed mid-way does not linger: the next run of the job holds its lock, so it knows
the old run is dead, marks it killed and goes on (no 15-minute wait for an export)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import create_engine, insert, select, update

from avasam_cli.core.models import ExportRun, ExportTarget, JobRun
from tests.helpers import add_order, set_up_catalogue
from tests.support import Cli


def test_a_killed_job_run_is_marked_killed_by_the_next_run(cli: Cli, db_url: str) -> None:
    engine = create_engine(db_url)
    with engine.begin() as conn:  # what a run killed by SIGKILL leaves behind
        conn.execute(
            insert(JobRun).values(
                job="process", host="h", outcome="running", started_at=datetime.now(UTC)
            )
        )
    cli.ok("orders", "process")
    with engine.connect() as conn:
        outcomes = list(
            conn.scalars(select(JobRun.outcome).where(JobRun.job == "process").order_by(JobRun.id))
        )
    engine.dispose()
    assert outcomes == ["killed", "ok"]
    assert cli("status", "-f", "json").exit_code == 0


def test_a_killed_export_run_does_not_keep_its_claim(cli: Cli, db_url: str, tmp_path: Path) -> None:
    set_up_catalogue(cli, tmp_path)
    add_order(cli, reference="R1")
    out = tmp_path / "out"
    out.mkdir()
    cli.ok(
        "exports",
        "add",
        "oak",
        "--supplier",
        "OAKCO",
        "--protocol",
        "file",
        "--remote-dir",
        str(out),
    )
    engine = create_engine(db_url)
    now = datetime.now(UTC)
    with engine.begin() as conn:  # a run killed a minute ago, mid-upload
        export_id = conn.scalar(select(ExportTarget.id).where(ExportTarget.name == "oak"))
        conn.execute(
            update(ExportTarget).where(ExportTarget.id == export_id).values(running_since=now)
        )
        conn.execute(
            insert(ExportRun).values(
                export_id=export_id, started_at=now, outcome="running", order_count=0, bytes=0
            )
        )
    run = json.loads(cli.ok("exports", "run", "oak", "-f", "json").stdout)[0]
    assert run["outcome"] == "ok" and run["orders"] == 1
    with engine.connect() as conn:
        outcomes = list(conn.scalars(select(ExportRun.outcome).order_by(ExportRun.id)))
    engine.dispose()
    assert outcomes == ["killed", "ok"]
