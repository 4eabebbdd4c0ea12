"""The seller's balance and its append-only ledger.

The balance row is locked (`FOR UPDATE` on PostgreSQL; SQLite serialises writers) for
every change, and each change appends a ledger entry in the same transaction, so the
balance always equals the ledger's sum and can never go below zero.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from avasam_cli.core.errors import InvalidInput
from avasam_cli.core.models import Account, LedgerEntry, Order
from avasam_cli.core.money import format_pence, parse_pence
from avasam_cli.core.workspace import Workspace

ACCOUNT_ID = 1


class InsufficientBalance(Exception):
    def __init__(self, needed: int, available: int) -> None:
        super().__init__(
            f"balance {format_pence(available)} GBP is less than the order total "
            f"{format_pence(needed)} GBP; top up with `avasam account topup AMOUNT`"
        )


def topup(ws: Workspace, amount: str, reference: str | None) -> dict[str, Any]:
    pence = parse_pence(amount)
    if pence <= 0:
        raise InvalidInput("a top-up must be more than 0.00")
    with ws.uow() as uow:
        entry = post(uow.session, "topup", pence, actor=ws.actor, at=ws.now(), reference=reference)
        uow.commit()
        return ledger_row(entry)


def balance(ws: Workspace) -> dict[str, Any]:
    with ws.uow(read_only=True) as uow:
        account = uow.session.get_one(Account, ACCOUNT_ID)
        return {"balance": format_pence(account.balance_pence), "currency": account.currency}


def ledger(ws: Workspace, limit: int | None) -> Iterator[dict[str, Any]]:
    with ws.uow(read_only=True) as uow:
        query = (
            select(LedgerEntry, Order.number)
            .outerjoin(Order, Order.id == LedgerEntry.order_id)
            .order_by(LedgerEntry.id.desc())
        )
        if limit:
            query = query.limit(limit)
        rows = [ledger_row(entry, number) for entry, number in uow.session.execute(query)]
    yield from reversed(rows)


def post(
    session: Session,
    kind: str,
    amount_pence: int,
    *,
    actor: str,
    at: datetime,
    reference: str | None = None,
    order_id: int | None = None,
) -> LedgerEntry:
    """Apply a signed amount to the balance; InsufficientBalance if it would go negative."""
    account = session.scalars(
        select(Account)
        .where(Account.id == ACCOUNT_ID)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()
    if account.balance_pence + amount_pence < 0:
        raise InsufficientBalance(-amount_pence, account.balance_pence)
    account.balance_pence += amount_pence
    entry = LedgerEntry(
        at=at,
        kind=kind,
        amount_pence=amount_pence,
        balance_after_pence=account.balance_pence,
        reference=reference,
        order_id=order_id,
        actor=actor,
    )
    session.add(entry)
    return entry


def ledger_row(entry: LedgerEntry, order_number: str | None = None) -> dict[str, Any]:
    return {
        "at": entry.at,
        "kind": entry.kind,
        "amount": format_pence(entry.amount_pence),
        "balance_after": format_pence(entry.balance_after_pence),
        "currency": "GBP",
        "order": order_number,
        "reference": entry.reference,
        "actor": entry.actor,
    }
