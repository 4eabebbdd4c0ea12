"""`file` exports: a local or mounted folder, with the same write-then-rename."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from avasam_cli.core.transports import Target, TransferError, temporary_name


class LocalFolder:
    def __init__(self, target: Target) -> None:
        self.folder = Path(target.remote_dir)

    def connect(self) -> list[str]:
        if not self.folder.is_dir():
            raise TransferError(f"folder {self.folder} does not exist", transient=False)
        return [f"folder {self.folder} exists"]

    def check_writable(self) -> None:
        probe = self.folder / temporary_name("avasam-probe")
        try:
            probe.write_bytes(b"probe")
            probe.unlink()
        except OSError as exc:
            raise TransferError(
                f"cannot write in {self.folder}: {exc.strerror}", transient=False
            ) from None

    def upload(self, local: Path, name: str) -> int:
        temporary = self.folder / temporary_name(name)
        try:
            with local.open("rb") as source, temporary.open("wb") as out:
                shutil.copyfileobj(source, out, 1 << 20)
                out.flush()
                os.fsync(out.fileno())
            size = temporary.stat().st_size
            if size != local.stat().st_size:
                raise TransferError(
                    f"{name}: wrote {size} bytes of {local.stat().st_size}", transient=True
                )
            os.replace(temporary, self.folder / name)
            return size
        except OSError as exc:
            temporary.unlink(missing_ok=True)
            raise TransferError(
                f"cannot write {name} in {self.folder}: {exc.strerror}", transient=False
            ) from None

    def close(self) -> None:
        pass
