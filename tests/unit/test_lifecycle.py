import pytest

from avasam_cli.core.errors import NotAllowed
from avasam_cli.core.lifecycle import TRANSITIONS, Status, check_transition


def test_legal_moves_name_their_audit_event() -> None:
    assert check_transition("queue", Status.OPEN) == "passed_to_supplier"
    assert check_transition("matching", Status.UNMATCHED) == "match_window_expired"
    assert check_transition("held", Status.QUEUE) == "released"
    assert check_transition("open", Status.DISPATCHED) == "dispatched"


@pytest.mark.parametrize(
    ("current", "target"),
    [
        ("dispatched", Status.CANCELLED),
        ("cancelled", Status.QUEUE),
        ("open", Status.QUEUE),
        ("matching", Status.OPEN),
        ("queue", Status.DISPATCHED),
        ("cancelled", Status.CANCELLED),
    ],
)
def test_illegal_moves_are_refused(current: str, target: Status) -> None:
    with pytest.raises(NotAllowed, match=f"status {current} cannot become {target}"):
        check_transition(current, target)


def test_nothing_leaves_a_final_status() -> None:
    finals = {Status.DISPATCHED, Status.CANCELLED}
    assert [move for move in TRANSITIONS if move[0] in finals] == []


def test_a_deadlocked_unit_of_work_runs_again_then_gives_up() -> None:
    from sqlalchemy.exc import OperationalError

    from avasam_cli.core.db import retry_conflicts

    class Driver(Exception):
        def __init__(self, sqlstate: str) -> None:
            self.sqlstate = sqlstate

    calls: list[int] = []

    def deadlocks_twice() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise OperationalError("UPDATE ...", {}, Driver("40P01"))
        return "done"

    assert retry_conflicts(deadlocks_twice) == "done" and len(calls) == 3
    calls.clear()

    def always() -> str:
        calls.append(1)
        raise OperationalError("UPDATE ...", {}, Driver("40001"))

    with pytest.raises(OperationalError):
        retry_conflicts(always)
    assert len(calls) == 3
    calls.clear()

    def locked() -> str:
        calls.append(1)
        raise OperationalError("UPDATE ...", {}, Driver("55P03"))

    with pytest.raises(OperationalError):
        retry_conflicts(locked)
    assert len(calls) == 1  # not a conflict: no retry
