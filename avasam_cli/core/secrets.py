"""Channel and export secrets come from environment variables (read through the settings
module) or owner-only files, never the database."""

from __future__ import annotations

import re
import stat
from pathlib import Path

from avasam_cli.core.config import env_secret
from avasam_cli.core.errors import InvalidInput

_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def check_env_name(name: str, flag: str, secret: str) -> None:
    """Refuse a value that is not a variable name: most likely the secret itself."""
    if not _ENV_NAME.match(name):
        raise InvalidInput(
            f"{flag}: {name!r} is not an environment variable name; pass the "
            f"variable's name, not the {secret}"
        )


def read_secret(env: str | None, path: str | None, what: str) -> str:
    if env:
        value = env_secret(env)
        if not value:
            raise InvalidInput(f"{what}: environment variable {env} is not set")
        return value
    if path:
        return _from_file(Path(path), what)
    raise InvalidInput(f"{what}: no environment variable or file is configured")


def check_secret_file(path: str, what: str) -> None:
    _from_file(Path(path), what)


def _from_file(path: Path, what: str) -> str:
    try:
        mode = path.stat().st_mode
    except OSError:
        raise InvalidInput(f"{what}: cannot read {path}") from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise InvalidInput(f"{what}: {path} can be read by others; run `chmod 600 {path}`")
    value = path.read_text(encoding="utf-8").strip()
    if not value:
        raise InvalidInput(f"{what}: {path} is empty")
    return value
