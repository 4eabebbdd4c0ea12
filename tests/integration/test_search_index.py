"""Issue 12: title search through an index, same orders as the folded-substring rule; every
search form planned on indexes at a realistic size; the read path never loads SQLAlchemy."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from avasam_cli.core.services import order_search
from avasam_cli.core.textfold import fold_text
from tests.helpers import add_waiting_order, execute, json_rows, set_up_catalogue
from tests.support import Cli

pytestmark = pytest.mark.parametrize("db_url", ["sqlite", "postgresql"], indirect=True)

TITLES = [
    "Café Crème Table",
    "STRASSE-Lamp 🍕 deluxe",
    "Łódź rug (large)",
    "50% off_chair",
    "back\\slash stool",
    "Ørsted naïve oak DESK",
    "Pizza 🍕 oven, stone",
    "ﬁne Ｆｕｌｌ-width mug",
    "Straße lamp",
    "oak desk",
    "TV",
]
SEARCHES = [
    "cafe",
    "CAFÉ crème",
    "table cafe",
    "strasse",
    "STRAẞE",
    "lodz",
    "łódź RUG",
    "🍕",
    "50%",
    "off_",
    "%",
    "_",
    "back\\slash",
    "-lamp",
    "(large)",
    "oak desk",
    "desk oak",
    "naive",
    "fine full",
    "tv",
    "t",
    "é",
    'quote"d',
    "zzqx nothing",
    "oak zzqx",
    "\u0301",  # a lone combining accent: nothing once folded
    "🍕🍕🍕",
    "lamp 🍕",
]


def _reference(search: str, titles: dict[str, str]) -> set[str]:
    """The rule: every folded word is a substring of one line's folded title."""
    words = fold_text(search).split()
    if not words:
        return set()
    return {ref for ref, title in titles.items() if all(w in fold_text(title) for w in words)}


def _old_like(search: str, titles: dict[str, str]) -> set[str]:
    """What the LIKE search found before the index: lower-cased substrings, no folding."""
    words = search.lower().split()
    if not fold_text(search).split():
        return set()
    return {ref for ref, title in titles.items() if all(w in title.lower() for w in words)}


def _found(cli: Cli, search: str) -> set[str]:
    run = cli.ok(
        "orders", "list", "--status", "matching", "--search", search, "--all", "-f", "json"
    )
    return {row["channel_reference"] for row in json.loads(run.stdout)}


@pytest.mark.parametrize("plan", ["index", "walk"])
def test_title_search_finds_folded_substrings_of_one_line(
    cli: Cli, db_url: str, monkeypatch: pytest.MonkeyPatch, plan: str
) -> None:
    titles = {f"T-{n:02d}": title for n, title in enumerate(TITLES)}
    for ref, title in titles.items():
        add_waiting_order(db_url, ref, channel_sku=f"SKU-{ref}")
        execute(
            db_url,
            f"UPDATE order_lines SET title = '{title.replace(chr(39), chr(39) * 2)}', "
            f"search_title = '{fold_text(title).replace(chr(39), chr(39) * 2)}' "
            f"WHERE channel_sku = 'SKU-{ref}'",
        )
    # "walk" makes every word common: the orders are walked and their lines checked.
    monkeypatch.setattr(order_search, "COMMON", 0 if plan == "walk" else 10**9)
    for search in SEARCHES:
        found = _found(cli, search)
        assert found == _reference(search, titles), search
        assert found >= _old_like(search, titles), search  # folding only ever finds more


def test_a_title_changed_by_matching_is_found_by_its_new_words(
    cli: Cli, db_url: str, tmp_path: Path
) -> None:
    set_up_catalogue(cli, tmp_path, balance=None)
    add_waiting_order(db_url, "R-1", channel_sku="OAK-TABLE-01")
    assert _found(cli, "mystery lamp") == {"R-1"}
    cli.ok("orders", "match")  # the line takes the product's title
    rows = json_rows(cli.ok("orders", "list", "--search", "oak", "-f", "jsonl").stdout)
    assert [row["channel_reference"] for row in rows] == ["R-1"]
    assert cli.ok("orders", "list", "--search", "mystery", "--count").stdout == "0\n"


def test_a_title_written_through_the_orm_refreshes_its_search_form(cli: Cli, db_url: str) -> None:
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from avasam_cli.core.db import make_engine
    from avasam_cli.core.models import OrderLine

    add_waiting_order(db_url, "R-2")
    engine = make_engine(db_url)
    with Session(engine) as session:
        line = session.scalars(select(OrderLine)).one()
        line.title = "Crème Brûlée Torch"  # as a channel's change of a title is written
        session.commit()
    engine.dispose()
    assert _found(cli, "creme brulee") == {"R-2"}
    assert _found(cli, "mystery") == set()


READ_COMMANDS = [
    ["orders", "list", "--search", "lamp", "--status", "matching"],
    ["orders", "list", "--search", "R-3", "--status", "matching"],
    ["orders", "list", "--count"],
    [
        "orders",
        "list",
        "--status",
        "open",
        "--payment",
        "paid",
        "--from",
        "2026-11-01",
        "-f",
        "json",
    ],
    ["orders", "show", "R-3"],
    ["orders", "audit", "R-3"],
]


@pytest.mark.parametrize("args", READ_COMMANDS, ids=lambda a: " ".join(a[:3]))
def test_the_read_commands_never_import_sqlalchemy(db_url: str, args: list[str]) -> None:
    """The light read path: importing SQLAlchemy and mapping the models would cost most
    of the 0.25 s these commands have at a million orders."""
    add_waiting_order(db_url, "R-3")
    probe = (
        "import sys\n"
        "from avasam_cli.main import app\n"
        "try:\n"
        f"    app({args!r}, prog_name='avasam')\n"
        "except SystemExit as exc:\n"
        "    code = exc.code\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] == 'sqlalchemy')\n"
        "print('EXIT', code, 'LOADED', len(loaded), loaded[:3], file=sys.stderr)\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=False
    )
    assert "EXIT 0 LOADED 0 []" in run.stderr, run.stderr
    assert run.stdout.strip()  # it did answer


# --- query plans at a realistic size ------------------------------------------------------

ORDERS = 30_000


def _series(dialect: str, count: int) -> str:
    if dialect == "sqlite":
        return (
            "(WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s "
            f"WHERE i < {count}) SELECT i FROM s) AS n"
        )
    return f"generate_series(1, {count}) AS n(i)"


def _moment(dialect: str, seconds: str) -> str:
    if dialect == "sqlite":
        return f"strftime('%Y-%m-%d %H:%M:%S', {seconds}, 'unixepoch') || '.000000'"
    return f"to_timestamp({seconds})"


def _fill(url: str) -> None:
    """30,000 orders of 2 lines (2,000 products, statuses as a real seller's), ANALYZEd:
    enough rows that a planner which would scan says so."""
    dialect = "sqlite" if url.startswith("sqlite") else "postgresql"
    now = _moment(dialect, "1764000000")
    placed = _moment(dialect, "1735689600 + n.i * 1800")
    status = (
        "CASE WHEN n.i % 100 < 70 THEN 'dispatched' WHEN n.i % 100 < 82 THEN 'open' "
        "WHEN n.i % 100 < 90 THEN 'cancelled' WHEN n.i % 100 < 95 THEN 'queue' "
        "WHEN n.i % 100 < 98 THEN 'held' ELSE 'matching' END"
    )
    payment = (
        "CASE WHEN n.i % 100 < 82 THEN 'paid' WHEN n.i % 100 < 90 THEN 'refunded' ELSE 'unpaid' END"
    )
    item = (
        "CASE n.i % 5 WHEN 0 THEN 'table' WHEN 1 THEN 'chair' WHEN 2 THEN 'lamp' "
        "WHEN 3 THEN 'rug' ELSE 'desk' END"
    )
    statements = [
        "INSERT INTO suppliers (id, code, name, international, excluded_postcodes, created_at) "
        f"VALUES (1, 'GEN', 'Generated', false, '', {_moment(dialect, '1735689600')})",
        "INSERT INTO products (id, supplier_id, supplier_product_id, sku, title, stock, "
        "price_pence, rrp_pence, vat_rate_bp, updated_at) SELECT n.i, 1, 'P' || n.i, "
        f"'SKU-' || n.i, 'w' || n.i || ' ' || {item}, 10, 1000, NULL, 2000, {now} "
        f"FROM {_series(dialect, 2000)}",
        "INSERT INTO source_orders (id, channel_id, external_id, reference, content_hash, "
        f"downloaded_at) SELECT n.i, 1, 'gen-' || n.i, NULL, NULL, {now} "
        f"FROM {_series(dialect, ORDERS)}",
        "INSERT INTO orders (id, source_order_id, channel_id, channel_reference, supplier_id, "
        "number, status, payment_status, shipping_status, placed_at, downloaded_at, name, "
        "address1, city, postcode, country, items_pence, shipping_pence, vat_pence, "
        "total_pence, currency, note_count, item_count, updated_at) "
        "SELECT n.i, n.i, 1, 'CH-' || n.i, 1, "
        f"CASE WHEN n.i % 100 < 90 THEN 'AV' || substr('000000' || n.i, -7, 7) END, "
        f"{status}, {payment}, 'unshipped', {placed}, {placed}, 'Ann Lee', '1 High St', "
        f"'Hull', 'HU1 1AA', 'GB', 1000, 499, 300, 1799, 'GBP', 0, 2, {now} "
        f"FROM {_series(dialect, ORDERS)}",
        "INSERT INTO order_lines (id, order_id, line_no, channel_sku, product_id, sku, "
        "supplier_product_id, title, search_title, quantity, unit_price_pence, vat_rate_bp, "
        "line_vat_pence, line_total_pence) SELECT n.i, (n.i + 1) / 2, 2 - n.i % 2, "
        "'CSKU-' || (n.i % 3000), n.i % 2000 + 1, 'SKU-' || (n.i % 2000 + 1), "
        f"'P' || (n.i % 2000 + 1), 'w' || (n.i % 2000 + 1) || ' ' || {item}, "
        f"'w' || (n.i % 2000 + 1) || ' ' || {item}, 1, 1000, 2000, 200, 1200 "
        f"FROM {_series(dialect, 2 * ORDERS)}",
        "UPDATE order_lines SET title = 'Zebra print rug', search_title = 'zebra print rug' "
        "WHERE id = 777",
    ]
    if dialect == "postgresql":  # PostgreSQL's substr takes no negative start
        statements = [
            s.replace("substr('000000' || n.i, -7, 7)", "lpad(n.i::text, 7, '0')")
            for s in statements
        ]
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    with engine.begin() as conn:
        for statement in statements:
            conn.execute(text(statement))
        conn.execute(text("ANALYZE"))
    engine.dispose()


SEARCH_FORMS: dict[str, dict[str, Any]] = {
    "order number": {"search": "AV0012345"},
    "channel reference": {"search": "CH-4242"},
    "sku": {"search": "SKU-913"},
    "supplier product id": {"search": "P913"},
    "channel sku": {"search": "CSKU-77"},
    "rare title word": {"search": "zebra"},
    "absent title word": {"search": "zzqx nothing"},
    "common title word": {"search": "table"},
    "filtered list": {"statuses": ["open"], "payment": "paid"},
    "filtered search": {"search": "SKU-913", "statuses": ["open"], "payment": "paid"},
}


def _plans(url: str, form: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """EXPLAIN of every statement `orders list` runs for `form`, one text per node."""
    from avasam_cli.core.config import Settings
    from avasam_cli.core.lightdb import LightDB
    from avasam_cli.core.workspace import Workspace

    seen: list[tuple[str, list[Any]]] = []
    original_stream, original_scalar = LightDB.stream, LightDB.scalar

    def stream(self: LightDB, sql: str, params: Any = ()) -> Any:
        seen.append((sql, list(params)))
        return original_stream(self, sql, params)

    def scalar(self: LightDB, sql: str, params: Any = ()) -> Any:
        if "order_lines_fts" not in sql or "orders" in sql:
            seen.append((sql, list(params)))
        return original_scalar(self, sql, params)

    monkeypatch.setattr(LightDB, "stream", stream)
    monkeypatch.setattr(LightDB, "scalar", scalar)
    ws = Workspace(Settings.resolve(url))
    try:
        list(order_search.list_orders(ws, order_search.OrderQuery(**form)))
        db = ws.light()
        nodes: list[str] = []
        for sql, params in seen:
            if db.dialect == "sqlite":
                nodes += [row[3] for row in db.rows(f"EXPLAIN QUERY PLAN {sql}", params)]
            else:
                [(plan,)] = db.rows(f"EXPLAIN (FORMAT JSON) {sql}", params)
                plan = json.loads(plan) if isinstance(plan, str) else plan
                nodes += _pg_nodes(plan[0]["Plan"])
        return nodes
    finally:
        ws.close()


def _pg_nodes(node: dict[str, Any]) -> list[str]:
    text = f"{node['Node Type']} on {node.get('Relation Name', '-')} as {node.get('Parent Relationship', '-')}"
    return [text] + [t for child in node.get("Plans", []) for t in _pg_nodes(child)]


def test_every_search_form_reads_through_indexes(
    cli: Cli, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fill(db_url)
    walks = {"common title word", "filtered list"}  # may walk the sort's index, then stop
    for name, form in SEARCH_FORMS.items():
        nodes = _plans(db_url, form, monkeypatch)
        assert nodes, name
        for node in nodes:
            assert "SubPlan" not in node, (name, nodes)  # never once per order row
            assert not node.startswith("Seq Scan on orders"), (name, nodes)
            assert not node.startswith("Seq Scan on order_lines"), (name, nodes)
            assert node not in ("SCAN o", "SCAN l", "SCAN orders", "SCAN order_lines"), (
                name,
                nodes,
            )
            if name not in walks:
                assert not node.startswith("SCAN o "), (name, nodes)
    # and the answers are right at this size
    assert cli.ok("orders", "list", "--search", "zebra", "-f", "json").stdout.count('"id"') == 1
    found = json.loads(
        cli.ok("orders", "list", "--search", "SKU-913", "--all", "-f", "json").stdout
    )
    assert found and all(row["status"] != "matching" for row in found)


IDLE_JOBS = [
    ["orders", "match"],
    ["orders", "process"],
    ["exports", "run", "--due"],
    ["imports", "run", "--due"],
    ["channels", "pull", "--all"],
    ["channels", "pull", "drop"],
    ["channels", "push"],
]


@pytest.mark.parametrize("args", IDLE_JOBS, ids=lambda a: " ".join(a))
def test_an_idle_cron_job_never_imports_sqlalchemy_and_is_recorded(
    cli: Cli, db_url: str, args: list[str], tmp_path: Path
) -> None:
    """Cron runs these every few minutes for ever; with nothing to do they take the light
    path, job lock and run record included."""
    (tmp_path / "drop").mkdir()
    (tmp_path / "drop" / ".hidden.csv.part").write_text("being written")
    cli.ok("channels", "add", "drop", "--type", "file", "--path", str(tmp_path / "drop"))
    probe = (
        "import sys\n"
        "from avasam_cli.main import app\n"
        "try:\n"
        f"    app(['--cron', *{args!r}], prog_name='avasam')\n"
        "except SystemExit as exc:\n"
        "    code = exc.code\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] == 'sqlalchemy')\n"
        "print('EXIT', code, 'LOADED', len(loaded), file=sys.stderr)\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=False
    )
    assert run.stderr == "EXIT 0 LOADED 0\n"
    assert run.stdout == ""  # quiet under cron
    jobs = {j["job"]: j for j in json.loads(cli.ok("status", "-f", "json").stdout)["jobs"]}
    name = {"orders": args[1], "channels": args[1]}.get(args[0], args[0])
    assert jobs[name]["outcome"] == "ok" and jobs[name]["last_run"]
