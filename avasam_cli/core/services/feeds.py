"""Import feed settings: where a supplier leaves its dispatch confirmations or its stock
and price files, which files to take, what to do with them afterwards, and when.

The mirror of exports (services/exports.py); the server settings are shared through
services/remote.py. Secrets are referenced, never stored.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, select, true
from sqlalchemy.orm import Session

from avasam_cli.core.errors import Conflict, InvalidInput, NotFound
from avasam_cli.core.models import ImportFeed
from avasam_cli.core.schedule import parse_schedule
from avasam_cli.core.services.lookup import NAME, get_supplier
from avasam_cli.core.services.remote import RemoteSettings, apply_remote, auth_text, location
from avasam_cli.core.services.remote import target_of as remote_target
from avasam_cli.core.statuses import FeedAfter, FeedKind
from avasam_cli.core.transports import Target
from avasam_cli.core.workspace import Workspace

DISPATCH_COLUMNS = ("OrderNumber", "Status", "TrackingNumber", "Carrier")
STOCK_COLUMNS = (
    "ProductId",
    "StockQuantity",
    "PriceExclVAT",
    "RRPExclVAT",
    "VAT%Rate",
    "SKU",
    "Title",
)
OUR_COLUMNS = {FeedKind.DISPATCHES: DISPATCH_COLUMNS, FeedKind.STOCK: STOCK_COLUMNS}
# Names a supplier's software gives a file it is still writing; never taken.
PARTIAL_SUFFIXES = (".part", ".partial", ".filepart", ".tmp", ".temp", ".crdownload", ".lock")
PROCESSED, REJECTED = "processed", "rejected"


@dataclass
class FeedSettings(RemoteSettings):
    """What `imports add` and `imports edit` may set; None leaves a setting as it is."""

    supplier: str | None = None
    kind: str | None = None
    pattern: str | None = None
    columns: str | None = None
    after: str | None = None
    schedule: str | None = None


def get_feed(session: Session, name: str) -> ImportFeed:
    feed = session.scalar(select(ImportFeed).where(ImportFeed.name == name))
    if feed is None or not NAME.match(name):  # a removed feed's name never matches
        raise NotFound(f"no import {name!r}; see `avasam imports list`")
    return feed


def check_names(ws: Workspace, names: list[str]) -> None:
    """NotFound for the first name that is no import."""
    with ws.uow(read_only=True) as uow:
        for name in names:
            get_feed(uow.session, name)


def add_feed(ws: Workspace, name: str, settings: FeedSettings) -> dict[str, Any]:
    if not NAME.match(name):
        raise InvalidInput(f"import name {name!r} must be 1-64 letters, digits, '-', '_' or '.'")
    with ws.uow() as uow:
        if uow.session.scalar(select(ImportFeed.id).where(ImportFeed.name == name)):
            raise Conflict(f"import {name} already exists; change it with `avasam imports edit`")
        feed = ImportFeed(
            name=name,
            remote_dir=".",
            pattern="*.csv",
            after=FeedAfter.ARCHIVE,
            passive=True,
            insecure_tls=False,
            enabled=True,
            created_at=ws.now(),
        )
        _apply(uow.session, feed, settings, new=True)
        uow.session.add(feed)
        uow.commit()
        return feed_row(feed, ws)


def edit_feed(ws: Workspace, name: str, settings: FeedSettings) -> dict[str, Any]:
    with ws.uow() as uow:
        feed = get_feed(uow.session, name)
        _apply(uow.session, feed, settings, new=False)
        uow.commit()
        return feed_row(feed, ws)


def list_feeds(ws: Workspace) -> list[dict[str, Any]]:
    with ws.uow(read_only=True) as uow:
        feeds = uow.session.scalars(
            select(ImportFeed).where(ImportFeed.name.not_like("% (removed %")).order_by("name")
        )
        return [feed_row(feed, ws) for feed in feeds]


def show_feed(ws: Workspace, name: str) -> dict[str, Any]:
    with ws.uow(read_only=True) as uow:
        return feed_row(get_feed(uow.session, name), ws)


def remove_feed(ws: Workspace, name: str) -> None:
    with ws.uow() as uow:
        feed = get_feed(uow.session, name)
        feed.enabled = False
        feed.name = f"{name} (removed {feed.id})"  # its file history stays
        uow.commit()


def set_enabled(ws: Workspace, name: str, enabled: bool) -> None:
    with ws.uow() as uow:
        feed = get_feed(uow.session, name)
        feed.enabled = enabled
        if enabled:
            _check_no_overlap(uow.session, feed)
        uow.commit()


def target_of(feed: ImportFeed) -> Target:
    return remote_target(feed, "import")


def column_names(feed: ImportFeed) -> dict[str, str]:
    """Our column name -> the supplier's, from `--columns`."""
    return parse_columns(feed.columns or "", FeedKind(feed.kind))


def parse_columns(text: str, kind: FeedKind) -> dict[str, str]:
    """`--columns OrderNumber=Order,TrackingNumber=Tracking`: ours=theirs, comma-separated."""
    ours = OUR_COLUMNS[kind]
    renamed: dict[str, str] = {}
    for pair in filter(None, (part.strip() for part in text.split(","))):
        our, sep, their = (part.strip() for part in pair.partition("="))
        match = [name for name in ours if name.lower() == our.lower()]
        if not sep or not their or not match:
            raise InvalidInput(
                f"--columns {pair!r}: write OURS=THEIRS, where OURS is one of "
                f"{', '.join(ours)} (a {kind} file's columns)"
            )
        if not their.isprintable() or len(their) > 100:
            raise InvalidInput(f"--columns {pair!r}: the supplier's name must be plain text")
        if match[0] in renamed:
            raise InvalidInput(f"--columns names {match[0]} twice")
        renamed[match[0]] = their
    # Each of our columns must read a column of its own: two read from one, or one read
    # from a column that is another of ours, would silently apply the wrong values.
    read_from = [_key(renamed.get(name, name)) for name in ours]
    for name in ours:
        if read_from.count(_key(renamed.get(name, name))) > 1:
            raise InvalidInput(
                f"--columns: {renamed.get(name, name)!r} would be read as two columns; "
                "give each column its own name"
            )
    return renamed


def _key(name: str) -> str:
    """A header name as files are matched (csvfile: case, spaces and '_' ignored)."""
    return name.strip().lower().replace(" ", "").replace("_", "")


def is_partial(name: str) -> bool:
    """A file the supplier is still writing, by its name: hidden, or a partial suffix."""
    return name.startswith(".") or name.lower().endswith(PARTIAL_SUFFIXES)


def matches(feed_pattern: str, name: str) -> bool:
    """The feed takes this file: its pattern matches, ignoring case (`*.csv` takes
    `DISPATCH.CSV`), and the name does not mark it as partial."""
    return fnmatch.fnmatchcase(name.casefold(), feed_pattern.casefold()) and not is_partial(name)


def feed_row(feed: ImportFeed, ws: Workspace) -> dict[str, Any]:
    next_run = None
    if feed.schedule and feed.enabled:
        next_run = parse_schedule(feed.schedule).next_after(ws.now(), ws.timezone)
    return {
        "name": feed.name,
        "supplier": feed.supplier.code if feed.supplier else None,
        "kind": feed.kind,
        "protocol": feed.protocol,
        "source": location(feed),
        "pattern": feed.pattern,
        "columns": feed.columns or None,
        "after": feed.after,
        "authentication": auth_text(feed),
        "schedule": feed.schedule,
        "enabled": feed.enabled,
        "last_run_at": feed.last_run_at,
        "last_error": feed.last_error,
        "next_run_at": next_run,
    }


def _apply(session: Session, feed: ImportFeed, s: FeedSettings, *, new: bool) -> None:
    if s.supplier is not None:
        feed.supplier = get_supplier(session, s.supplier)
        feed.supplier_id = feed.supplier.id
    elif new:
        raise InvalidInput("an import needs --supplier CODE")
    if s.kind is not None:
        if s.kind not in tuple(FeedKind):
            raise InvalidInput(f"--kind must be one of {', '.join(FeedKind)}")
        if not new and s.kind != feed.kind and feed.columns and s.columns is None:
            raise InvalidInput("--kind changes the columns; give --columns '' with it")
        feed.kind = s.kind
    elif new:
        raise InvalidInput("an import needs --kind dispatches|stock")
    apply_remote(feed, s, new=new, noun="import")
    if s.pattern is not None:
        pattern = s.pattern.strip()
        if not pattern or "/" in pattern or len(pattern) > 200 or not pattern.isprintable():
            raise InvalidInput(
                f"--pattern {s.pattern!r} must be a file name pattern like '*.csv' "
                "(no folders; up to 200 characters)"
            )
        feed.pattern = pattern
    if s.columns is not None:
        parse_columns(s.columns, FeedKind(feed.kind))
        feed.columns = s.columns.strip() or None
    if s.after is not None:
        if s.after not in tuple(FeedAfter):
            raise InvalidInput(f"--after must be one of {', '.join(FeedAfter)}")
        feed.after = s.after
    if s.schedule is not None:
        feed.schedule = parse_schedule(s.schedule).text if s.schedule.strip() else None
    _check_no_overlap(session, feed)


def _disjoint(one: str, other: str) -> bool:
    """Can no file name match both patterns? Sure only when their fixed starts (the text
    before the first wildcard) or their fixed ends differ: `dispatch-*.csv` and
    `stock-*.csv`, or `*.csv` and `*.txt`; `dispatch*` and `*.csv` may share a file."""
    wild = re.compile(r"[*?\[]")

    def start(pattern: str) -> str:
        return wild.split(pattern.casefold(), maxsplit=1)[0]

    def end(pattern: str) -> str:
        return wild.split(pattern.casefold())[-1]

    a, b = start(one), start(other)
    if not (a.startswith(b) or b.startswith(a)):
        return True
    a, b = end(one), end(other)
    return not (a.endswith(b) or b.endswith(a))


def same_place(feed: ImportFeed) -> Any:
    """The condition for the feeds (removed ones too) reading the folder `feed` reads."""
    return and_(
        ImportFeed.protocol == feed.protocol,
        ImportFeed.host.is_(None) if feed.host is None else ImportFeed.host == feed.host,
        ImportFeed.port.is_(None) if feed.port is None else ImportFeed.port == feed.port,
        ImportFeed.remote_dir == feed.remote_dir,
    )


def _check_no_overlap(session: Session, feed: ImportFeed) -> None:
    """Two enabled feeds on one folder must not take the same files: the first to run would
    apply (or reject as the wrong kind) the other's files."""
    others = session.scalars(
        select(ImportFeed).where(
            same_place(feed),
            ImportFeed.enabled.is_(True),
            ImportFeed.id != feed.id if feed.id is not None else true(),
        )
    )
    for other in others:
        if other.name.endswith(")") and " (removed " in other.name:
            continue
        if not _disjoint(feed.pattern, other.pattern):
            raise Conflict(
                f"import {other.name} already takes {other.pattern!r} from this folder; give "
                "each import a pattern of its own (e.g. 'dispatch-*.csv' and 'stock-*.csv')"
            )
