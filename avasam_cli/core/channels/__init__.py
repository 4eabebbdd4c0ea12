"""Channel adapters: each turns a sales channel into batches of IncomingOrder.

A batch is committed as one transaction; then its cursor is saved and `after_commit` runs
(a file drop moves the file to processed/). A batch that fails to parse (FileFormatError,
from `core/csvfile.py`) calls `rejected`. `adapter_for` builds the adapter of a channel.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from avasam_cli.core.config import Settings
from avasam_cli.core.incoming import IncomingOrder
from avasam_cli.core.secrets import read_secret
from avasam_cli.core.statuses import ChannelType

if TYPE_CHECKING:
    from avasam_cli.core.channels.http import JsonHttp
    from avasam_cli.core.channels.shopify import Shopify
    from avasam_cli.core.channels.woocommerce import WooCommerce
    from avasam_cli.core.channels.writeback import Writer


@dataclass
class Batch:
    label: str
    chunks: Iterator[list[IncomingOrder]]
    cursor: str | None = None
    after_commit: Callable[[], None] = field(default=lambda: None)
    rejected: Callable[[Exception], None] | None = None


class Adapter(Protocol):
    problems: list[str]  # orders the adapter could not read, one line each

    def batches(self, cursor: str | None, since: datetime | None) -> Iterator[Batch]: ...


def adapter_for(kind: str, config: Mapping[str, str], settings: Settings) -> Adapter:
    """The adapter of a channel of type `kind` with its stored `config`; its secrets are
    read now (from the variables or files the config names), so a missing one fails early."""
    tz = settings.timezone
    if kind == ChannelType.FILE:
        from avasam_cli.core.channels.files import FileDrop

        return FileDrop(config["path"], tz)
    if kind == ChannelType.SHOPIFY:
        return _shopify(config, settings)
    return _woocommerce(config, settings)


def _shopify(config: Mapping[str, str], settings: Settings) -> Shopify:
    from avasam_cli.core.channels.shopify import Shopify

    token = read_secret(config.get("token_env"), config.get("token_file"), "Shopify token")
    return Shopify(config["url"], token, settings.timezone, _http(settings))


def _woocommerce(config: Mapping[str, str], settings: Settings) -> WooCommerce:
    from avasam_cli.core.channels.woocommerce import WooCommerce

    key = read_secret(config.get("key_env"), None, "WooCommerce key")
    secret = read_secret(config.get("secret_env"), None, "WooCommerce secret")
    return WooCommerce(config["url"], key, secret, settings.timezone, _http(settings))


def _http(settings: Settings) -> JsonHttp:
    from avasam_cli.core.channels.http import JsonHttp

    return JsonHttp(timeout=settings.http_timeout, backoff=settings.http_backoff)


def writer_for(
    kind: str, config: Mapping[str, str], settings: Settings, now: Callable[[], datetime]
) -> Writer:
    """The write-back side of a channel: tells it of dispatches and cancels."""
    notify = config.get("notify_customer", "true") == "true"
    if kind == ChannelType.FILE:
        from avasam_cli.core.channels.confirmations import Confirmations

        return Confirmations(config.get("confirm_dir") or f"{config['path']}/confirmations", now)
    if kind == ChannelType.SHOPIFY:
        from avasam_cli.core.channels.shopify import ShopifyWriter

        return ShopifyWriter(_shopify(config, settings), notify_customer=notify)
    from avasam_cli.core.channels.woocommerce import WooCommerceWriter

    return WooCommerceWriter(_woocommerce(config, settings), customer_note=notify)
