"""`channels push`: send the outbox (core/services/outbox.py) to the sales channels.

Channels one after another, each on its own: a channel that cannot be reached leaves its
updates pending and the next channel goes on. Updates oldest first. Outcomes are recorded
in batches of RECORD_EVERY (one transaction each); a run killed before recording some of
them repeats them next time, which the writers recognise (they read the channel's state
before changing it; core/channels/writeback.py).

A transient failure (timeout, 5xx, 429) is tried again on a later run, after a backoff
that doubles from BACKOFF, up to MAX_ATTEMPTS; a permanent one (the order gone, access
refused, the channel's own refusal) fails at once. `channels retry` queues failed ones
again. Concurrent pushes are kept apart by the job lock (`push`).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from avasam_cli.core.channels import writer_for
from avasam_cli.core.channels.writeback import Failed, Outcome, Sent, Update
from avasam_cli.core.errors import AvasamError, InvalidInput, NotFound
from avasam_cli.core.lifecycle import record_event
from avasam_cli.core.models import Channel, ChannelUpdate, Order, OrderLine
from avasam_cli.core.progress import SILENT, Progress
from avasam_cli.core.services.lookup import MANUAL_CHANNEL, get_channel
from avasam_cli.core.statuses import UpdateStatus
from avasam_cli.core.workspace import Workspace

MAX_ATTEMPTS = 8
BACKOFF = timedelta(minutes=5)
MAX_BACKOFF = timedelta(hours=6)
RECORD_EVERY = 100


@dataclass
class PushResult:
    channel: str
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    error: str | None = None
    lines: list[dict[str, Any]] = field(default_factory=list)


def push(
    ws: Workspace, names: list[str], *, dry_run: bool = False, progress: Progress = SILENT
) -> Iterator[PushResult]:
    """Each named channel (every channel with something due, when `names` is empty)."""
    for channel_id, name, kind, config in _channels(ws, names):
        yield _push_channel(ws, channel_id, name, kind, config, dry_run, progress)


def _channels(ws: Workspace, names: list[str]) -> list[tuple[int, str, str, dict[str, str]]]:
    with ws.uow(read_only=True) as uow:
        if names:
            found = [get_channel(uow.session, name) for name in names]
            manual = [c.name for c in found if c.type == MANUAL_CHANNEL]
            if manual:
                raise InvalidInput(f"channel {manual[0]} has no sales channel to tell")
            channels = found
        else:
            due = select(ChannelUpdate.channel_id).where(
                ChannelUpdate.status == UpdateStatus.PENDING
            )
            # A disabled or removed channel keeps its updates pending: the seller turned
            # it off; `channels push NAME` still sends them on purpose.
            channels = list(
                uow.session.scalars(
                    select(Channel)
                    .where(
                        Channel.id.in_(due),
                        Channel.enabled.is_(True),
                        Channel.removed_at.is_(None),
                    )
                    .order_by(Channel.name)
                )
            )
        return [(c.id, c.name, c.type, json.loads(c.config)) for c in channels]


def _push_channel(
    ws: Workspace,
    channel_id: int,
    name: str,
    kind: str,
    config: dict[str, str],
    dry_run: bool,
    progress: Progress,
) -> PushResult:
    result = PushResult(name)
    updates, labels = _due(ws, channel_id)
    if dry_run:
        result.lines = [_line(labels[u.id], u, "would send", "") for u in updates]
        return result
    if not updates:
        return result
    try:
        writer = writer_for(kind, config, ws.settings, ws.now)
    except AvasamError as exc:
        result.error = str(exc)
        return result
    outcomes: list[tuple[Update, Outcome]] = []
    progress.start(len(updates))
    for update_, outcome in writer.send(updates):
        outcomes.append((update_, outcome))
        progress.advance(1)
        if len(outcomes) >= RECORD_EVERY:
            _record(ws, name, outcomes, result, labels)
            outcomes = []
    _record(ws, name, outcomes, result, labels)
    return result


def _due(ws: Workspace, channel_id: int) -> tuple[list[Update], dict[int, str]]:
    with ws.uow(read_only=True) as uow:
        rows = uow.session.execute(
            select(ChannelUpdate, Order.number, Order.channel_reference)
            .join(Order, Order.id == ChannelUpdate.order_id)
            .where(
                ChannelUpdate.channel_id == channel_id,
                ChannelUpdate.status == UpdateStatus.PENDING,
                ChannelUpdate.next_attempt_at <= ws.now(),
            )
            .order_by(ChannelUpdate.id)
        ).all()
        lines: dict[int, list[tuple[str, int]]] = {}
        order_ids = sorted({row.order_id for row, _number, _reference in rows})
        for first in range(0, len(order_ids), 1000):  # bound the IN list
            found = uow.session.execute(
                select(OrderLine.order_id, OrderLine.channel_sku, OrderLine.quantity)
                .where(OrderLine.order_id.in_(order_ids[first : first + 1000]))
                .order_by(OrderLine.order_id, OrderLine.line_no)
            )
            for order_id, sku, quantity in found:
                lines.setdefault(order_id, []).append((sku, quantity))
        updates = [
            Update(
                id=row.id,
                kind=row.kind,
                external_id=row.external_id,
                reference=reference or row.external_id,
                tracking_number=row.tracking_number,
                carrier=row.carrier,
                reason=row.reason,
                lines=tuple(lines.get(row.order_id, [])),
            )
            for row, _number, reference in rows
        ]
        labels = {row.id: number or reference or row.external_id for row, number, reference in rows}
        return updates, labels


def _record(
    ws: Workspace,
    channel: str,
    outcomes: list[tuple[Update, Outcome]],
    result: PushResult,
    labels: dict[int, str],
) -> None:
    if not outcomes:
        return
    now = ws.now()
    ids = [update_.id for update_, _ in outcomes]
    with ws.uow() as uow:
        # Two queries for the whole batch (rows locked), not two per update.
        rows = {
            row.id: row
            for row in uow.session.scalars(
                select(ChannelUpdate).where(ChannelUpdate.id.in_(ids)).with_for_update()
            )
        }
        order_ids = {row.order_id for row in rows.values()}
        orders = {
            order.id: order
            for order in uow.session.scalars(select(Order).where(Order.id.in_(order_ids)))
        }
        for update_, outcome in outcomes:
            row = rows.get(update_.id)
            if row is None or row.status != UpdateStatus.PENDING:
                continue  # recorded by another run meanwhile
            if isinstance(outcome, Sent):
                order = orders[row.order_id]
                _sent(uow.session, row, order, outcome, channel, ws.actor, now)
                result.sent += 1
                result.lines.append(_line(labels[row.id], update_, "sent", outcome.what))
            else:
                given_up = _failed(row, outcome, now)
                if given_up:
                    result.failed += 1
                else:
                    result.retrying += 1
                state = "failed" if given_up else "will retry"
                result.lines.append(_line(labels[row.id], update_, state, outcome.message))
        uow.commit()


def _sent(
    session: Session,
    row: ChannelUpdate,
    order: Order,
    outcome: Sent,
    channel: str,
    actor: str,
    at: datetime,
) -> None:
    row.status, row.sent_at, row.remote_ref = UpdateStatus.SENT, at, outcome.remote_ref
    row.last_error = None
    details = {"channel": channel, "update": row.kind, "sent": outcome.what}
    if row.tracking_number:
        details["tracking"] = row.tracking_number
    record_event(session, order, "channel_updated", actor=actor, at=at, details=details)


def _failed(row: ChannelUpdate, outcome: Failed, now: datetime) -> bool:
    """Record a failed attempt; True when the update is given up (status failed)."""
    row.attempts += 1
    row.last_error = outcome.message[:500]
    row.first_failed_at = row.first_failed_at or now
    if not outcome.transient or row.attempts >= MAX_ATTEMPTS:
        row.status = UpdateStatus.FAILED
        return True
    row.next_attempt_at = now + min(BACKOFF * 2 ** (row.attempts - 1), MAX_BACKOFF)
    return False


def _line(label: str, update_: Update, state: str, what: str) -> dict[str, Any]:
    return {
        "order": label,
        "update": update_.kind,
        "tracking_number": update_.tracking_number,
        "result": state,
        "detail": what,
    }


# --- listing and retrying -----------------------------------------------------------------


def list_updates(
    ws: Workspace, channel: str | None, status: str | None, limit: int | None
) -> Iterator[dict[str, Any]]:
    """The outbox, newest first."""
    with ws.uow(read_only=True) as uow:
        query = (
            select(ChannelUpdate, Channel.name, Order.number, Order.channel_reference)
            .join(Channel, Channel.id == ChannelUpdate.channel_id)
            .join(Order, Order.id == ChannelUpdate.order_id)
            .order_by(ChannelUpdate.id.desc())
            .limit(limit)
        )
        if channel:
            query = query.where(
                ChannelUpdate.channel_id
                == get_channel(uow.session, channel, include_removed=True).id
            )
        if status:
            query = query.where(ChannelUpdate.status == status)
        for row, name, number, reference in uow.session.execute(query):
            yield {
                "id": row.id,
                "channel": name,
                "order": number or reference,
                "update": row.kind,
                "tracking_number": row.tracking_number,
                "status": row.status,
                "attempts": row.attempts,
                "created_at": row.created_at,
                "sent_at": row.sent_at,
                "next_attempt_at": row.next_attempt_at if row.status == "pending" else None,
                "error": row.last_error,
            }


def retry_updates(ws: Workspace, ids: list[int], *, all_failed: bool) -> int:
    """Queue failed updates again (attempts from zero); how many were queued."""
    if not ids and not all_failed:
        raise InvalidInput(
            "name the updates to retry (IDs from `channels updates`) or --all-failed"
        )
    with ws.uow() as uow:
        for update_id in ids:
            found = uow.session.get(ChannelUpdate, update_id)
            if found is None:
                raise NotFound(f"no channel update {update_id}; see `avasam channels updates`")
            if found.status != UpdateStatus.FAILED:
                raise InvalidInput(f"channel update {update_id} is {found.status}, not failed")
        chosen = ChannelUpdate.status == UpdateStatus.FAILED
        if not all_failed:
            chosen = chosen & ChannelUpdate.id.in_(ids)
        queued = uow.session.execute(  # type: ignore[attr-defined]  # a CursorResult
            update(ChannelUpdate)
            .where(chosen)
            .values(
                status=UpdateStatus.PENDING,
                attempts=0,
                next_attempt_at=ws.now(),
                first_failed_at=None,
            )
        ).rowcount
        uow.commit()
        return int(queued or 0)
