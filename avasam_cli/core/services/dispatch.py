"""Dispatch: one order by hand, or the supplier's dispatch file.

The file is processed row by row, each row its own transaction: a bad row is reported
with its line number and does not stop the good ones; re-importing changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from avasam_cli.core.csvfile import open_csv
from avasam_cli.core.errors import AvasamError, InvalidInput, NotAllowed, NotFound
from avasam_cli.core.lifecycle import (
    CancelReason,
    Shipping,
    Status,
    display_id,
    transition,
)
from avasam_cli.core.models import Order
from avasam_cli.core.progress import SILENT, Progress
from avasam_cli.core.services.cancellation import cancel_locked
from avasam_cli.core.services.lookup import find_order_id, lock_order
from avasam_cli.core.services.order_ids import NUMBER
from avasam_cli.core.services.outbox import queue_update
from avasam_cli.core.statuses import DispatchFileStatus, UpdateKind
from avasam_cli.core.workspace import Workspace

COLUMNS = ["OrderNumber", "Status", "TrackingNumber", "Carrier"]  # Carrier may be left out


@dataclass
class RowResult:
    line: int
    order: str
    outcome: str  # dispatched | cancelled | unchanged | error
    detail: str


def dispatch_order(
    ws: Workspace, ident: str, tracking: str, carrier: str | None
) -> tuple[int, str]:
    """Mark one order dispatched; returns its id and what happened ('dispatched' or
    'unchanged')."""
    with ws.uow() as uow:
        order = lock_order(uow.session, find_order_id(uow.session, ident))
        outcome = dispatch_locked(uow.session, order, tracking, carrier, ws.actor, ws.now())
        uow.commit()
        return order.id, outcome


def dispatch_locked(
    session: Session,
    order: Order,
    tracking: str,
    carrier: str | None,
    actor: str,
    at: datetime,
    source: str | None = None,
) -> str:
    """Dispatch a row-locked order; `source` (a feed's file) goes into its audit event."""
    tracking = tracking.strip()
    if not check_dispatch(order.status, order.tracking_number, display_id(order), tracking):
        return "unchanged"
    transition(
        session,
        order,
        Status.DISPATCHED,
        actor=actor,
        at=at,
        details=dispatch_details(tracking, carrier, source),
    )
    order.shipping_status, order.dispatched_at = Shipping.SHIPPED, at
    order.tracking_number, order.carrier = tracking, carrier
    queue_update(session, order, UpdateKind.DISPATCH, at)  # the channel hears of it later
    return "dispatched"


def check_dispatch(status: str, current: str | None, shown: str, tracking: str) -> bool:
    """May an order in `status` (dispatched before with tracking `current`) be dispatched
    with `tracking`? False: it already was, with this tracking (nothing to do)."""
    if not tracking:
        raise InvalidInput("a tracking number is needed to dispatch an order")
    if status == Status.DISPATCHED:
        if current == tracking:
            return False
        raise NotAllowed(f"order {shown} was already dispatched with tracking {current}")
    if status != Status.OPEN:
        raise NotAllowed(f"order {shown} is {status}; only an open order can be dispatched")
    return True


def dispatch_details(tracking: str, carrier: str | None, source: str | None) -> dict[str, Any]:
    return {"tracking": tracking, "carrier": carrier} | ({"source": source} if source else {})


def check_supplier_cancel(status: str, shown: str) -> bool:
    """May the supplier cancel an order in `status`? False: it is cancelled already."""
    if status == Status.CANCELLED:
        return False
    if status != Status.OPEN:
        raise NotAllowed(f"order {shown} is {status}; the supplier can only cancel an open order")
    return True


def file_status(text: str) -> DispatchFileStatus:
    """The Status column: SHIPPED (or DISPATCHED) or CANCELLED (or CANCELED), any case."""
    status = {"DISPATCHED": "SHIPPED", "CANCELED": "CANCELLED"}.get(text.upper(), text.upper())
    if status not in tuple(DispatchFileStatus):
        raise InvalidInput(f"column Status: {text!r} must be SHIPPED or CANCELLED")
    return DispatchFileStatus(status)


def shipped(raw: dict[str, str]) -> tuple[str, str | None]:
    """A SHIPPED row's tracking number and carrier, checked."""
    tracking, carrier = raw["TrackingNumber"], raw.get("Carrier") or None
    if not tracking:
        raise InvalidInput("column TrackingNumber: is empty for a SHIPPED order")
    for column, value in (("TrackingNumber", tracking), ("Carrier", carrier)):
        if value is not None and (len(value) > 100 or not value.isprintable()):
            raise InvalidInput(f"column {column}: must be plain text of up to 100 characters")
    return tracking, carrier


def import_dispatches(
    ws: Workspace, path: Path, progress: Progress = SILENT
) -> Iterator[RowResult]:
    with open_csv(path, COLUMNS[:3], progress, optional=COLUMNS[3:]) as rows:
        for line, raw in rows:
            number = raw["OrderNumber"]
            try:
                outcome = _import_row(ws, raw["Status"].upper(), number, raw)
            except AvasamError as exc:
                yield RowResult(line, number, "error", str(exc))
                continue
            yield RowResult(line, number, outcome, raw["TrackingNumber"] or "")


def _import_row(ws: Workspace, status: str, number: str, raw: dict[str, str]) -> str:
    file_status(raw["Status"])
    if not number:
        raise InvalidInput("column OrderNumber: is empty")
    with ws.uow() as uow:
        session = uow.session
        order = lock_order(session, file_order_id(session, number))
        outcome = _apply_row(session, order, raw, ws.actor, ws.now())
        uow.commit()
        return outcome


def file_order_id(session: Session, ref: str) -> int:
    """The order a dispatch file's OrderNumber names: our order number, or else the
    channel's order reference (never an internal id: a shop's order "1001" is a
    reference). A reference two orders share needs the number."""
    if NUMBER.match(ref):
        found = list(session.scalars(select(Order.id).where(Order.number == ref.upper())))
    else:
        found = list(
            session.scalars(select(Order.id).where(Order.channel_reference == ref).limit(2))
        )
    if not found:
        raise NotFound(f"column OrderNumber: no order {ref!r}")
    if len(found) > 1:
        raise InvalidInput(
            f"column OrderNumber: {ref!r} is the reference of several orders; use the order number"
        )
    return found[0]


def _apply_row(
    session: Session, order: Order, raw: dict[str, str], actor: str, at: datetime
) -> str:
    """One row of a dispatch file, on its row-locked order: 'dispatched', 'cancelled' or
    'unchanged'; raises AvasamError (nothing changed) for a row that cannot apply."""
    if file_status(raw["Status"]) == DispatchFileStatus.SHIPPED:
        tracking, carrier = shipped(raw)
        return dispatch_locked(session, order, tracking, carrier, actor, at)
    return supplier_cancel(session, order, actor, at)


def supplier_cancel(
    session: Session, order: Order, actor: str, at: datetime, source: str | None = None
) -> str:
    """The supplier cancels a row-locked order (refunded if paid)."""
    if not check_supplier_cancel(order.status, display_id(order)):
        return "unchanged"
    cancel_locked(
        session,
        order,
        CancelReason.SUPPLIER_CANCELLED,
        actor=actor,
        at=at,
        note=f"cancelled by the supplier in {source}"
        if source
        else "cancelled by the supplier in their dispatch file",
    )
    return "cancelled"
