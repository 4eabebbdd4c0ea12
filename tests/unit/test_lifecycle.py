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
