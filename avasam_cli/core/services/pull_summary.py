"""What a pull of one channel did, in counts: its own light module, so an idle pull
(nothing dropped) reports without loading the pull service and SQLAlchemy."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class PullSummary:
    channel: str
    new: int = 0
    updated: int = 0
    skipped: int = 0
    matched: int = 0
    waiting: int = 0
    held: int = 0
    problems: list[str] = field(default_factory=list)
    error: str | None = None

    @property
    def seen(self) -> int:
        return self.new + self.updated + self.skipped
