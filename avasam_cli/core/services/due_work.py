"""Is there anything for a recurring job to do? Asked on the light path (core/lightdb.py)
before the job loads SQLAlchemy and its service: cron runs these every few minutes for
ever, and most runs find nothing (issue 12: an idle job costs well under 0.3 s).

Each question reads one index entry at most; the answer "yes" only means the job goes on
to do its full, locked work, which decides for itself.
"""

from __future__ import annotations

import json

from avasam_cli.core.schedule import is_due, parse_schedule
from avasam_cli.core.statuses import ChannelType, Status, UpdateStatus
from avasam_cli.core.workspace import Workspace


def anything_to_match(ws: Workspace, *, include_unmatched: bool) -> bool:
    statuses = [Status.MATCHING, *([Status.UNMATCHED] if include_unmatched else [])]
    return _any_order_in(ws, statuses)


def anything_to_process(ws: Workspace) -> bool:
    """Orders in the queue, or held ones to check again."""
    return _any_order_in(ws, [Status.QUEUE, Status.HELD])


def _any_order_in(ws: Workspace, statuses: list[Status]) -> bool:
    marks = ", ".join("?" * len(statuses))
    sql = f"SELECT 1 FROM orders WHERE status IN ({marks}) LIMIT 1"
    return ws.light().scalar(sql, [s.value for s in statuses]) is not None


def exports_due(ws: Workspace) -> list[str]:
    """The enabled exports whose schedule has come due, by name."""
    return _due(ws, "export_targets")


def imports_due(ws: Workspace) -> list[str]:
    """The enabled import feeds whose schedule has come due, by name."""
    return _due(ws, "import_feeds")


def _due(ws: Workspace, table: str) -> list[str]:
    db = ws.light()
    now = ws.now()
    rows = db.rows(
        f"SELECT name, schedule, last_run_at, created_at FROM {table} "
        "WHERE enabled = ? AND schedule IS NOT NULL ORDER BY id",
        [True],
    )
    due = []
    for name, schedule, last_run_at, created_at in rows:
        created = db.time_value(created_at) or now  # never NULL: NOT NULL column
        last_run = db.time_value(last_run_at)
        if schedule and is_due(parse_schedule(schedule), last_run, now, ws.timezone, created):
            due.append(name)
    return due


def idle_pull(ws: Workspace, names: list[str]) -> list[str] | None:
    """The channels a pull would read (`names`, or every enabled one), when each is a file
    drop with nothing dropped: the pull would read and write nothing. None when a pull
    has work, must ask an API, or must refuse a name (the pull service says why)."""
    from avasam_cli.core.channels.files import anything_dropped

    rows = ws.light().rows(
        "SELECT name, type, enabled, config FROM channels "
        "WHERE removed_at IS NULL AND type <> 'manual' ORDER BY name"
    )
    known = {name: (kind, on, config) for name, kind, on, config in rows}
    if any(name not in known or not known[name][1] for name in names):
        return None
    chosen = names or [name for name, (_kind, on, _config) in known.items() if on]
    enabled = [(name, known[name][0], known[name][2]) for name in chosen]
    for _name, kind, config in enabled:
        if kind != ChannelType.FILE or anything_dropped(json.loads(config)["path"]):
            return None
    return [name for name, _kind, _config in enabled]


def anything_to_push(ws: Workspace) -> bool:
    """A channel update waiting to be sent (channels push)."""
    sql = (
        "SELECT 1 FROM channel_updates u JOIN channels c ON c.id = u.channel_id "
        f"WHERE u.status = '{UpdateStatus.PENDING}' AND c.enabled = ? "
        "AND c.removed_at IS NULL LIMIT 1"
    )
    return ws.light().scalar(sql, [True]) is not None
