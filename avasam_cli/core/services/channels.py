"""Sales channels: add, list, show, remove, enable/disable, shipping method mapping.

A channel's settings hold only the *names* of the environment variables or files that
carry its secrets, never the secrets themselves.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any

from sqlalchemy import delete, func, select

from avasam_cli.core.channels.http import check_channel_url
from avasam_cli.core.errors import Conflict, InvalidInput, NotAllowed
from avasam_cli.core.models import Channel, ChannelProblem, Order, ShippingMapping, SkuLink
from avasam_cli.core.secrets import check_env_name, check_secret_file
from avasam_cli.core.services.catalogue import SERVICES
from avasam_cli.core.services.lookup import MANUAL_CHANNEL, NAME, get_channel
from avasam_cli.core.statuses import ChannelType
from avasam_cli.core.workspace import Workspace

TYPES = tuple(ChannelType)


def add_channel(
    ws: Workspace, name: str, kind: str, options: dict[str, str | None]
) -> dict[str, Any]:
    if not NAME.match(name) or name == MANUAL_CHANNEL:
        raise InvalidInput(
            f"channel name {name!r} must be 1-64 letters, digits, '-', '_' or "
            f"'.', and not {MANUAL_CHANNEL!r}"
        )
    config = channel_config(kind, options)
    with ws.uow() as uow:
        if uow.session.scalar(select(Channel.id).where(Channel.name == name)):
            raise Conflict(f"channel {name} already exists; see `avasam channels show {name}`")
        channel = Channel(
            name=name, type=kind, enabled=True, config=json.dumps(config), created_at=ws.now()
        )
        uow.session.add(channel)
        uow.commit()
        return channel_row(channel)


def channel_config(kind: str, options: dict[str, str | None]) -> dict[str, str]:
    """The stored settings of a channel: what it reads from, how write-back tells it."""
    config = _source_config(kind, options)
    if kind == ChannelType.FILE:
        confirm = options.get("confirm_dir")
        if confirm:  # stored absolute, as the drop folder
            config["confirm_dir"] = os.path.abspath(os.path.expanduser(confirm))
    elif options.get("notify_customer") is not None:
        config["notify_customer"] = "true" if options["notify_customer"] == "yes" else "false"
    return config


def _source_config(kind: str, options: dict[str, str | None]) -> dict[str, str]:
    if kind not in TYPES:
        raise InvalidInput(f"channel type {kind!r} must be one of {', '.join(TYPES)}")
    if kind == ChannelType.FILE:
        # Stored absolute: cron runs from $HOME, not from where the channel was added.
        return {"path": os.path.abspath(os.path.expanduser(_need(options, "path", "--path DIR")))}
    url = check_channel_url(
        _need(options, "url", "--url"),
        allow_loopback_http=bool(options.get("allow_loopback_http")),
    )
    if kind == ChannelType.SHOPIFY:
        if options.get("token_file"):
            check_secret_file(str(options["token_file"]), "--token-file")
            return {"url": url, "token_file": str(options["token_file"])}
        return {"url": url, "token_env": _env(options, "token_env", "--token-env VAR")}
    return {
        "url": url,
        "key_env": _env(options, "key_env", "--key-env VAR"),
        "secret_env": _env(options, "secret_env", "--secret-env VAR"),
    }


def list_channels(ws: Workspace) -> list[dict[str, Any]]:
    with ws.uow(read_only=True) as uow:
        counts = {
            channel_id: count
            for channel_id, count in uow.session.execute(
                select(Order.channel_id, func.count()).group_by(Order.channel_id)
            )
        }
        channels = uow.session.scalars(
            select(Channel).where(Channel.removed_at.is_(None)).order_by(Channel.name)
        )
        return [{**channel_row(c), "orders": counts.get(c.id, 0)} for c in channels]


def show_channel(ws: Workspace, name: str) -> dict[str, Any]:
    with ws.uow(read_only=True) as uow:
        channel = get_channel(uow.session, name)
        row = channel_row(channel)
        row["cursor"] = channel.cursor
        row["orders"] = uow.session.scalar(
            select(func.count()).select_from(Order).where(Order.channel_id == channel.id)
        )
        row["problems"] = uow.session.scalar(
            select(func.count())
            .select_from(ChannelProblem)
            .where(ChannelProblem.channel_id == channel.id)
        )
        row["shipping_map"] = [
            {"method": m.method, "service": m.service}
            for m in uow.session.scalars(
                select(ShippingMapping)
                .where(ShippingMapping.channel_id == channel.id)
                .order_by(ShippingMapping.method)
            )
        ]
        return row


def channel_problems(ws: Workspace, name: str, limit: int | None) -> Iterator[dict[str, Any]]:
    """What pulls of this channel could not take in, newest first."""
    with ws.uow(read_only=True) as uow:
        channel = get_channel(uow.session, name)
        query = (
            select(ChannelProblem.at, ChannelProblem.problem)
            .where(ChannelProblem.channel_id == channel.id)
            .order_by(ChannelProblem.id.desc())
            .limit(limit)
        )
        for at, problem in uow.session.execute(query):
            yield {"at": at, "problem": problem}


def set_enabled(ws: Workspace, name: str, enabled: bool) -> None:
    with ws.uow() as uow:
        channel = get_channel(uow.session, name)
        if not enabled:
            _not_built_in(channel, "disabled")
        channel.enabled = enabled
        uow.commit()


def remove_channel(ws: Workspace, name: str, *, force: bool) -> int:
    """Remove a channel; with force, one that has orders is kept (renamed, hidden)."""
    with ws.uow() as uow:
        session = uow.session
        channel = get_channel(session, name)
        _not_built_in(channel, "removed")
        orders = (
            session.scalar(
                select(func.count()).select_from(Order).where(Order.channel_id == channel.id)
            )
            or 0
        )
        if orders and not force:
            raise NotAllowed(
                f"channel {name} has {orders} order(s); `--force` removes the "
                "channel and keeps its orders"
            )
        session.execute(delete(SkuLink).where(SkuLink.channel_id == channel.id))
        session.execute(delete(ChannelProblem).where(ChannelProblem.channel_id == channel.id))
        session.execute(delete(ShippingMapping).where(ShippingMapping.channel_id == channel.id))
        if orders:
            channel.removed_at, channel.enabled = ws.now(), False
            channel.name = f"{name} (removed {channel.id})"
        else:
            session.delete(channel)
        uow.commit()
        return orders


def map_shipping(ws: Workspace, name: str, method: str, service: str) -> None:
    if service not in SERVICES:
        raise InvalidInput(f"shipping service {service!r} must be one of {', '.join(SERVICES)}")
    if not method.strip():
        raise InvalidInput("the channel's shipping method name cannot be empty")
    with ws.uow() as uow:
        channel = get_channel(uow.session, name)
        mapping = uow.session.scalar(
            select(ShippingMapping).where(
                ShippingMapping.channel_id == channel.id, ShippingMapping.method == method
            )
        )
        if mapping is None:
            uow.session.add(ShippingMapping(channel_id=channel.id, method=method, service=service))
        else:
            mapping.service = service
        uow.commit()


def channel_row(channel: Channel) -> dict[str, Any]:
    config = json.loads(channel.config or "{}")
    where = config.get("path") or config.get("url") or ""
    secrets = ", ".join(
        f"{k.replace('_', ' ')} {v}" for k, v in config.items() if k.endswith(("_env", "_file"))
    )
    return {
        "name": channel.name,
        "type": channel.type,
        "enabled": channel.enabled,
        "source": where,
        "secrets_from": secrets or None,
    }


def _not_built_in(channel: Channel, what: str) -> None:
    """`orders add` files every order keyed in by hand under the built-in manual channel."""
    if channel.name == MANUAL_CHANNEL or channel.type == MANUAL_CHANNEL:
        raise NotAllowed(
            f"the built-in channel {MANUAL_CHANNEL} (orders keyed in by hand with "
            f"`avasam orders add`) cannot be {what}"
        )


def _need(options: dict[str, str | None], key: str, flag: str) -> str:
    value = (options.get(key) or "").strip()
    if not value:
        raise InvalidInput(f"this channel type needs {flag}")
    return value


def _env(options: dict[str, str | None], key: str, flag: str) -> str:
    value = _need(options, key, flag)
    check_env_name(value, flag, "secret itself")
    return value
