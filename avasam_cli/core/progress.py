"""How long work reports how far it has got, without knowing who is watching.

Services take a `Progress` and call `start` once (with the total when they know it) and
`advance` as they go; the command line decides whether that becomes a bar on a terminal or
nothing at all (cron, pipes). The core never writes to a stream itself.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Protocol, TypeVar

T = TypeVar("T")


class Progress(Protocol):
    def start(self, total: int | None) -> None:
        """The work begins; `total` items, or None when it is not known in advance."""

    def advance(self, count: int = 1) -> None:
        """`count` more items are done."""


class Silent:
    """Progress nobody watches."""

    def start(self, total: int | None) -> None:
        pass

    def advance(self, count: int = 1) -> None:
        pass


SILENT = Silent()


def counted(items: Iterable[T], progress: Progress) -> Iterator[T]:
    """`items`, advancing `progress` by one for each as it is consumed."""
    for item in items:
        yield item
        progress.advance()
