"""What a channel writer is given and what it answers: one outcome per pending update.

Writers live beside their pullers (shopify.py, woocommerce.py, files.py). Each checks the
channel's own state before it changes anything (the order already fulfilled with this
tracking number, already completed, already cancelled), so an update that was carried out
by a run killed before it could record so is recognised, not repeated.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol

from avasam_cli.core.channels.http import HttpFailure
from avasam_cli.core.errors import RemoteError


@dataclass(frozen=True)
class Update:
    id: int
    kind: str  # UpdateKind: dispatch | cancel
    external_id: str  # the order's id on the channel
    reference: str | None
    tracking_number: str | None
    carrier: str | None
    reason: str | None  # the cancel reason
    # (channel SKU, quantity) of the order's lines: one channel order split between
    # suppliers becomes several of ours, each dispatched with its own tracking number.
    lines: tuple[tuple[str, int], ...] = ()


@dataclass(frozen=True)
class Sent:
    what: str  # what the channel was told (or found already true), for the audit trail
    remote_ref: str | None = None


@dataclass(frozen=True)
class Failed:
    message: str
    transient: bool  # try again on a later run (timeouts, 5xx, 429), else give up now


Outcome = Sent | Failed


class Writer(Protocol):
    def send(self, updates: list[Update]) -> Iterator[tuple[Update, Outcome]]: ...


def failure(exc: RemoteError, refused_hint: str = "") -> Failed:
    """A remote error as an outcome: HTTP failures say whether they may pass; anything
    else the channel said (a refusal, a wrong answer) is permanent. `refused_hint` says
    what access write-back needs, for a 401/403."""
    if isinstance(exc, HttpFailure):
        hint = f"; {refused_hint}" if refused_hint and exc.status in (401, 403) else ""
        return Failed(f"{exc}{hint}", transient=exc.transient)
    return Failed(str(exc), transient=False)
