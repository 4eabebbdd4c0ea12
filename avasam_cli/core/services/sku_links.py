"""Which catalogue product a channel's SKU means.

A channel SKU is linked when it equals a product's SKU, or a supplier product id that only
one product has, or has an explicit link (the channel's own link first, then a link for
every channel). `products link/unlink/links` manage the explicit links.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from avasam_cli.core.batches import batched
from avasam_cli.core.errors import Conflict, NotFound
from avasam_cli.core.incoming import LinkedProduct
from avasam_cli.core.models import Channel, Product, SkuLink, Supplier
from avasam_cli.core.services.lookup import get_channel
from avasam_cli.core.workspace import Workspace

PRODUCT_COLUMNS = (
    Product.id,
    Product.supplier_id,
    Product.sku,
    Product.supplier_product_id,
    Product.title,
)


class SkuResolver:
    """Resolves channel SKUs for one channel, in batches, remembering what it found."""

    def __init__(self, session: Session, channel_id: int) -> None:
        self.session = session
        self.channel_id = channel_id
        self._known: dict[str, LinkedProduct | None] = {}

    def prefetch(self, skus: Iterable[str]) -> None:
        wanted = {sku for sku in skus if sku not in self._known}
        for chunk in batched(sorted(wanted), 500):
            found = self._links(chunk)
            for sku, product in self._by_sku(chunk).items():
                found.setdefault(sku, product)
            for sku, product in self._by_supplier_id(chunk).items():
                found.setdefault(sku, product)
            for sku in chunk:
                self._known[sku] = found.get(sku)

    def get(self, sku: str) -> LinkedProduct | None:
        if sku not in self._known:
            self.prefetch([sku])
        return self._known[sku]

    def _links(self, skus: list[str]) -> dict[str, LinkedProduct]:
        rows = self.session.execute(
            select(SkuLink.channel_sku, SkuLink.channel_id, *PRODUCT_COLUMNS)
            .join(Product, Product.id == SkuLink.product_id)
            .where(
                SkuLink.channel_sku.in_(skus),
                or_(SkuLink.channel_id == self.channel_id, SkuLink.channel_id.is_(None)),
            )
            # the channel's own link (not NULL) before a link for every channel
            .order_by(SkuLink.channel_id.is_(None))
        )
        found: dict[str, LinkedProduct] = {}
        for row in rows:
            found.setdefault(row[0], LinkedProduct(*row[2:]))
        return found

    def _by_sku(self, skus: list[str]) -> dict[str, LinkedProduct]:
        rows = self.session.execute(select(*PRODUCT_COLUMNS).where(Product.sku.in_(skus)))
        return {row.sku: LinkedProduct(*row) for row in rows}

    def _by_supplier_id(self, skus: list[str]) -> dict[str, LinkedProduct]:
        rows = self.session.execute(
            select(*PRODUCT_COLUMNS).where(Product.supplier_product_id.in_(skus))
        ).all()
        counts: dict[str, int] = {}
        for row in rows:
            counts[row.supplier_product_id] = counts.get(row.supplier_product_id, 0) + 1
        # A supplier product id two suppliers share says nothing: leave it to a link.
        return {
            row.supplier_product_id: LinkedProduct(*row)
            for row in rows
            if counts[row.supplier_product_id] == 1
        }


def link(ws: Workspace, channel_sku: str, sku: str, channel: str | None) -> dict[str, Any]:
    with ws.uow() as uow:
        session = uow.session
        product = session.scalar(select(Product).where(Product.sku == sku))
        if product is None:
            raise NotFound(f"unknown SKU {sku!r}; see `avasam products list --search`")
        channel_id = None if channel is None else get_channel(session, channel).id
        existing = session.scalar(
            select(SkuLink).where(SkuLink.channel_sku == channel_sku, _same_channel(channel_id))
        )
        if existing is not None and existing.product_id != product.id:
            raise Conflict(
                f"{channel_sku!r} is already linked to another product; "
                f"unlink it first with `avasam products unlink {channel_sku}`"
            )
        if existing is None:
            session.add(
                SkuLink(
                    channel_id=channel_id,
                    channel_sku=channel_sku,
                    product_id=product.id,
                    created_at=ws.now(),
                )
            )
        uow.commit()
        return {"channel_sku": channel_sku, "sku": sku, "channel": channel or "all"}


def unlink(ws: Workspace, channel_sku: str, channel: str | None) -> None:
    with ws.uow() as uow:
        session = uow.session
        channel_id = None if channel is None else get_channel(session, channel).id
        existing = session.scalar(
            select(SkuLink).where(SkuLink.channel_sku == channel_sku, _same_channel(channel_id))
        )
        if existing is None:
            where = f" for channel {channel}" if channel else ""
            raise NotFound(f"{channel_sku!r} has no link{where}; see `avasam products links`")
        session.delete(existing)
        uow.commit()


def list_links(ws: Workspace) -> Iterator[dict[str, Any]]:
    with ws.uow(read_only=True) as uow:
        rows = uow.session.execute(
            select(SkuLink.channel_sku, Channel.name, Product.sku, Product.title, Supplier.code)
            .join(Product, Product.id == SkuLink.product_id)
            .join(Supplier, Supplier.id == Product.supplier_id)
            .outerjoin(Channel, Channel.id == SkuLink.channel_id)
            .order_by(SkuLink.channel_sku, func.coalesce(Channel.name, ""))
        )
        for channel_sku, channel, sku, title, supplier in rows:
            yield {
                "channel_sku": channel_sku,
                "channel": channel or "all",
                "sku": sku,
                "title": title,
                "supplier": supplier,
            }


def _same_channel(channel_id: int | None) -> Any:
    return SkuLink.channel_id.is_(None) if channel_id is None else SkuLink.channel_id == channel_id
