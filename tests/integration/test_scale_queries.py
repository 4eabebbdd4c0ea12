"""`avasam status` must not read a million orders or audit events row by row: each of its
statements is planned on a few thousand ANALYZEd rows (the planner's view of a big table)
and its plan must not scan a big table where an index serves.

SQLite: EXPLAIN QUERY PLAN; a `SCAN` of a big table (or of a whole index on it) fails,
unless it is one of the small partial indexes below. PostgreSQL: EXPLAIN with sequential
scans priced out (`enable_seqscan = off`: on a few thousand rows a sequential scan would
win anyway), so a `Seq Scan` left in the plan means no index serves the query.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, insert, text

from avasam_cli.core.config import Settings
from avasam_cli.core.lightdb import LightDB
from avasam_cli.core.models import JobRun, Order, OrderEvent, SourceOrder, table
from avasam_cli.core.services.status import workspace_status
from avasam_cli.core.workspace import Workspace

BIG = ("orders", "order_lines", "order_events", "job_runs", "export_runs")
# Indexes that hold only the rows in flight (`... WHERE status = 'held'`): scanning one
# whole is reading what the count is about, never the history.
PARTIAL = (
    "ix_order_events_change_ignored",
    "ix_orders_open_paid_at",
    "ix_orders_held_reason",
    "ix_orders_payment_error",
)
STATUSES = ["dispatched"] * 14 + ["open", "open", "cancelled", "queue", "held", "unmatched"]
NOW = datetime(2026, 11, 28, 12, tzinfo=UTC)


def _fill(engine: Engine, orders: int = 4000) -> None:
    """`orders` orders, mostly dispatched as in a real workspace, an audit event each, and
    job runs every five minutes; then ANALYZE."""
    with engine.begin() as conn:
        conn.execute(
            insert(table(SourceOrder)),
            [
                {"id": n, "channel_id": 1, "external_id": f"S{n}", "downloaded_at": NOW}
                for n in range(1, orders + 1)
            ],
        )
        rows = []
        for n in range(1, orders + 1):
            status = STATUSES[n % len(STATUSES)]
            paid = status in ("dispatched", "open", "cancelled")
            placed = NOW - timedelta(minutes=n)
            rows.append(
                {
                    "id": n,
                    "source_order_id": n,
                    "channel_id": 1,
                    "number": f"AV{n:07d}" if paid else None,
                    "status": status,
                    "payment_status": "paid" if paid else "unpaid",
                    "shipping_status": "shipped" if status == "dispatched" else "unshipped",
                    "hold_reason": "out_of_stock" if status == "held" else None,
                    "payment_error": "declined" if status == "queue" and n % 3 == 0 else None,
                    "placed_at": placed,
                    "downloaded_at": placed,
                    "paid_at": placed if paid else None,
                    "name": "Ann Lee",
                    "address1": "1 High Street",
                    "city": "London",
                    "postcode": "SW1A 1AA",
                    "country": "GB",
                    "updated_at": placed,
                }
            )
        conn.execute(insert(table(Order)), rows)
        conn.execute(
            insert(table(OrderEvent)),
            [
                {
                    "order_id": n,
                    "at": NOW,
                    "actor": "test",
                    "event": "channel_change_ignored" if n % 500 == 0 else "created",
                }
                for n in range(1, orders + 1)
            ],
        )
        conn.execute(
            insert(table(JobRun)),
            [
                {
                    "job": job,
                    "host": "h",
                    "started_at": NOW - timedelta(minutes=5 * n),
                    "outcome": "ok",
                }
                for n in range(1, 1001)
                for job in ("pull", "exports")
            ],
        )
    with engine.begin() as conn:
        conn.execute(text("ANALYZE"))


def _statements(ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, Any]]:
    """Run `status`, and give back each statement it sent with its parameters."""
    sent: list[tuple[str, Any]] = []
    execute = LightDB._execute

    def record(db: LightDB, sql: str, params: Any) -> Any:
        sent.append((sql, params))
        return execute(db, sql, params)

    monkeypatch.setattr(LightDB, "_execute", record)
    report = workspace_status(ws, stale_days=3)
    monkeypatch.undo()
    assert report["attention"]["held_orders"] == 200
    assert report["attention"]["channel_changes_not_applied"] == 8
    assert report["jobs"][0]["last_run"] == NOW - timedelta(minutes=5)
    return [(sql, params) for sql, params in sent if "alembic_version" not in sql]


def _sqlite_violations(db: LightDB, statement: str, parameters: Any) -> list[str]:
    plan = [row[-1] for row in db.rows(f"EXPLAIN QUERY PLAN {statement}", parameters)]
    bad = []
    for step in plan:
        found = re.match(r"SCAN (\w+)(?: USING (?:COVERING )?INDEX (\w+))?", step)
        if found and found.group(1) in BIG and found.group(2) not in PARTIAL:
            bad.append(f"{step} <-  {statement}")
    return bad


def _postgres_violations(db: LightDB, statement: str, parameters: Any) -> list[str]:
    db.rows("SELECT set_config('enable_seqscan', 'off', false)")
    [[plan]] = db.rows(f"EXPLAIN (FORMAT JSON) {statement}", parameters)
    bad = []
    for node in _nodes(plan[0]["Plan"]):
        relation, index = node.get("Relation Name"), node.get("Index Name")
        whole = node["Node Type"] == "Seq Scan" or (
            index is not None and "Index Cond" not in node and index not in PARTIAL
        )
        if relation in BIG and whole:
            bad.append(f"{node['Node Type']} on {relation} {index or ''} <-  {statement}")
    return bad


def _nodes(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield node
    for child in node.get("Plans", []):
        yield from _nodes(child)


def test_status_reads_no_big_table_row_by_row(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    engine = create_engine(db_url)
    _fill(engine)
    engine.dispose()
    ws = Workspace(Settings.resolve(db_url, {"AVASAM_NOW": NOW.isoformat()}))
    try:
        statements = _statements(ws, monkeypatch)
        db = ws.light()
        check = _sqlite_violations if db.dialect == "sqlite" else _postgres_violations
        bad = [v for statement, params in statements for v in check(db, statement, params)]
    finally:
        ws.close()
    assert not bad, "\n".join(bad)
