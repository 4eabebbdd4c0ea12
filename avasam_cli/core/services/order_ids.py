"""Which order a user means: by number, internal id or channel reference.

Written as plain SQL over `Rows` (core/lightdb.py), so the light read path (`orders show`,
`orders audit`) and the writers (through `lookup.find_order_id` and a session) share one
rule and one "not found" message.
"""

from __future__ import annotations

import re

from avasam_cli.core.errors import InvalidInput, NotFound
from avasam_cli.core.lightdb import Rows

ORDER_NUMBER_PREFIX = "AV"
NUMBER = re.compile(rf"^{ORDER_NUMBER_PREFIX}[0-9]{{7}}$", re.IGNORECASE)


def find_order_id(rows: Rows, ident: str) -> int:
    """The id of the order `ident` names. An ambiguous reference lists the candidates."""
    ident = ident.strip()
    if not ident:
        raise InvalidInput("an order number, id or reference is needed")
    if NUMBER.match(ident):
        found = rows("SELECT id FROM orders WHERE number = ?", [ident.upper()])
        if found:
            return int(found[0][0])
    if ident.isdigit() and len(ident) < 12:
        found = rows("SELECT id FROM orders WHERE id = ?", [int(ident)])
        if found:
            return int(found[0][0])
    matches = rows(
        "SELECT id, number, status FROM orders WHERE channel_reference = ? ORDER BY id LIMIT 20",
        [ident],
    )
    if len(matches) == 1:
        return int(matches[0][0])
    if not matches:
        raise NotFound(
            f"no order {ident!r} (tried order number, id and reference); "
            "find it with `avasam orders list --search`"
        )
    candidates = ", ".join(
        f"{number or 'QUEUE'} (id {id_}, {status})" for id_, number, status in matches
    )
    raise InvalidInput(
        f"reference {ident!r} matches {len(matches)} orders: {candidates}; name one by its id"
    )
