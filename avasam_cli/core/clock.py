"""The current time: the real clock, unless AVASAM_NOW pinned it (read in core/config.py)."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow(pinned: datetime | None = None) -> datetime:
    return pinned if pinned is not None else datetime.now(UTC)
