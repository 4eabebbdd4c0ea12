"""Trying a remote step again after a failure that may pass: one backoff for channel APIs
(HTTP) and supplier uploads (FTP, FTPS, SFTP).

The wait starts at `first_delay` seconds (the settings' AVASAM_HTTP_BACKOFF or
AVASAM_EXPORT_BACKOFF) and doubles after each wait; a server that says how long to wait
(HTTP 429 with Retry-After) is waited for instead, and the backoff does not grow.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def retry(
    action: Callable[[], T],
    *,
    attempts: int,
    first_delay: float,
    transient: Callable[[Exception], bool],
    told_wait: Callable[[Exception, float], float | None] | None = None,
    sleep: Callable[[float], None] | None = None,
) -> T:
    """What `action` returns, calling it up to `attempts` times. A failure `transient`
    accepts is followed by a wait and another try; the last failure, and any other, is
    raised as it is. `told_wait(error, delay)` may name the wait instead of the backoff
    `delay`; `sleep` defaults to time.sleep."""
    pause = sleep or time.sleep
    delay = first_delay
    for attempt in range(1, attempts + 1):
        try:
            return action()
        except Exception as exc:
            if attempt == attempts or not transient(exc):
                raise
            told = told_wait(exc, delay) if told_wait else None
            if told is None:
                pause(delay)
                delay *= 2
            else:
                pause(told)
    raise ValueError(f"attempts must be 1 or more, not {attempts}")
