"""The current time. `AVASAM_NOW` (ISO 8601 with offset) pins it, for tests and demos."""

from __future__ import annotations

import os
from datetime import UTC, datetime

from avasam_cli.core.errors import InvalidInput


def utcnow() -> datetime:
    pinned = os.environ.get("AVASAM_NOW")
    if not pinned:
        return datetime.now(UTC)
    try:
        value = datetime.fromisoformat(pinned)
    except ValueError:
        raise InvalidInput(f"AVASAM_NOW {pinned!r} is not an ISO 8601 time") from None
    if value.tzinfo is None:
        raise InvalidInput("AVASAM_NOW needs an offset, e.g. 2026-11-28T12:00:00+00:00")
    return value.astimezone(UTC)
