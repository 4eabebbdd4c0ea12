"""`file` exports and feeds: a local or mounted folder, with the same write-then-rename."""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path

from avasam_cli.core.transports import (
    RemoteFile,
    Target,
    TransferError,
    free_name,
    temporary_name,
)


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

    def listing(self) -> list[RemoteFile]:
        try:
            entries = list(os.scandir(self.folder))
        except OSError as exc:
            raise TransferError(
                f"cannot list {self.folder}: {exc.strerror}", transient=True
            ) from None
        files = []
        for entry in entries:
            try:
                info = entry.stat(follow_symlinks=False)
            except OSError:  # gone since the listing: the next run sees it or not
                continue
            if stat.S_ISREG(info.st_mode):
                files.append(RemoteFile(entry.name, info.st_size, int(info.st_mtime)))
        return files

    def download(self, name: str, local: Path) -> int:
        try:
            with (self.folder / name).open("rb") as source, local.open("wb") as out:
                shutil.copyfileobj(source, out, 1 << 20)
            return local.stat().st_size
        except (PermissionError, FileNotFoundError, IsADirectoryError) as exc:
            # no retry makes it readable: the file is reported, the others go on
            raise TransferError(f"cannot read {name}: {exc.strerror}", transient=False) from None
        except OSError as exc:
            raise TransferError(f"cannot read {name}: {exc.strerror}", transient=True) from None

    def move(self, name: str, folder: str) -> str:
        into = self.folder / folder
        try:
            into.mkdir(exist_ok=True)
            moved = into / free_name(name, lambda n: os.path.lexists(into / n))
            os.rename(self.folder / name, moved)
        except OSError as exc:
            raise TransferError(
                f"cannot move {name} into {into}: {exc.strerror}", transient=True
            ) from None
        return str(moved)

    def delete(self, name: str) -> None:
        try:
            (self.folder / name).unlink()
        except OSError as exc:
            raise TransferError(f"cannot delete {name}: {exc.strerror}", transient=True) from None

    def close(self) -> None:
        pass
