"""Tickets to the supplier about an order. Every step lands in the order's audit trail.

Closing a ticket with `cancel_order` records that the supplier agreed to cancel: the
order is cancelled and refunded even though the supplier had already received it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from avasam_cli.core.errors import InvalidInput, NotAllowed
from avasam_cli.core.lifecycle import (
    Shipping,
    Status,
    check_ticket_open,
    close_ticket,
    display_id,
    record_event,
)
from avasam_cli.core.models import Order, Ticket, TicketMessage
from avasam_cli.core.services.cancellation import cancel_locked, seller_reason
from avasam_cli.core.services.lookup import find_order_id, get_ticket, lock_order
from avasam_cli.core.statuses import TicketKind, TicketStatus
from avasam_cli.core.workspace import Workspace

KINDS = tuple(TicketKind)


def raise_ticket(ws: Workspace, ident: str, message: str, kind: str) -> dict[str, Any]:
    if kind not in KINDS:
        raise InvalidInput(f"--kind must be one of {', '.join(KINDS)}")
    text = _message(message)
    with ws.uow() as uow:
        session, now = uow.session, ws.now()
        order = lock_order(session, find_order_id(session, ident))
        ticket = Ticket(order_id=order.id, kind=kind, status=TicketStatus.OPEN, created_at=now)
        session.add(ticket)
        session.flush()
        session.add(TicketMessage(ticket_id=ticket.id, at=now, actor=ws.actor, text=text))
        record_event(
            session,
            order,
            "ticket_raised",
            actor=ws.actor,
            at=now,
            details={"ticket": ticket.id, "kind": kind, "message": text},
        )
        uow.commit()
        return ticket_row(ticket, order)


def reply(ws: Workspace, ticket_id: int, message: str) -> dict[str, Any]:
    text = _message(message)
    with ws.uow() as uow:
        session, now = uow.session, ws.now()
        ticket = _open_ticket(session, ticket_id)
        order = lock_order(session, ticket.order_id)
        session.add(TicketMessage(ticket_id=ticket.id, at=now, actor=ws.actor, text=text))
        record_event(
            session,
            order,
            "ticket_reply",
            actor=ws.actor,
            at=now,
            details={"ticket": ticket.id, "message": text},
        )
        uow.commit()
        return ticket_row(ticket, order)


def close(
    ws: Workspace, ticket_id: int, *, cancel_order: bool, reason: str | None
) -> dict[str, Any]:
    if cancel_order and not reason:
        raise InvalidInput("--cancel-order needs --reason")
    cause = seller_reason(reason, "agreed with the supplier") if cancel_order and reason else None
    with ws.uow() as uow:
        session, now = uow.session, ws.now()
        ticket = _open_ticket(session, ticket_id)
        order = lock_order(session, ticket.order_id)
        if cause is not None:
            if order.status in (Status.CANCELLED, Status.DISPATCHED) or (
                order.shipping_status == Shipping.SHIPPED
            ):
                raise NotAllowed(
                    f"order {display_id(order)} is {order.status} and cannot be "
                    "cancelled; close the ticket without --cancel-order"
                )
            cancel_locked(
                session,
                order,
                cause,
                actor=ws.actor,
                at=now,
                note=f"the supplier agreed in ticket {ticket.id}",
            )
        close_ticket(ticket, now)
        record_event(
            session,
            order,
            "ticket_closed",
            actor=ws.actor,
            at=now,
            details={"ticket": ticket.id, "order_cancelled": cause is not None},
        )
        uow.commit()
        return ticket_row(ticket, order)


def list_tickets(ws: Workspace, status: str | None) -> Iterator[dict[str, Any]]:
    with ws.uow(read_only=True) as uow:
        query = select(Ticket, Order).join(Order, Order.id == Ticket.order_id).order_by(Ticket.id)
        if status:
            query = query.where(Ticket.status == status)
        for ticket, order in uow.session.execute(query):
            yield ticket_row(ticket, order)


def show_ticket(ws: Workspace, ticket_id: int) -> dict[str, Any]:
    with ws.uow(read_only=True) as uow:
        ticket = get_ticket(uow.session, ticket_id)
        row = ticket_row(ticket, ticket.order)
        row["messages"] = [{"at": m.at, "by": m.actor, "text": m.text} for m in ticket.messages]
        return row


def ticket_row(ticket: Ticket, order: Order) -> dict[str, Any]:
    return {
        "id": ticket.id,
        "order": display_id(order),
        "order_status": order.status,
        "kind": ticket.kind,
        "status": ticket.status,
        "created_at": ticket.created_at,
        "closed_at": ticket.closed_at,
    }


def _open_ticket(session: Session, ticket_id: int) -> Ticket:
    ticket = get_ticket(session, ticket_id)
    check_ticket_open(ticket)
    return ticket


def _message(message: str) -> str:
    text = message.strip()
    if not text:
        raise InvalidInput("--message cannot be empty")
    return text
