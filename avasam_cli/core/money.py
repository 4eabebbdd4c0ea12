"""Money is integer pence; VAT rates are integer basis points (20% = 2000)."""

from __future__ import annotations

import re

from avasam_cli.core.errors import InvalidInput

# ASCII digits only: `\d` would take other scripts' digits (١٠) and `int()` underscores (1_000).
_AMOUNT = re.compile(r"^\s*£?\s*([0-9]{1,9})(?:\.([0-9]{1,2}))?\s*$")
_RATE = re.compile(r"^\s*([0-9]{1,3})(?:\.([0-9]{1,2}))?\s*%?\s*$")
_LARGE = re.compile(r"^\s*£?\s*[0-9]{10,}(?:\.[0-9]*)?\s*$")


def parse_pence(text: str, what: str = "amount") -> int:
    """'12.5' -> 1250. Refuses negatives, more than two decimals and anything non-numeric."""
    match = _AMOUNT.match(str(text))
    if not match:
        if str(text).strip().startswith("-"):
            raise InvalidInput(f"{what} {text!r} cannot be negative")
        if _LARGE.match(str(text)):
            raise InvalidInput(f"{what} {text!r} is too large (at most 999999999.99)")
        raise InvalidInput(f"{what} {text!r} is not a price; write pounds and pence like 12.34")
    pounds, pence = match.group(1), (match.group(2) or "0").ljust(2, "0")
    return int(pounds) * 100 + int(pence)


def parse_vat_rate(text: str, what: str = "VAT rate") -> int:
    """'20' -> 2000 basis points; '5.5' -> 550."""
    match = _RATE.match(str(text))
    if not match:
        raise InvalidInput(f"{what} {text!r} is not a percentage; write it like 20 or 5.5")
    whole, fraction = match.group(1), (match.group(2) or "0").ljust(2, "0")
    rate = int(whole) * 100 + int(fraction)
    if rate > 10000:
        raise InvalidInput(f"{what} {text!r} is over 100%")
    return rate


def vat_on(net_pence: int, rate_bp: int) -> int:
    """VAT on a net amount, rounded half up to the penny."""
    return (net_pence * rate_bp + 5000) // 10000


def format_pence(pence: int) -> str:
    """1234 -> '12.34'; -50 -> '-0.50'."""
    sign = "-" if pence < 0 else ""
    whole, part = divmod(abs(pence), 100)
    return f"{sign}{whole}.{part:02d}"


def format_rate(rate_bp: int) -> str:
    """2000 -> '20'; 550 -> '5.5'."""
    whole, part = divmod(rate_bp, 100)
    return str(whole) if part == 0 else f"{whole}.{part:02d}".rstrip("0")
