"""The order lifecycle: the one place that knows which transition is legal.

Every service changes an order's status through `transition()`, which checks the move
against TRANSITIONS and appends the audit event in the caller's transaction. Bulk writers
(intake, matching), which hold orders as plain rows for speed, do the same row by row
through `move_row()` (a new order's first status, too), then write the rows and the event
rows it returns in one statement each.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from avasam_cli.core.errors import NotAllowed
from avasam_cli.core.models import Order, OrderEvent, Ticket
from avasam_cli.core.statuses import (
    CHANGE_IGNORED,
    CancelReason,
    HoldReason,
    Payment,
    Shipping,
    Status,
    TicketStatus,
)

__all__ = ["CHANGE_IGNORED", "CancelReason", "HoldReason", "Payment", "Shipping", "Status"]


# Statuses an order can be cancelled from (open only until the supplier has received it,
# for the seller's own cancel: see check_direct_cancel).
CANCELLABLE = (Status.MATCHING, Status.UNMATCHED, Status.HELD, Status.QUEUE, Status.OPEN)

# The statuses an order is created in: waiting for its lines to be linked, or ready.
START = (Status.MATCHING, Status.QUEUE)

# (from, to) -> the audit event that records the move.
TRANSITIONS: dict[tuple[Status, Status], str] = {
    (Status.MATCHING, Status.QUEUE): "matched",
    (Status.MATCHING, Status.UNMATCHED): "match_window_expired",
    (Status.UNMATCHED, Status.QUEUE): "matched",
    (Status.QUEUE, Status.HELD): "held",
    (Status.HELD, Status.QUEUE): "released",
    (Status.HELD, Status.HELD): "held",  # the cause changed (e.g. out of stock -> postcode)
    (Status.QUEUE, Status.OPEN): "passed_to_supplier",
    (Status.OPEN, Status.DISPATCHED): "dispatched",
    **{(status, Status.CANCELLED): "cancelled" for status in CANCELLABLE},
}


def check_transition(current: str, target: Status) -> str:
    """The audit event name for a legal move; NotAllowed otherwise."""
    event = TRANSITIONS.get((Status(current), target))
    if event is None:
        raise NotAllowed(f"an order in status {current} cannot become {target}")
    return event


def check_direct_cancel(order: Order) -> None:
    """The seller's own cancel: refused once shipped or once the supplier has the order."""
    if order.status == Status.CANCELLED:
        raise NotAllowed(f"order {display_id(order)} is already cancelled")
    if order.status == Status.DISPATCHED or order.shipping_status == Shipping.SHIPPED:
        raise NotAllowed(
            f"order {display_id(order)} has been dispatched and cannot be cancelled; "
            f"to arrange a return run `avasam tickets raise {display_id(order)} --kind return`"
        )
    if order.status == Status.OPEN and order.received_by_supplier_at is not None:
        raise NotAllowed(
            f"order {display_id(order)} has already been received by the supplier; "
            f"ask them to cancel it with `avasam tickets raise {display_id(order)}`"
        )


def display_id(order: Order) -> str:
    return order.number or order.channel_reference or f"#{order.id}"


def record_event(
    session: Session,
    order: Order,
    event: str,
    *,
    actor: str,
    at: datetime,
    details: dict[str, Any] | str | None = None,
    from_status: str | None = None,
    to_status: str | None = None,
) -> None:
    """Append one audit event for `order` to the current transaction."""
    session.add(
        OrderEvent(
            **event_row(
                order.id,
                event,
                actor=actor,
                at=at,
                details=details,
                from_status=from_status,
                to_status=to_status,
            )
        )
    )
    order.updated_at = at


def event_row(
    order_id: int | None,
    event: str,
    *,
    actor: str,
    at: datetime,
    details: dict[str, Any] | str | None = None,
    from_status: str | None = None,
    to_status: str | None = None,
) -> dict[str, Any]:
    """One audit event as a plain row, for bulk inserts (intake, matching); `order_id`
    None for an order not inserted yet (the caller sets it from the new id)."""
    text = details if isinstance(details, str) or details is None else _dump(details)
    return {
        "order_id": order_id,
        "at": at,
        "actor": actor,
        "event": event,
        "from_status": from_status,
        "to_status": to_status,
        "details": text,
    }


def transition(
    session: Session,
    order: Order,
    target: Status,
    *,
    actor: str,
    at: datetime,
    details: dict[str, Any] | None = None,
) -> None:
    """Move `order` to `target` if the lifecycle allows it, with its audit event."""
    event = check_transition(order.status, target)
    previous = order.status
    order.status = target
    record_event(
        session,
        order,
        event,
        actor=actor,
        at=at,
        details=details,
        from_status=previous,
        to_status=target,
    )


def move_row(
    row: dict[str, Any],
    target: Status,
    *,
    actor: str,
    at: datetime,
    details: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """`transition()` for an order held as a plain row (a dict for a bulk INSERT or an
    executemany UPDATE) instead of an ORM object: checks the move from row["status"], sets
    row["status"] and row["updated_at"], and returns the audit event row. A row with no
    status yet is a new order: it starts in `target` (one of START) with a `created` event.
    The event's order_id is row["id"]; for a row not inserted yet, the caller sets it."""
    current = row.get("status")
    if current is None:
        if target not in START:
            raise NotAllowed(f"an order cannot start in status {target}")
        event = "created"
    else:
        event = check_transition(current, target)
    row["status"] = target
    row["updated_at"] = at
    return event_row(
        row.get("id"),
        event,
        actor=actor,
        at=at,
        details=details,
        from_status=current,
        to_status=target,
    )


def _dump(details: dict[str, Any]) -> str:
    return json.dumps({k: v for k, v in details.items() if v is not None}, ensure_ascii=False)


def check_ticket_open(ticket: Ticket) -> None:
    """A ticket moves one way, open -> closed; a closed one is never reopened or added to
    (raise a new one), so the order's audit trail tells one story."""
    if ticket.status != TicketStatus.OPEN:
        raise NotAllowed(
            f"ticket {ticket.id} is closed; raise a new one with `avasam tickets raise ORDER`"
        )


def close_ticket(ticket: Ticket, at: datetime) -> None:
    check_ticket_open(ticket)
    ticket.status, ticket.closed_at = TicketStatus.CLOSED, at
