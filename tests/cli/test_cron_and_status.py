"""Cron entries, job locks, quiet job mode, logs and `avasam status`."""

from __future__ import annotations

import os
import re
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from avasam_cli.core.cron import BEGIN, END, JOBS, render
from avasam_cli.core.schedule import parse_schedule
from tests.helpers import add_order, set_up_catalogue
from tests.support import REPO, Cli

AVASAM = str(Path(sys.executable).with_name("avasam"))


def test_the_crontab_file_is_the_rendered_block() -> None:
    text = (REPO / "cron" / "avasam.crontab").read_text()
    assert render("avasam", None, None) in text
    commands = [line for line in text.splitlines() if line and not line.startswith("#")]
    assert [c.split(" avasam ")[1] for c in commands] == [
        "--cron channels pull --all",
        "--cron orders match",
        "--cron orders process",
        "--cron exports run --due",
        "--cron imports run --due",
        "--cron channels push",
    ]
    assert [line.split()[5] for line in commands] == [
        "AVASAM_ACTOR=cron/channels-pull",
        "AVASAM_ACTOR=cron/orders-match",
        "AVASAM_ACTOR=cron/orders-process",
        "AVASAM_ACTOR=cron/exports-run",
        "AVASAM_ACTOR=cron/imports-run",
        "AVASAM_ACTOR=cron/channels-push",
    ]  # the audit trail names the job
    for line in commands:
        parse_schedule(" ".join(line.split()[:5]))  # raises if not a valid schedule
    comments = [
        line
        for line in text.splitlines()
        if line.startswith("# Every") or line.startswith("# Hourly")
    ]
    assert len(comments) == 6


def test_every_job_runs_green_with_crons_bare_environment(
    cli: Cli, db_url: str, tmp_path: Path
) -> None:
    set_up_catalogue(cli, tmp_path)
    log = tmp_path / "jobs.log"
    block = render(AVASAM, db_url, str(log))
    lines = [line for line in block.splitlines() if line and not line.startswith("#")]
    for line in lines:
        command = " ".join(line.split()[5:])
        done = subprocess.run(
            ["/bin/sh", "-c", command],
            env={"PATH": "/usr/bin:/bin"},
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
        )
        assert (done.returncode, done.stdout, done.stderr) == (0, "", ""), command
    entries = log.read_text().splitlines()
    assert [e.split()[1:3] for e in entries] == [
        ["pull", "ok"],
        ["match", "ok"],
        ["process", "ok"],
        ["exports", "ok"],
        ["imports", "ok"],
        ["push", "ok"],
    ]


def test_a_failing_job_under_cron_prints_only_its_errors(
    cli: Cli, db_url: str, tmp_path: Path
) -> None:
    set_up_catalogue(cli, tmp_path)
    cli.ok("channels", "add", "drop", "--type", "file", "--path", str(tmp_path / "missing"))
    run = cli("--cron", "channels", "pull", "--all")
    assert run.exit_code == 1
    assert run.stdout == ""
    assert run.stderr.startswith("Error: drop: drop folder")
    verbose = cli("--cron", "--verbose", "channels", "pull", "--all")
    assert "channel" in verbose.stdout


def test_status_reports_jobs_balance_and_attention(cli: Cli, db_url: str, tmp_path: Path) -> None:
    set_up_catalogue(cli, tmp_path, balance="60")
    clean = cli("status", "-f", "json")
    assert clean.exit_code == 0
    add_order(cli, postcode="HS1 2AB", reference="HELD")
    add_order(cli, item="OAK-TABLE-01", reference="POOR")
    cli("orders", "process")
    cli.ok("tickets", "raise", "HELD", "--message", "?", "--kind", "query")
    run = cli("status", "-f", "json")
    assert run.exit_code == 1
    import json

    report = json.loads(run.stdout)
    assert report["balance"] == "60.00"
    assert report["attention"]["held_by_reason"] == {"excluded_postcode": 1}
    assert report["attention"]["held_orders"] == 1
    assert report["attention"]["failed_exports"] == []
    assert report["attention"]["queued_with_failed_payment"] == 1
    assert report["attention"]["open_tickets"] == 1
    process = next(j for j in report["jobs"] if j["job"] == "process")
    assert process["outcome"] == "ok"
    assert process["counts"] == {"paid": 0, "held": 1, "unpaid": 1}
    table = cli("status").stdout
    assert "paid=0, held=1, unpaid=1" in table
    assert re.search(r"^attention.held_by_reason +excluded_postcode=1$", table, re.M)
    assert next(j for j in report["jobs"] if j["job"] == "pull")["outcome"] == "never run"


def test_status_flags_a_failed_job_and_one_killed_while_running(
    cli: Cli, db_url: str, tmp_path: Path
) -> None:
    import json
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import create_engine, insert

    from avasam_cli.core.models import JobRun

    cli.ok("account", "topup", "10")
    cli.ok("channels", "add", "drop", "--type", "file", "--path", str(tmp_path / "gone"))
    assert cli("channels", "pull", "--all").exit_code == 1  # the drop folder is missing
    run = cli("status", "-f", "json")
    assert run.exit_code == 1
    report = json.loads(run.stdout)
    assert report["attention"]["failed_jobs"] == ["pull"]
    assert report["needs_attention"] is True

    (tmp_path / "gone").mkdir()
    cli.ok("channels", "pull", "--all")
    assert cli("status").exit_code == 0  # the last run went well: nothing to flag

    now = datetime.now(UTC)
    engine = create_engine(db_url)
    with engine.begin() as conn:  # a run killed 7 hours ago, and one started a minute ago
        for job, started in (("process", now - timedelta(hours=7)), ("match", now)):
            conn.execute(
                insert(JobRun).values(job=job, host="h", started_at=started, outcome="running")
            )
    engine.dispose()
    run = cli("status", "-f", "json")
    assert run.exit_code == 1
    report = json.loads(run.stdout)
    assert report["attention"]["stuck_jobs"] == ["process"]
    assert report["attention"]["failed_jobs"] == []
    assert re.search(r"^attention.stuck_jobs +process$", cli("status").stdout, re.M)


HOLD = """
import sys, time
from avasam_cli.core.config import Settings
from avasam_cli.core.workspace import Workspace
from avasam_cli.core.jobs import run_job
ws = Workspace(Settings.resolve(None))
with run_job(ws, sys.argv[1]):
    print("holding", flush=True)
    time.sleep(600)
"""


@pytest.mark.parametrize(
    "job_name,command",
    [("process", ["orders", "process"]), ("pull", ["channels", "pull", "--all"])],
)
def test_a_running_job_is_not_run_twice_and_a_killed_one_blocks_nothing(
    cli: Cli, db_url: str, tmp_path: Path, job_name: str, command: list[str]
) -> None:
    set_up_catalogue(cli, tmp_path)
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, job_name],
        env=dict(os.environ),
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None and holder.stdout.readline() == "holding\n"
    second = subprocess.run(
        [sys.executable, "-m", "avasam_cli", *command],
        env=dict(os.environ),
        capture_output=True,
        text=True,
    )
    assert (second.returncode, second.stderr) == (
        0,
        f"Job {job_name} is already running; skipped.\n",
    )
    under_cron = subprocess.run(
        [sys.executable, "-m", "avasam_cli", "--cron", *command],
        env=dict(os.environ),
        capture_output=True,
        text=True,
    )
    assert (under_cron.returncode, under_cron.stdout, under_cron.stderr) == (0, "", "")
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    time.sleep(0.2) if "postgresql" in db_url else None  # the server notices the dead client
    third = subprocess.run(
        [sys.executable, "-m", "avasam_cli", *command],
        env=dict(os.environ),
        capture_output=True,
        text=True,
    )
    assert third.returncode == 0, third.stderr
    assert "already running" not in third.stderr


def test_cron_install_twice_leaves_one_block_and_uninstall_removes_it(
    cli: Cli, db_url: str, tmp_path: Path
) -> None:
    saved = subprocess.run(["crontab", "-l"], capture_output=True, text=True)
    try:
        subprocess.run(
            ["crontab", "-"], input="# mine\n0 3 * * * /bin/true\n", text=True, check=True
        )
        cli.ok("cron", "install", "--log", str(tmp_path / "jobs.log"))
        cli.ok("cron", "install", "--log", str(tmp_path / "jobs.log"))
        table = subprocess.run(["crontab", "-l"], capture_output=True, text=True, check=True).stdout
        assert table.count(BEGIN) == 1 and table.count(END) == 1
        assert table.startswith("# mine\n0 3 * * * /bin/true\n")
        assert f"AVASAM_DATABASE_URL={shlex.quote(db_url)}" in table
        assert len([line for line in table.splitlines() if "--cron" in line]) == len(JOBS)
        cli.ok("cron", "uninstall")
        table = subprocess.run(["crontab", "-l"], capture_output=True, text=True, check=True).stdout
        assert table == "# mine\n0 3 * * * /bin/true\n"
    finally:
        if saved.returncode == 0:
            subprocess.run(["crontab", "-"], input=saved.stdout, text=True, check=True)
        else:
            subprocess.run(["crontab", "-r"], capture_output=True)


@pytest.mark.parametrize(
    "url",
    ["postgresql+psycopg://u:s3cret@127.0.0.1/x", "postgresql://u@127.0.0.1/x?password=s3cret"],
)
def test_a_password_in_the_url_is_not_written_into_the_crontab(cli: Cli, url: str) -> None:
    run = cli("--db", url, "cron", "show")
    assert run.exit_code == 1
    assert "s3cret" not in run.stderr + run.stdout
    assert run.stderr.startswith("Error: the database URL holds a password")


def test_cron_show_creates_nothing_and_the_job_log_is_owner_only(
    cli: Cli, db_url: str, tmp_path: Path
) -> None:
    import stat

    state = tmp_path / "state"  # XDG_STATE_HOME (conftest)
    shown = cli.ok("cron", "show").stdout
    assert str(state / "avasam" / "jobs.log") in shown
    assert not (state / "avasam").exists()
    log = state / "avasam" / "jobs.log"
    cli.ok("--log-file", str(log), "orders", "process")
    assert stat.S_IMODE(log.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(log.stat().st_mode) == 0o600
    assert " process ok " in log.read_text()
