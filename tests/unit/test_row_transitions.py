"""The lifecycle's row-level transitions, used by the bulk writers (intake, matching)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from avasam_cli.core.errors import NotAllowed
from avasam_cli.core.lifecycle import Status, move_row

AT = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)


def test_a_move_sets_the_row_and_returns_its_audit_event() -> None:
    row: dict[str, Any] = {"id": 7, "status": "matching", "supplier_id": 3}
    event = move_row(row, Status.QUEUE, actor="cron", at=AT, details={"lines": 2, "x": None})
    assert row == {"id": 7, "status": Status.QUEUE, "supplier_id": 3, "updated_at": AT}
    assert event == {
        "order_id": 7,
        "at": AT,
        "actor": "cron",
        "event": "matched",
        "from_status": "matching",
        "to_status": Status.QUEUE,
        "details": json.dumps({"lines": 2}),
    }


def test_moves_chain_from_the_status_the_row_holds() -> None:
    row: dict[str, Any] = {"id": 1, "status": Status.MATCHING}
    events = [move_row(row, target, actor="a", at=AT) for target in (Status.QUEUE, Status.HELD)]
    assert [(e["event"], e["from_status"], e["to_status"]) for e in events] == [
        ("matched", Status.MATCHING, Status.QUEUE),
        ("held", Status.QUEUE, Status.HELD),
    ]
    assert row["status"] == Status.HELD


@pytest.mark.parametrize(
    ("current", "target"),
    [
        ("dispatched", Status.CANCELLED),
        ("matching", Status.OPEN),
        ("cancelled", Status.QUEUE),
        ("held", Status.UNMATCHED),
    ],
)
def test_an_illegal_move_is_refused_and_leaves_the_row_alone(current: str, target: Status) -> None:
    row: dict[str, Any] = {"id": 1, "status": current}
    with pytest.raises(NotAllowed, match=f"status {current} cannot become {target}"):
        move_row(row, target, actor="a", at=AT)
    assert row == {"id": 1, "status": current}


def test_a_row_without_a_status_starts_a_new_order() -> None:
    row: dict[str, Any] = {"supplier_id": 2}
    created = move_row(row, Status.QUEUE, actor="a", at=AT, details={"lines": 1})
    held = move_row(row, Status.HELD, actor="a", at=AT)
    assert (created["order_id"], held["order_id"]) == (None, None)
    assert (created["event"], created["from_status"], created["to_status"]) == (
        "created",
        None,
        Status.QUEUE,
    )
    assert row == {"supplier_id": 2, "status": Status.HELD, "updated_at": AT}


@pytest.mark.parametrize(
    "status", [Status.HELD, Status.OPEN, Status.DISPATCHED, Status.CANCELLED, Status.UNMATCHED]
)
def test_an_order_starts_only_in_matching_or_queue(status: Status) -> None:
    with pytest.raises(NotAllowed, match=f"cannot start in status {status}"):
        move_row({}, status, actor="a", at=AT)
