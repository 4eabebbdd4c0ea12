"""The crontab of the recurring jobs: one source for cron/avasam.crontab, `cron show`
and `cron install` (a marked block in the user's crontab, replaced, never duplicated)."""

from __future__ import annotations

import shlex
import subprocess
from dataclasses import dataclass

from avasam_cli.core.errors import AvasamError

BEGIN = "# BEGIN avasam jobs (managed by `avasam cron install`)"
END = "# END avasam jobs"


@dataclass(frozen=True)
class CronJob:
    schedule: str
    command: str
    comment: str


JOBS = [
    CronJob(
        "*/15 * * * *",
        "channels pull --all",
        "Every 15 minutes: pull new and changed orders from every enabled sales channel.",
    ),
    CronJob(
        "7 * * * *",
        "orders match",
        "Hourly: retry linking orders that wait for a SKU link; after the matching "
        "window they become unmatched.",
    ),
    CronJob(
        "*/5 * * * *",
        "orders process",
        "Every 5 minutes: invoice and pay queued orders from the balance, re-check held "
        "ones, pass them to the suppliers.",
    ),
    CronJob(
        "*/5 * * * *",
        "exports run --due",
        "Every 5 minutes: send suppliers their open orders for the exports that are due.",
    ),
    CronJob(
        "*/5 * * * *",
        "imports run --due",
        "Every 5 minutes: fetch and apply the suppliers' dispatch and stock files for the "
        "imports that are due.",
    ),
    CronJob(
        "*/10 * * * *",
        "channels push",
        "Every 10 minutes: tell the sales channels of dispatches (tracking) and cancels.",
    ),
]


def render(avasam: str, database_url: str | None, log_file: str | None) -> str:
    """The block: each job under its comment, run in job mode (quiet unless it fails)."""
    env = []
    if database_url:
        env.append(f"AVASAM_DATABASE_URL={shlex.quote(database_url)}")
    if log_file:
        env.append(f"AVASAM_LOG_FILE={shlex.quote(log_file)}")
    prefix = " ".join(env)
    lines = [BEGIN]
    for job in JOBS:
        lines.append(f"# {job.comment}")
        # The audit trail says which job acted (DESIGN: "the job name under cron").
        actor = f"AVASAM_ACTOR={job_actor(job)}"
        command = f"{shlex.quote(avasam)} --cron {job.command}"
        lines.append(f"{job.schedule} {prefix + ' ' if prefix else ''}{actor} {command}")
    lines.append(END)
    return "\n".join(lines) + "\n"


def job_actor(job: CronJob) -> str:
    """'channels pull --all' -> 'cron/channels-pull'."""
    return "cron/" + "-".join(word for word in job.command.split() if not word.startswith("-"))


def without_block(crontab: str) -> str:
    kept, inside = [], False
    for line in crontab.splitlines():
        if line.strip() == BEGIN:
            inside = True
        elif line.strip() == END and inside:
            inside = False
        elif not inside:
            kept.append(line)
    return "\n".join(kept) + ("\n" if kept else "")


def read_crontab() -> str:
    try:
        done = subprocess.run(["crontab", "-l"], capture_output=True, text=True, check=False)
    except FileNotFoundError:
        raise AvasamError("the crontab command is not installed; install cron") from None
    return done.stdout if done.returncode == 0 else ""


def write_crontab(content: str) -> None:
    done = subprocess.run(
        ["crontab", "-"], input=content, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise AvasamError(f"crontab refused the new table: {done.stderr.strip()}")
