"""Dispatch: one order by hand, or the supplier's dispatch file.

The file is processed row by row, each row its own transaction: a bad row is reported
with its line number and does not stop the good ones; re-importing changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

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
from avasam_cli.core.services.outbox import queue_update
from avasam_cli.core.statuses import DispatchFileStatus, UpdateKind
from avasam_cli.core.workspace import Workspace

COLUMNS = ["OrderNumber", "Status", "TrackingNumber", "Carrier"]


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
    session: Session, order: Order, tracking: str, carrier: str | None, actor: str, at: datetime
) -> str:
    tracking = tracking.strip()
    if not tracking:
        raise InvalidInput("a tracking number is needed to dispatch an order")
    if order.status == Status.DISPATCHED:
        if order.tracking_number == tracking:
            return "unchanged"
        raise NotAllowed(
            f"order {display_id(order)} was already dispatched with tracking "
            f"{order.tracking_number}"
        )
    if order.status != Status.OPEN:
        raise NotAllowed(
            f"order {display_id(order)} is {order.status}; only an open order can be dispatched"
        )
    transition(
        session,
        order,
        Status.DISPATCHED,
        actor=actor,
        at=at,
        details={"tracking": tracking, "carrier": carrier},
    )
    order.shipping_status, order.dispatched_at = Shipping.SHIPPED, at
    order.tracking_number, order.carrier = tracking, carrier
    queue_update(session, order, UpdateKind.DISPATCH, at)  # the channel hears of it later
    return "dispatched"


def import_dispatches(
    ws: Workspace, path: Path, progress: Progress = SILENT
) -> Iterator[RowResult]:
    with open_csv(path, COLUMNS, progress) as rows:
        for line, raw in rows:
            number = raw["OrderNumber"]
            try:
                outcome = _import_row(ws, raw["Status"].upper(), number, raw)
            except AvasamError as exc:
                yield RowResult(line, number, "error", str(exc))
                continue
            yield RowResult(line, number, outcome, raw["TrackingNumber"] or "")


def _import_row(ws: Workspace, status: str, number: str, raw: dict[str, str]) -> str:
    if status not in tuple(DispatchFileStatus):
        raise InvalidInput(f"column Status: {raw['Status']!r} must be SHIPPED or CANCELLED")
    if not number:
        raise InvalidInput("column OrderNumber: is empty")
    with ws.uow() as uow:
        session = uow.session
        order_id = session.scalar(select(Order.id).where(Order.number == number.upper()))
        if order_id is None:
            raise NotFound(f"column OrderNumber: no order {number!r}")
        order = lock_order(session, order_id)
        if status == DispatchFileStatus.SHIPPED:
            if not raw["TrackingNumber"]:
                raise InvalidInput("column TrackingNumber: is empty for a SHIPPED order")
            outcome = dispatch_locked(
                session, order, raw["TrackingNumber"], raw["Carrier"] or None, ws.actor, ws.now()
            )
        else:
            outcome = _supplier_cancel(session, order, ws.actor, ws.now())
        uow.commit()
        return outcome


def _supplier_cancel(session: Session, order: Order, actor: str, at: datetime) -> str:
    if order.status == Status.CANCELLED:
        return "unchanged"
    if order.status != Status.OPEN:
        raise NotAllowed(
            f"order {display_id(order)} is {order.status}; the supplier can "
            "only cancel an open order"
        )
    cancel_locked(
        session,
        order,
        CancelReason.SUPPLIER_CANCELLED,
        actor=actor,
        at=at,
        note="cancelled by the supplier in their dispatch file",
    )
    return "cancelled"
