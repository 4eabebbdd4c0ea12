"""`avasam status`: the jobs' last runs, the balance, and what needs attention.

Monitors run it every few minutes against a million orders, so it takes the light read
path (core/lightdb.py: the driver alone, no SQLAlchemy) and every count reads an index,
never the orders or their audit trail row by row. The fixed values (statuses, the event
name) are written into the SQL, not bound: a partial index (`... WHERE status = 'held'`)
serves a query only when the query repeats that literal.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from avasam_cli.core.lightdb import LightDB
from avasam_cli.core.money import format_pence
from avasam_cli.core.statuses import (
    CHANGE_IGNORED,
    JOBS,
    FileOutcome,
    Payment,
    RunOutcome,
    Status,
    TicketStatus,
    UpdateStatus,
)
from avasam_cli.core.workspace import Workspace

# A job run still `running` after this long was killed or hung: no job holds its lock for
# longer (a pull, a processing queue or an export of a busy day takes minutes).
LONGEST_JOB_RUN = timedelta(hours=6)

# The job's latest run, read backwards along ix_job_runs_job_started: a cron job leaves a
# hundred thousand runs a year. Runs started at the same moment go by id.
LAST_RUN = (
    "SELECT started_at, outcome, summary FROM job_runs WHERE job = ? "
    "ORDER BY started_at DESC, id DESC LIMIT 1"
)
# The outcome of an export's latest run that was not a rehearsal.
LAST_EXPORT_OUTCOME = (
    "SELECT outcome FROM export_runs WHERE export_id = ? "
    f"AND outcome <> '{RunOutcome.DRY_RUN}' ORDER BY started_at DESC, id DESC LIMIT 1"
)
HELD_BY_REASON = (
    f"SELECT hold_reason, count(*) FROM orders WHERE status = '{Status.HELD}' "
    "GROUP BY hold_reason ORDER BY hold_reason"
)
UNMATCHED = f"SELECT count(*) FROM orders WHERE status = '{Status.UNMATCHED}'"
FAILED_PAYMENT = (
    f"SELECT count(*) FROM orders WHERE status = '{Status.QUEUE}' AND payment_error IS NOT NULL"
)
OPEN_TICKETS = f"SELECT count(*) FROM tickets WHERE status = '{TicketStatus.OPEN}'"
# Orders with a channel change that was not applied (a `channel_change_ignored` audit
# event: the order had gone to the supplier, or lines were added or removed) and no ticket
# raised for the order since that event. Raising a ticket is how the seller takes it up
# with the supplier, so it clears the item; no column is needed.
CHANGES_NOT_APPLIED = (
    "SELECT count(DISTINCT order_events.order_id) FROM order_events "
    f"WHERE order_events.event = '{CHANGE_IGNORED}' AND NOT EXISTS (SELECT 1 FROM tickets "
    "WHERE tickets.order_id = order_events.order_id AND tickets.created_at >= order_events.at)"
)
STALE = (
    f"SELECT count(*) FROM orders WHERE status = '{Status.OPEN}' "
    f"AND payment_status = '{Payment.PAID}' AND paid_at < ?"
)
# Feeds whose last run failed (they clear at their next good run), and the files feeds
# rejected in the last day (the supplier must send them again).
FAILED_IMPORTS = (
    "SELECT name FROM import_feeds WHERE enabled = ? AND last_error IS NOT NULL ORDER BY name"
)
REJECTED_FILES = (
    f"SELECT count(*) FROM import_files WHERE outcome = '{FileOutcome.REJECTED}' "
    "AND applied_at >= ?"
)
# Rows of the last day's files that could not apply (an order the supplier confirmed that
# we do not know, a product it does not have): `imports history NAME --file ID` lists them.
IMPORT_ROW_PROBLEMS = "SELECT sum(problems) FROM import_files WHERE applied_at >= ?"
ENABLED_EXPORTS = "SELECT id, name FROM export_targets WHERE enabled = ? ORDER BY name"
BALANCE = "SELECT balance_pence FROM accounts WHERE id = 1"
# The write-back outbox (channels push): updates not sent yet, and the channels with one
# that has been failing for longer than ALARM_AFTER (pending or given up).
UNSENT_UPDATES = (
    "SELECT status, count(*) FROM channel_updates "
    f"WHERE status IN ('{UpdateStatus.PENDING}', '{UpdateStatus.FAILED}') GROUP BY status"
)
FAILING_CHANNELS = (
    "SELECT DISTINCT c.name FROM channel_updates u JOIN channels c ON c.id = u.channel_id "
    f"WHERE u.status IN ('{UpdateStatus.PENDING}', '{UpdateStatus.FAILED}') "
    "AND u.first_failed_at < ? ORDER BY c.name"
)
ALARM_AFTER = timedelta(hours=1)


def workspace_status(ws: Workspace, stale_days: int) -> dict[str, Any]:
    """Counts are numbers, lists are lists: `status --format json` is for monitors. Open
    orders paid more than `stale_days` ago and not dispatched count as stale."""
    now = ws.now()
    db = ws.light()
    jobs = []
    failed_jobs, stuck_jobs = [], []
    for name in JOBS:
        found = db.rows(LAST_RUN, (name,))
        started, outcome, summary = found[0] if found else (None, None, None)
        started = db.time_value(started)
        if outcome == RunOutcome.FAILED:
            failed_jobs.append(name)
        elif outcome == RunOutcome.RUNNING and started and started < now - LONGEST_JOB_RUN:
            stuck_jobs.append(name)  # killed, or hung: either way nobody is running it
        jobs.append(
            {
                "job": name,
                "last_run": started,
                "outcome": outcome if found else "never run",
                "counts": json.loads(summary) if summary else {},
            }
        )
    held = {reason: int(n) for reason, n in db.rows(HELD_BY_REASON)}
    failed_exports = [
        name
        for export_id, name in db.rows(ENABLED_EXPORTS, (True,))
        if db.scalar(LAST_EXPORT_OUTCOME, (export_id,)) == RunOutcome.FAILED
    ]
    attention = {
        "unmatched_orders": _count(db, UNMATCHED),
        "held_orders": sum(held.values()),
        "held_by_reason": held,
        "queued_with_failed_payment": _count(db, FAILED_PAYMENT),
        "failed_exports": failed_exports,
        "failed_imports": [name for (name,) in db.rows(FAILED_IMPORTS, (True,))],
        "rejected_import_files": _count(
            db, REJECTED_FILES, (db.time_param(now - timedelta(days=1)),)
        ),
        "import_rows_not_applied": _count(
            db, IMPORT_ROW_PROBLEMS, (db.time_param(now - timedelta(days=1)),)
        ),
        "failed_jobs": failed_jobs,
        "stuck_jobs": stuck_jobs,
        "open_tickets": _count(db, OPEN_TICKETS),
        "channel_changes_not_applied": _count(db, CHANGES_NOT_APPLIED),
        "stale_open_orders": _count(db, STALE, (db.time_param(now - timedelta(days=stale_days)),)),
        "channels_failing_updates": [
            name for (name,) in db.rows(FAILING_CHANNELS, (db.time_param(now - ALARM_AFTER),))
        ],
    }
    unsent = {state: int(n) for state, n in db.rows(UNSENT_UPDATES)}
    balance = int(db.scalar(BALANCE) or 0)
    needs = any(v for k, v in attention.items() if k != "held_by_reason")
    return {
        "balance": format_pence(balance),
        "currency": "GBP",
        "stale_days": stale_days,
        "jobs": jobs,
        "channel_updates": {
            "pending": unsent.get(UpdateStatus.PENDING, 0),
            "failed": unsent.get(UpdateStatus.FAILED, 0),
        },
        "attention": attention,
        "needs_attention": needs,
    }


def _count(db: LightDB, sql: str, params: tuple[Any, ...] = ()) -> int:
    return int(db.scalar(sql, params) or 0)
