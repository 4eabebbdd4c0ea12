"""Channel and export secrets come from environment variables (read through the settings
module) or owner-only files, never the database."""

from __future__ import annotations

import re
import stat
from pathlib import Path

from avasam_cli.core.config import env_secret
from avasam_cli.core.errors import InvalidInput

_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


# Prefixes of real credentials: Shopify access tokens, WooCommerce consumer keys/secrets.
_TOKEN_PREFIXES = ("shpat_", "shpca_", "shppa_", "shpss_", "ck_", "cs_")


def check_env_name(name: str, flag: str, secret: str) -> None:
    """Refuse a value that is not a variable name, or one that looks like the secret itself
    (avasam stores what is given here, so a secret must never be accepted)."""
    if not _ENV_NAME.match(name):
        raise InvalidInput(
            f"{flag}: {name!r} is not an environment variable name; pass the "
            f"variable's name, not the {secret}"
        )
    if _looks_like_a_secret(name):
        raise InvalidInput(
            f"{flag}: that looks like the {secret} itself, not the name of a variable; "
            f"put it in a variable (export SHOP_TOKEN=...) and pass {flag} SHOP_TOKEN"
        )
    if env_secret(name) is None:  # a name we cannot see may well be the secret itself
        raise InvalidInput(  # without the name: it may be the secret itself
            f"{flag}: no environment variable of that name is set here; export it first "
            f"(export NAME=...), then run this again"
        )


def _looks_like_a_secret(name: str) -> bool:
    if name.lower().startswith(_TOKEN_PREFIXES):
        return True
    # A variable name is a word or words; a secret is long and mixes cases and digits.
    mixed = any(c.islower() for c in name) and any(c.isupper() for c in name)
    digits = any(c.isdigit() for c in name)
    return len(name) >= 20 and mixed and digits and "_" not in name


def read_secret(env: str | None, path: str | None, what: str) -> str:
    if env:
        value = env_secret(env)
        if not value:
            raise InvalidInput(f"{what}: environment variable {env} is not set")
        return _sendable(value, f"environment variable {env}", what)
    if path:
        return _sendable(_from_file(Path(path), what), str(path), what)
    raise InvalidInput(f"{what}: no environment variable or file is configured")


def _sendable(value: str, where: str, what: str) -> str:
    """Tokens and keys travel in HTTP headers: printable ASCII only. Anything else (a
    trailing newline, a pasted non-ASCII character) is refused here, naming where it came
    from and never the value (a driver's error would print it)."""
    if not all(33 <= ord(c) <= 126 for c in value):
        raise InvalidInput(
            f"{what}: {where} holds a space, a line break or a non-ASCII character; "
            "set it to the token alone"
        )
    return value


def check_secret_file(path: str, what: str) -> None:
    _from_file(Path(path), what)


def _from_file(path: Path, what: str) -> str:
    try:
        mode = path.stat().st_mode
    except OSError:
        raise InvalidInput(f"{what}: cannot read {path}") from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise InvalidInput(f"{what}: {path} can be read by others; run `chmod 600 {path}`")
    try:
        value = path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise InvalidInput(f"{what}: cannot read {path} ({reason})") from None
    if not value:
        raise InvalidInput(f"{what}: {path} is empty")
    return value
