"""`orders edit`: correct an order's delivery details until the supplier has it.

The values given are checked as `orders add` checks them (core/incoming.py, as for a person
at the keyboard: a GB postcode that does not parse is refused), plus no control characters.
The edit is one transaction: one `edited` audit event per changed field (old and new value,
the reason, the actor), then an order in queue or held is re-checked at once with the hold
rule `orders process` uses (`processing.recheck`): a corrected postcode releases an
`excluded_postcode` or `invalid_address` hold, a newly excluded one is held.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from avasam_cli.core.errors import InvalidInput, NotAllowed
from avasam_cli.core.incoming import (
    DELIVERY_FIELDS,
    MissingField,
    check_text,
    field_text,
    read_country,
    read_postcode,
    refuse_control_characters,
)
from avasam_cli.core.lifecycle import Status, display_id, record_event
from avasam_cli.core.models import Order
from avasam_cli.core.services.lookup import find_order_id, lock_order
from avasam_cli.core.services.manual_orders import check_service
from avasam_cli.core.services.processing import recheck
from avasam_cli.core.services.pull import EDITABLE
from avasam_cli.core.statuses import EDITED
from avasam_cli.core.workspace import Workspace

FIELDS = (*DELIVERY_FIELDS, "shipping_service")
REQUIRED = frozenset({"name", "address1", "city", "postcode", "country"})  # never blank


@dataclass
class Edit:
    order_id: int
    label: str  # the order as people name it (display_id)
    changes: list[tuple[str, str | None, str | None]]  # (field, old, new), in FIELDS order
    rechecked: str | None = None  # 'held: REASON' or 'released' when the re-check moved it


def edit_order(
    ws: Workspace, ident: str, values: Mapping[str, str | None], reason: str | None
) -> Edit:
    """Change the fields of `values` that are not None (blank clears an optional one)."""
    given = {key: value for key, value in values.items() if value is not None}
    unknown = set(given) - set(FIELDS)
    if unknown:
        raise InvalidInput(f"unknown field(s): {', '.join(sorted(unknown))}")
    if not given:
        raise InvalidInput(
            "give at least one field to change, e.g. --postcode 'SW1A 1AA'; "
            "see `avasam orders edit --help`"
        )
    why = _reason(reason)
    with ws.uow() as uow:
        session, now = uow.session, ws.now()
        order = lock_order(session, find_order_id(session, ident))
        check_editable(order)
        new = checked_values(given, order.country, order.postcode)
        changes = [(key, getattr(order, key), new[key]) for key in FIELDS if key in new]
        changes = [(key, old, value) for key, old, value in changes if old != value]
        edit = Edit(order.id, display_id(order), changes)
        if not changes:
            return edit  # nothing written: the unit of work rolls back
        service = new.get("shipping_service")
        if service and order.supplier_id is not None:
            check_service(session, order.supplier_id, service)
        for key, old, value in changes:
            setattr(order, key, value)
            record_event(
                session,
                order,
                EDITED,
                actor=ws.actor,
                at=now,
                details={"field": key, "old": old or "", "new": value or "", "reason": why},
            )
        if order.status in (Status.QUEUE, Status.HELD) and order.supplier_id is not None:
            edit.rechecked = recheck(session, order, ws.actor, now)
        uow.commit()
        return edit


def check_editable(order: Order) -> None:
    """NotAllowed, naming the ticket route, once the supplier has the order (or it is
    cancelled): only `matching`, `unmatched`, `held` and `queue` orders can be edited."""
    if order.status in EDITABLE and order.received_by_supplier_at is None:
        return
    shown = display_id(order)
    ticket = f'`avasam tickets raise {shown} --kind query --message "..."`'
    if order.status == Status.CANCELLED:
        raise NotAllowed(
            f"order {shown} is cancelled, so it can no longer be edited; add it again with "
            f"`avasam orders add`, or ask the supplier about it with {ticket}"
        )
    what = "has been dispatched" if order.status == Status.DISPATCHED else "is with the supplier"
    raise NotAllowed(
        f"order {shown} {what} (status {order.status}), so its delivery details can no "
        f"longer be changed here; ask the supplier to change them with {ticket}"
    )


def checked_values(given: Mapping[str, str], country: str, postcode: str) -> dict[str, str | None]:
    """The given fields as `orders add` would store them (blank optional fields as None);
    the postcode (given, or the order's own when only the country changes) is checked
    against the country the order will have."""
    try:
        for key, value in given.items():
            refuse_control_characters(key, value)
        new: dict[str, str | None] = {
            key: field_text(given, key, required=key in REQUIRED) or None
            for key in FIELDS
            if key in given and key not in ("country", "postcode")
        }
        if "country" in given or "postcode" in given:
            if "country" in given:
                field_text(given, "country", required=True)
                country = new["country"] = read_country(given)
            fields = {"postcode": given.get("postcode", postcode)}
            new["postcode"] = read_postcode(fields, country, strict=True)
    except MissingField as exc:
        raise InvalidInput(
            f"--{exc.key.replace('_', '-')} cannot be blank: the order needs it"
        ) from None
    return new


def _reason(reason: str | None) -> str | None:
    text = (reason or "").strip()
    check_text("reason", text)
    refuse_control_characters("reason", text)
    return text or None
