"""A drop folder handled without ever following a symbolic link in it.

Anyone who can write to a drop folder can plant links; following one would read a file
outside the folder (and echo it into an error file), or move files and write error files
somewhere else. So: files are opened with O_NOFOLLOW and must be regular files; processed/
and rejected/ are opened with O_NOFOLLOW and used through their descriptors (a link there
is refused, never followed); error files are created with O_CREAT|O_EXCL|O_NOFOLLOW.
File names are shown escaped, so a name cannot send control characters to a terminal.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from avasam_cli.core.errors import InvalidInput, printable

SUBFOLDERS = ("processed", "rejected")
_DIRECTORY = os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC


class NotRegular(Exception):
    """A name in the folder that is a link, a folder or a device: left where it is."""


escaped = printable  # a file name fit for a message: the one escaping rule


def check_subfolders(folder: Path) -> None:
    """InvalidInput when processed/ or rejected/ is a link or not a folder."""
    for name in SUBFOLDERS:
        try:
            mode = os.lstat(folder / name).st_mode
        except FileNotFoundError:
            continue
        if not stat.S_ISDIR(mode):
            raise _not_a_folder(folder, name)


def open_regular(path: Path) -> BinaryIO:
    """The file opened for reading, never through a link; NotRegular when it is a link or
    not a regular file (a FIFO does not block: O_NONBLOCK)."""
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
    try:
        fd = os.open(path, flags)
    except OSError:
        if os.path.islink(path):
            raise NotRegular("is a symbolic link") from None
        raise
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise NotRegular("is not a regular file")
    os.set_blocking(fd, True)
    return os.fdopen(fd, "rb")


def refusal(path: Path) -> str | None:
    """Why a name in the folder is not read (a link, or not a regular file), or None."""
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return None
    if stat.S_ISLNK(mode):
        return "is a symbolic link"
    if not stat.S_ISREG(mode):
        return "is not a regular file"
    return None


def move_into(path: Path, subfolder: str, error: str | None = None) -> None:
    """Move the file into `subfolder` of its folder (a stamped name if the name is taken);
    with `error`, write it beside the file as NAME.error. Never through a link."""
    folder = path.parent
    with _directory(folder, None) as parent, _directory(folder, subfolder) as target:
        name = path.name
        if _taken(name, target) or (error is not None and _taken(f"{name}.error", target)):
            stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
            name = f"{path.stem}-{stamp}{path.suffix}"
        os.rename(path.name, name, src_dir_fd=parent, dst_dir_fd=target)
        if error is not None:
            flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
            fd = os.open(f"{name}.error", flags, 0o666, dir_fd=target)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(error)


@contextmanager
def _directory(folder: Path, name: str | None) -> Iterator[int]:
    """A descriptor of the folder (or of its subfolder `name`, made if missing)."""
    if name is None:
        fd = os.open(folder, _DIRECTORY)
    else:
        with suppress(FileExistsError):
            os.mkdir(folder / name)
        try:
            fd = os.open(folder / name, _DIRECTORY | os.O_NOFOLLOW)
        except OSError:
            raise _not_a_folder(folder, name) from None
    try:
        yield fd
    finally:
        os.close(fd)


def _taken(name: str, folder_fd: int) -> bool:
    try:
        os.lstat(name, dir_fd=folder_fd)
    except FileNotFoundError:
        return False
    return True


def _not_a_folder(folder: Path, name: str) -> InvalidInput:
    return InvalidInput(
        f"{folder / name} is a symbolic link or not a folder; avasam never moves files "
        f"through a link: replace it with a real folder (or remove it)"
    )
