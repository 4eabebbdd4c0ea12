"""`avasam status`: the jobs' last runs, the balance, and what needs attention."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from sqlalchemy import and_, exists, func, select

from avasam_cli.core.jobs import JOBS
from avasam_cli.core.lifecycle import CHANGE_IGNORED, Payment, Status
from avasam_cli.core.models import (
    Account,
    ExportRun,
    ExportTarget,
    JobRun,
    Order,
    OrderEvent,
    Ticket,
)
from avasam_cli.core.money import format_pence
from avasam_cli.core.statuses import RunOutcome, TicketStatus
from avasam_cli.core.workspace import Workspace

# A job run still `running` after this long was killed or hung: no job holds its lock for
# longer (a pull, a processing queue or an export of a busy day takes minutes).
LONGEST_JOB_RUN = timedelta(hours=6)


def workspace_status(ws: Workspace, stale_days: int) -> dict[str, Any]:
    """Counts are numbers, lists are lists: `status --format json` is for monitors. Open
    orders paid more than `stale_days` ago and not dispatched count as stale."""
    now = ws.now()
    with ws.uow(read_only=True) as uow:
        session = uow.session

        def count(*conditions: Any) -> int:
            return int(
                session.scalar(select(func.count()).select_from(Order).where(*conditions)) or 0
            )

        jobs = []
        failed_jobs, stuck_jobs = [], []
        for name in JOBS:
            run = session.scalars(
                select(JobRun).where(JobRun.job == name).order_by(JobRun.id.desc()).limit(1)
            ).first()
            if run is not None and run.outcome == RunOutcome.FAILED:
                failed_jobs.append(name)
            elif (
                run is not None
                and run.outcome == RunOutcome.RUNNING
                and run.started_at < now - LONGEST_JOB_RUN
            ):
                stuck_jobs.append(name)  # killed, or hung: either way nobody is running it
            jobs.append(
                {
                    "job": name,
                    "last_run": run.started_at if run else None,
                    "outcome": run.outcome if run else "never run",
                    "counts": json.loads(run.summary) if run and run.summary else {},
                }
            )
        held = {
            reason: n
            for reason, n in session.execute(
                select(Order.hold_reason, func.count())
                .where(Order.status == Status.HELD)
                .group_by(Order.hold_reason)
                .order_by(Order.hold_reason)
            )
        }
        failed_exports = []
        for export in session.scalars(
            select(ExportTarget).where(ExportTarget.enabled.is_(True)).order_by(ExportTarget.name)
        ):
            last = session.scalars(
                select(ExportRun)
                .where(ExportRun.export_id == export.id, ExportRun.outcome != RunOutcome.DRY_RUN)
                .order_by(ExportRun.id.desc())
                .limit(1)
            ).first()
            if last is not None and last.outcome == RunOutcome.FAILED:
                failed_exports.append(export.name)
        attention = {
            "unmatched_orders": count(Order.status == Status.UNMATCHED),
            "held_orders": sum(held.values()),
            "held_by_reason": held,
            "queued_with_failed_payment": count(
                Order.status == Status.QUEUE, Order.payment_error.is_not(None)
            ),
            "failed_exports": failed_exports,
            "failed_jobs": failed_jobs,
            "stuck_jobs": stuck_jobs,
            "open_tickets": int(
                session.scalar(
                    select(func.count())
                    .select_from(Ticket)
                    .where(Ticket.status == TicketStatus.OPEN)
                )
                or 0
            ),
            "channel_changes_not_applied": _changes_not_applied(session),
            "stale_open_orders": count(
                Order.status == Status.OPEN,
                Order.payment_status == Payment.PAID,
                Order.paid_at < now - timedelta(days=stale_days),
            ),
        }
        balance = session.get_one(Account, 1).balance_pence
    needs = any(v for k, v in attention.items() if k != "held_by_reason")
    return {
        "balance": format_pence(balance),
        "currency": "GBP",
        "stale_days": stale_days,
        "jobs": jobs,
        "attention": attention,
        "needs_attention": needs,
    }


def _changes_not_applied(session: Any) -> int:
    """Orders with a channel change that was not applied (a `channel_change_ignored` audit
    event: the order had gone to the supplier, or lines were added or removed) and no
    ticket raised for the order since that event. Raising a ticket is how the seller takes
    it up with the supplier, so it clears the item; no column is needed."""
    ticket_since = exists().where(
        and_(Ticket.order_id == OrderEvent.order_id, Ticket.created_at >= OrderEvent.at)
    )
    return int(
        session.scalar(
            select(func.count(func.distinct(OrderEvent.order_id))).where(
                OrderEvent.event == CHANGE_IGNORED, ~ticket_since
            )
        )
        or 0
    )
