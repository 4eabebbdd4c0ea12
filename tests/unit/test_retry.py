"""The one retry helper behind channel APIs (HTTP) and supplier uploads."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from avasam_cli.core.retry import retry


class Flaky:
    """Fails with the given errors in turn, then returns 'done'."""

    def __init__(self, *errors: Exception) -> None:
        self.errors = list(errors)
        self.calls = 0

    def __call__(self) -> str:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return "done"


def transient(exc: Exception) -> bool:
    return isinstance(exc, ConnectionError)


def run(
    action: Callable[[], str],
    attempts: int = 4,
    told_wait: Callable[[Exception, float], float | None] | None = None,
) -> tuple[str, list[float]]:
    """What `retry` returns with a first delay of 1.5 s, and the waits it made."""
    waits: list[float] = []
    result = retry(
        action,
        attempts=attempts,
        first_delay=1.5,
        transient=transient,
        told_wait=told_wait,
        sleep=waits.append,
    )
    return result, waits


def test_success_at_once_never_waits() -> None:
    action = Flaky()
    assert run(action) == ("done", [])
    assert action.calls == 1


def test_transient_failures_wait_doubling_then_succeed() -> None:
    action = Flaky(ConnectionError("a"), ConnectionError("b"), ConnectionError("c"))
    assert run(action) == ("done", [1.5, 3.0, 6.0])
    assert action.calls == 4


def test_the_last_failure_is_raised_as_it_is() -> None:
    action = Flaky(*(ConnectionError(str(n)) for n in range(3)))
    waits: list[float] = []
    with pytest.raises(ConnectionError, match=r"^2$"):
        retry(action, attempts=3, first_delay=1, transient=transient, sleep=waits.append)
    assert (action.calls, waits) == (3, [1, 2])


def test_a_failure_that_is_not_transient_is_raised_at_once() -> None:
    action = Flaky(ConnectionError("a"), ValueError("bad request"))
    waits: list[float] = []
    with pytest.raises(ValueError, match="bad request"):
        retry(action, attempts=5, first_delay=1, transient=transient, sleep=waits.append)
    assert (action.calls, waits) == (2, [1])


def test_a_told_wait_replaces_the_backoff_which_does_not_grow() -> None:
    class Slow(ConnectionError):
        pass

    def told(exc: Exception, delay: float) -> float | None:
        return 30.0 if isinstance(exc, Slow) else None

    action = Flaky(ConnectionError(), Slow(), ConnectionError())
    assert run(action, told_wait=told) == ("done", [1.5, 30.0, 3.0])


def test_one_attempt_means_no_retry() -> None:
    action = Flaky(ConnectionError("once"))
    with pytest.raises(ConnectionError):
        run(action, attempts=1)
    assert action.calls == 1


def test_the_default_sleep_is_time_sleep(monkeypatch: pytest.MonkeyPatch) -> None:
    waits: list[float] = []
    monkeypatch.setattr("time.sleep", waits.append)
    retry(Flaky(ConnectionError()), attempts=2, first_delay=0.25, transient=transient)
    assert waits == [0.25]
