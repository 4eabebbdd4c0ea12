"""Notes on an order: appended, shown in `orders show`, audited, marked in the list."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from avasam_cli.core.errors import InvalidInput
from avasam_cli.core.lifecycle import display_id, record_event
from avasam_cli.core.models import Order, OrderNote
from avasam_cli.core.services.lookup import find_order_id, lock_order
from avasam_cli.core.workspace import Workspace

MAX_NOTE = 2000


def add_note_locked(session: Session, order: Order, text: str, *, actor: str, at: datetime) -> None:
    text = text.strip()
    if not text:
        raise InvalidInput("a note cannot be empty")
    if len(text) > MAX_NOTE:
        raise InvalidInput(f"a note is at most {MAX_NOTE} characters")
    session.add(OrderNote(order_id=order.id, at=at, actor=actor, text=text))
    order.note_count += 1
    record_event(session, order, "note_added", actor=actor, at=at, details={"note": text})


def add_note(ws: Workspace, ident: str, text: str) -> str:
    with ws.uow() as uow:
        order = lock_order(uow.session, find_order_id(uow.session, ident))
        add_note_locked(uow.session, order, text, actor=ws.actor, at=ws.now())
        uow.commit()
        return display_id(order)
