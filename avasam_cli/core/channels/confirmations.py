"""Write-back for file channels: one confirmations CSV per push run, for the shop's own
importer: `order_id, status, carrier, tracking_number, at`.

Written under a temporary name in the same folder, flushed to disk, then renamed: the
file never exists half-written under its final name. The rename happens before the push
records the updates as sent, so a run killed in between writes those rows again in the
next file: the shop's importer should ignore an order_id + status + tracking_number it has
already applied (README).
"""

from __future__ import annotations

import csv
import os
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path

from avasam_cli.core.channels.writeback import Failed, Outcome, Sent, Update
from avasam_cli.core.csvsafe import csv_safe

COLUMNS = ["order_id", "status", "carrier", "tracking_number", "at"]


class Confirmations:
    def __init__(self, folder: str, now: Callable[[], datetime]) -> None:
        self.folder = Path(folder)
        self.now = now

    def send(self, updates: list[Update]) -> Iterator[tuple[Update, Outcome]]:
        if not updates:
            return
        at = self.now()
        name = f"confirmations-{at:%Y%m%dT%H%M%S}Z-{updates[0].id}.csv"
        try:
            self._write(name, updates, at)
        except OSError as exc:
            failed = Failed(f"cannot write {self.folder / name}: {exc.strerror}", True)
            for update in updates:
                yield update, failed
            return
        for update in updates:
            yield update, Sent(f"written to {name}", name)

    def _write(self, name: str, updates: list[Update], at: datetime) -> None:
        self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        temporary = self.folder / f".{name}.part"
        with open(temporary, "w", newline="", encoding="utf-8") as out:
            writer = csv.writer(out)
            writer.writerow(COLUMNS)
            for update in updates:
                status = "cancelled" if update.kind == "cancel" else "dispatched"
                writer.writerow(
                    [
                        csv_safe(update.external_id),
                        status,
                        csv_safe(update.carrier or ""),
                        csv_safe(update.tracking_number or ""),
                        at.isoformat(),
                    ]
                )
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, self.folder / name)
