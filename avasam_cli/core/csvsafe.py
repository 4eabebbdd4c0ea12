"""Spreadsheet-safe CSV cells, for `--format csv` output and supplier export files alike.

A spreadsheet runs a cell that starts with = + - @ (or a tab or CR) as a formula (OWASP
"CSV injection"); a quote in front makes it text. Plain numbers, negatives included, stay.
"""

from __future__ import annotations

import re

_FORMULA = re.compile(r"^[=+\-@\t\r]")
_NUMBER = re.compile(r"^[+-]?[0-9]+(\.[0-9]+)?$")


def csv_safe(text: str) -> str:
    return "'" + text if _FORMULA.match(text) and not _NUMBER.match(text) else text
