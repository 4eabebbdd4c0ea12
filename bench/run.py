"""Run every figure of issue 12 on SQLite and on PostgreSQL; rewrite bench/README.md.

    python bench/run.py --pg-orders 1000000 --runs 5            # a quick run, ~15 min
    python bench/run.py --reuse /tmp/bench10m                   # 10M on PostgreSQL
    python bench/run.py --sqlite-only --reuse /tmp/bench1m

Every figure is a whole `avasam` process with AVASAM_DATABASE_URL set, as a user waits
for it: one warm-up run, then the median of --runs runs, each capped at --timeout seconds
(a run over the cap is recorded as "> CAP s", missed). Beside it, the floor: the same SQL
in the `sqlite3` shell or `psql`, timed the same way in the same run.

Workspaces (built with bench/generate.py --settled, so no order waits for a cron job):
a 1M-order SQLite file and an N-order PostgreSQL database on a throwaway server started
as the tests start theirs (tests/support.py). With --reuse DIR they are kept in DIR (the
PostgreSQL one as a `pg_dump` archive, restored on the next run) and reused; without it
they are built in a temporary folder and deleted at the end. bench/pull.py and
bench/exports.py are run as they are and their table rows copied in.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
README = BENCH / "README.md"
PYTHON = sys.executable
AVASAM = (
    [str(Path(PYTHON).parent / "avasam")]
    if (Path(PYTHON).parent / "avasam").exists()
    else [PYTHON, "-m", "avasam_cli"]
)
LIST_COLUMNS = "id, number, channel_reference, placed_at, name, item_count, total_pence, status"
VISIBLE = "status != 'matching'"
# October 2026 in Europe/London, as UTC: BST until 25 October.
MONTH = ("2026-09-30 23:00:00", "2026-11-01 00:00:00")
SKU = "SKU-00247"
SUPPLIER_PRODUCT_ID = "P000913"
RARE = "walnut towel rail"  # one product of 2,000 (and its Large variant): 0.1% of lines
COMMON = "table"  # 7 items of 50: 14% of lines
ABSENT = "zzqx nothing"


# --- databases --------------------------------------------------------------------------


@dataclass
class Db:
    """One workspace under test: how avasam reaches it and how its floor runs SQL."""

    kind: str  # "sqlite" or "postgres"
    url: str  # AVASAM_DATABASE_URL
    orders: int
    built: str  # how the workspace was made, for the README
    sample: str = ""  # an order number for `orders show` / `orders audit`
    sample_id: int = 0

    @property
    def title(self) -> str:
        name = "SQLite" if self.kind == "sqlite" else "PostgreSQL"
        return f"{name}, {self.orders:,} orders"

    @property
    def key(self) -> str:
        return f"{self.kind}-{_short(self.orders)}"

    def run_sql(self, sql: str, *, stream: bool = False) -> list[str]:
        """The shell command that runs `sql`; `stream` (one statement only): psql fetches
        100 rows at a time, so it prints its first row as soon as it has it."""
        if self.kind == "sqlite":
            return ["sqlite3", self.url.removeprefix("sqlite:///"), sql]
        fetch = ["-v", "FETCH_COUNT=100"] if stream else []
        return ["psql", "-X", "-q", "-A", "-t", *fetch, "-d", _libpq(self.url), "-c", sql]

    def at(self, text: str) -> str:
        """A UTC timestamp literal as this database stores it."""
        return f"'{text}.000000'" if self.kind == "sqlite" else f"'{text}+00'"

    def query(self, sql: str) -> str:
        done = subprocess.run(self.run_sql(sql), capture_output=True, text=True, check=True)
        return done.stdout.strip()


def _libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def _short(orders: int) -> str:
    return f"{orders // 1_000_000}m" if orders % 1_000_000 == 0 else str(orders)


# --- the cases --------------------------------------------------------------------------


@dataclass
class Case:
    name: str
    argv: Callable[[Db], list[str]]
    target: Callable[[Db], float]
    floor: Callable[[Db], str | None]  # SQL for the shell, or None (floor: python -c pass)
    exits: tuple[int, ...] = (0,)  # exit codes of a successful run


def fast(db: Db) -> float:
    """List, search and count: 0.25 s on SQLite, 0.5 s on PostgreSQL."""
    return 0.25 if db.kind == "sqlite" else 0.5


def title(db: Db) -> float:
    return 0.3 if db.kind == "sqlite" else 0.5


def fixed(seconds: float) -> Callable[[Db], float]:
    return lambda _db: seconds


def month(db: Db) -> str:
    return f"placed_at >= {db.at(MONTH[0])} AND placed_at < {db.at(MONTH[1])}"


def listing(where: str) -> str:
    return f"SELECT {LIST_COLUMNS} FROM orders WHERE {where} ORDER BY placed_at DESC LIMIT 50"


def search_sql(db: Db, term: str) -> str:
    """Index lookups, one per form a search term can take, joined by UNION."""
    return listing(
        f"{VISIBLE} AND id IN (SELECT id FROM orders WHERE number = '{term}' "
        f"UNION SELECT id FROM orders WHERE channel_reference = '{term}' "
        "UNION SELECT order_id FROM order_lines WHERE product_id IN (SELECT id FROM products "
        f"WHERE sku = '{term}' UNION SELECT id FROM products WHERE supplier_product_id = "
        f"'{term}') UNION SELECT order_id FROM order_lines WHERE channel_sku = '{term}')"
    )


def title_sql(db: Db, phrase: str) -> str:
    words = phrase.split()
    if db.kind == "sqlite":
        match = " AND ".join(f'"{word}"' for word in words)
        lines = (
            "SELECT order_id FROM order_lines WHERE id IN (SELECT rowid FROM order_lines_fts "
            f"WHERE order_lines_fts MATCH '{match}')"
        )
    else:
        likes = " AND ".join(f"search_title LIKE '%{word}%'" for word in words)
        lines = f"SELECT order_id FROM order_lines WHERE {likes}"
    return listing(f"{VISIBLE} AND id IN ({lines})")


def show_sql(db: Db) -> str:
    return (
        f"SELECT * FROM orders WHERE number = '{db.sample}'; "
        f"SELECT * FROM order_lines WHERE order_id = {db.sample_id} ORDER BY line_no; "
        f"SELECT * FROM order_events WHERE order_id = {db.sample_id} ORDER BY at, id; "
        f"SELECT * FROM order_notes WHERE order_id = {db.sample_id}"
    )


def status_sql(db: Db) -> str:
    """The counts `avasam status` shows, as it asks for them today."""
    stale = db.at("2026-11-27 00:00:00")
    return (
        "SELECT balance_pence FROM accounts WHERE id = 1; "
        "SELECT count(*) FROM orders WHERE status = 'unmatched'; "
        "SELECT count(*) FROM orders WHERE status = 'held'; "
        "SELECT hold_reason, count(*) FROM orders WHERE status = 'held' GROUP BY hold_reason; "
        "SELECT count(*) FROM orders WHERE status = 'queue' AND payment_error IS NOT NULL; "
        "SELECT count(*) FROM tickets WHERE status = 'open'; "
        "SELECT count(DISTINCT order_id) FROM order_events e WHERE event = "
        "'channel_change_ignored' AND NOT EXISTS (SELECT 1 FROM tickets t WHERE "
        "t.order_id = e.order_id AND t.created_at >= e.at); "
        "SELECT count(*) FROM orders WHERE status = 'open' AND payment_status = 'paid' AND "
        f"paid_at < {stale}; "
        "SELECT * FROM job_runs ORDER BY id DESC LIMIT 4"
    )


LIST = ["orders", "list"]
FILTERS = ["--payment", "paid", "--from", "2026-10-01", "--to", "2026-10-31"]
CASES = [
    Case(
        "filtered list: status + payment + one month, 50 rows",
        lambda db: [*LIST, "--status", "dispatched", *FILTERS],
        fast,
        lambda db: listing(f"status = 'dispatched' AND payment_status = 'paid' AND {month(db)}"),
    ),
    Case(
        f"`--search {SKU}` (a SKU)",
        lambda db: [*LIST, "--search", SKU],
        fast,
        lambda db: search_sql(db, SKU),
    ),
    Case(
        f"`--search {SUPPLIER_PRODUCT_ID}` (a supplier product id)",
        lambda db: [*LIST, "--search", SUPPLIER_PRODUCT_ID],
        fast,
        lambda db: search_sql(db, SUPPLIER_PRODUCT_ID),
    ),
    Case(
        f'`--search "{RARE}"` (rare title words, 0.1% of lines)',
        lambda db: [*LIST, "--search", RARE],
        title,
        lambda db: title_sql(db, RARE),
    ),
    Case(
        f'`--search "{COMMON}"` (a common title word, 14% of lines)',
        lambda db: [*LIST, "--search", COMMON],
        title,
        lambda db: title_sql(db, COMMON),
    ),
    Case(
        f'`--search "{ABSENT}"` (an absent phrase)',
        lambda db: [*LIST, "--search", ABSENT],
        title,
        lambda db: title_sql(db, ABSENT),
    ),
    Case(
        "`--count` (every visible order)",
        lambda db: [*LIST, "--count"],
        fast,
        lambda db: f"SELECT count(*) FROM orders WHERE {VISIBLE}",
    ),
    Case(
        "`--count`, filtered (status + payment + one month)",
        lambda db: [*LIST, "--count", "--status", "open", *FILTERS],
        fast,
        lambda db: (
            f"SELECT count(*) FROM orders WHERE status = 'open' AND payment_status = 'paid' "
            f"AND {month(db)}"
        ),
    ),
    Case("`orders show`", lambda db: ["orders", "show", db.sample], fixed(0.25), show_sql),
    Case(
        "`orders audit`",
        lambda db: ["orders", "audit", db.sample],
        fixed(0.25),
        lambda db: f"SELECT * FROM order_events WHERE order_id = {db.sample_id} ORDER BY at, id",
    ),
    # `status` exits 1 when something needs attention (the generated orders include
    # unmatched ones).
    Case("`status`", lambda db: ["status"], fixed(0.5), status_sql, exits=(0, 1)),
    Case(
        "idle `orders match` (no order waiting)",
        lambda db: ["orders", "match"],
        fixed(0.3),
        lambda db: "SELECT id FROM orders WHERE status = 'matching' ORDER BY id",
    ),
    Case(
        "idle `orders process` (nothing queued)",
        lambda db: ["orders", "process"],
        fixed(0.3),
        lambda db: (
            "SELECT id FROM orders WHERE status IN ('queue', 'held') "
            "AND payment_status = 'unpaid' ORDER BY id"
        ),
    ),
    Case(
        "idle `exports run --due` (nothing due)",
        lambda db: ["exports", "run", "--due"],
        fixed(0.3),
        lambda db: "SELECT * FROM export_targets WHERE enabled AND schedule IS NOT NULL",
    ),
    Case(
        "idle `channels pull bench` (an empty drop)",
        lambda db: ["channels", "pull", "bench"],
        fixed(0.3),
        lambda db: "SELECT * FROM channels WHERE name = 'bench'",
    ),
    Case("`avasam --help`", lambda db: ["--help"], fixed(0.1), lambda db: None),
]
JSONL_SQL = f"SELECT {LIST_COLUMNS} FROM orders WHERE {VISIBLE} ORDER BY placed_at DESC, id DESC"


# --- timing -----------------------------------------------------------------------------


@dataclass
class Timing:
    median: float | None = None  # None: no figure (see note)
    note: str = ""  # "> 60 s" when a run hit the cap, "failed: ..." when it failed

    def show(self) -> str:
        return self.note if self.median is None else f"{self.median:.3f} s"


@dataclass
class Settings:
    runs: int
    cap: float
    env: dict[str, str] = field(default_factory=dict)


def timed(command: list[str], settings: Settings, exits: tuple[int, ...] = (0,)) -> Timing:
    """One warm-up run, then the median of `runs` runs; the first failure or overrun ends it."""
    samples: list[float] = []
    for n in range(settings.runs + 1):
        started = time.perf_counter()
        try:
            done = subprocess.run(
                command,
                env=settings.env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                timeout=settings.cap,
                check=False,
            )
        except subprocess.TimeoutExpired:
            return Timing(note=f"> {settings.cap:.0f} s")
        if done.returncode not in exits:
            lines = done.stderr.decode(errors="replace").strip().splitlines() or ["(no message)"]
            message = lines[-1][:120].replace("|", "/")
            return Timing(note=f"failed (exit {done.returncode}): {message}")
        if n:
            samples.append(time.perf_counter() - started)
    return Timing(statistics.median(samples))


@dataclass
class Row:
    case: str
    target: str
    ours: Timing
    floor: Timing | None
    verdict: str


def verdict(ours: Timing, target: float) -> str:
    if ours.median is None:
        return "missed" if ours.note.startswith(">") else "not run"
    if ours.median <= target:
        return "met"
    return f"missed by {ours.median - target:.2f} s"


def run_cases(db: Db, settings: Settings) -> list[Row]:
    settings.env["AVASAM_DATABASE_URL"] = db.url
    rows = []
    for case in CASES:
        _say(f"  {db.key}: {case.name}")
        ours = timed([*AVASAM, *case.argv(db)], settings, case.exits)
        sql = case.floor(db)
        floor = timed(db.run_sql(sql) if sql else [PYTHON, "-c", "pass"], settings)
        target = case.target(db)
        rows.append(Row(case.name, f"<= {target} s", ours, floor, verdict(ours, target)))
        _say(f"    {ours.show()} (floor {floor.show()}) {rows[-1].verdict}")
    rows.extend(streaming(db, settings))
    return rows


def first_row(command: list[str], settings: Settings) -> float | None:
    """Seconds until the first line of output, then the process is stopped; None on overrun."""
    started = time.perf_counter()
    proc = subprocess.Popen(command, env=settings.env, stdout=subprocess.PIPE)
    assert proc.stdout is not None
    deadline = time.monotonic() + settings.cap
    line = b""
    while time.monotonic() < deadline and not line:
        line = proc.stdout.readline()
        if not line and proc.poll() is not None:
            break
    seconds = time.perf_counter() - started
    proc.kill()
    proc.communicate()
    return seconds if line else None


def median_first_row(command: list[str], settings: Settings) -> Timing:
    samples = []
    for n in range(settings.runs + 1):
        seconds = first_row(command, settings)
        if seconds is None:
            return Timing(note=f"> {settings.cap:.0f} s")
        if n:
            samples.append(seconds)
    return Timing(statistics.median(samples))


def whole_stream(command: list[str], settings: Settings, cap: float) -> tuple[float, int, int]:
    """One full run: seconds, rows, peak RSS in KiB (from wait4, so also when stopped)."""
    started = time.perf_counter()
    proc = subprocess.Popen(command, env=settings.env, stdout=subprocess.PIPE)
    assert proc.stdout is not None
    rows = 0
    deadline = time.monotonic() + cap
    for _ in proc.stdout:
        rows += 1
        if rows % 10_000 == 0 and time.monotonic() > deadline:
            proc.kill()
            break
    proc.stdout.close()
    _, _, usage = os.wait4(proc.pid, 0)
    proc.returncode = 0
    return time.perf_counter() - started, rows, usage.ru_maxrss


def streaming(db: Db, settings: Settings) -> list[Row]:
    _say(f"  {db.key}: orders list --all -f jsonl")
    command = [*AVASAM, "orders", "list", "--all", "-f", "jsonl"]
    first = median_first_row(command, settings)
    floor = median_first_row(db.run_sql(JSONL_SQL, stream=True), settings)
    cap = max(settings.cap, 1200.0)
    seconds, rows, rss = whole_stream(command, settings, cap)
    whole = "all" if seconds < cap else f"stopped after {cap:.0f} s at"
    mib = rss / 1024
    return [
        Row(
            "`orders list --all -f jsonl`: first row",
            "<= 0.3 s",
            first,
            floor,
            verdict(first, 0.3),
        ),
        Row(
            f"`orders list --all -f jsonl`: peak RSS ({whole} {rows:,} rows in {seconds:.0f} s)",
            "<= 80 MB",
            Timing(note=f"{mib:.0f} MiB"),
            None,
            "met" if mib * 1.048576 <= 80 else f"missed by {mib * 1.048576 - 80:.0f} MB",
        ),
    ]


# --- workspaces -------------------------------------------------------------------------


def sqlite_workspace(workdir: Path, orders: int, drop: Path) -> Db:
    path = workdir / f"sqlite-{_short(orders)}" / "orders.db"
    built = f"reused {path}"
    if not path.exists():
        _say(f"generating {orders:,} orders into {path}")
        seconds = _generate(str(path), orders, drop)
        built = f"generated in {seconds:.0f} s"
    _migrate(f"sqlite:///{path}")
    return _sampled(Db("sqlite", f"sqlite:///{path}", orders, built))


def postgres_workspace(server_url: str, orders: int, workdir: Path, drop: Path, keep: bool) -> Db:
    """bench_N on the server: there already (a --pg-url server), restored from DIR's archive,
    or generated (and archived in DIR when keep)."""
    name = f"bench_{_short(orders)}"
    url = f"{server_url.rstrip('/').rsplit('/', 1)[0]}/{name}"
    archive = workdir / f"postgres-{_short(orders)}.dump"
    admin = Db("postgres", f"{server_url.rstrip('/').rsplit('/', 1)[0]}/postgres", orders, "")
    exists = admin.query(f"SELECT count(*) FROM pg_database WHERE datname = '{name}'") == "1"
    if exists:
        built = f"reused database {name}"
    elif archive.exists():
        _say(f"restoring {archive}")
        started = time.perf_counter()
        admin.query(f"CREATE DATABASE {name}")
        subprocess.run(
            ["pg_restore", "-j", "2", "-d", _libpq(url), str(archive)],
            check=True,
        )
        Db("postgres", url, orders, "").query("VACUUM ANALYZE")
        built = f"restored from {archive} in {time.perf_counter() - started:.0f} s"
    else:
        _say(f"generating {orders:,} orders into {name}")
        seconds = _generate(url, orders, drop)
        built = f"generated in {seconds:.0f} s"
        if keep:
            _say(f"archiving it to {archive}")
            subprocess.run(
                ["pg_dump", "-Fc", "-Z", "1", "-f", str(archive), "-d", _libpq(url)], check=True
            )
    _migrate(url)
    return _sampled(Db("postgres", url, orders, built))


def _migrate(url: str) -> None:
    """A reused workspace built by an older avasam: `avasam init` brings it to the head."""
    env = {**os.environ, "AVASAM_DATABASE_URL": url}
    subprocess.run([*AVASAM, "init"], env=env, check=True, stdout=subprocess.DEVNULL)


def _generate(target: str, orders: int, drop: Path) -> float:
    started = time.perf_counter()
    subprocess.run(
        [
            PYTHON,
            str(BENCH / "generate.py"),
            target,
            "--orders",
            str(orders),
            "--settled",
            "--drop",
            str(drop),
        ],
        check=True,
    )
    return time.perf_counter() - started


def _sampled(db: Db) -> Db:
    """An order half-way through the ids with a number, for `orders show` and `audit`."""
    found = db.query(
        f"SELECT id, number FROM orders WHERE id >= {db.orders // 2} AND number IS NOT NULL "
        "ORDER BY id LIMIT 1"
    )
    sample_id, db.sample = found.split("|")
    db.sample_id = int(sample_id)
    return db


@contextmanager
def postgres_server(url: str | None) -> Iterator[str]:
    """The URL of a server's `postgres` database: the one given, or a throwaway one."""
    if url:
        yield url
        return
    sys.path.insert(0, str(REPO))
    from tests.support import start_postgres

    with start_postgres() as pg:
        yield pg.url("postgres")


# --- the other scripts ------------------------------------------------------------------


def scripts(timeout: float, pg_admin: str | None) -> list[str]:
    """Table rows printed by bench/pull.py and bench/exports.py (on SQLite, and on
    PostgreSQL when a server is given), or why they did not run."""
    runs: list[tuple[str, list[str]]] = [
        ("bench/pull.py, SQLite", ["pull.py"]),
        ("bench/exports.py, SQLite", ["exports.py"]),
    ]
    if pg_admin:
        runs += [
            ("bench/pull.py, PostgreSQL", ["pull.py", "--postgres"]),
            ("bench/exports.py, PostgreSQL", ["exports.py", "--postgres", pg_admin]),
        ]
    rows = []
    for name, argv in runs:
        _say(f"  {name}")
        rows.append(f"| **{name}** | | | |")
        command = [PYTHON, str(BENCH / argv[0]), *argv[1:], "--orders", "100000"]
        try:
            done = subprocess.run(
                command, capture_output=True, text=True, timeout=timeout, check=False
            )
        except subprocess.TimeoutExpired:
            rows.append(f"| {name} | not run: no result within {timeout:.0f} s | | |")
            continue
        found = [
            line
            for line in done.stdout.splitlines()
            if line.startswith("|") and not line.startswith(("| case |", "| --- |"))
        ]
        if done.returncode != 0 or not found:
            lines = done.stderr.strip().splitlines() or ["no output"]
            reason = lines[-1][:160].replace("|", "/")
            rows.append(f"| {name} | not run: {reason} | | |")
        rows.extend(found)
    return rows


# --- the README -------------------------------------------------------------------------


def machine() -> str:
    cpu = "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    versions = ", ".join(
        f"{name} {metadata.version(name)}" for name in ("SQLAlchemy", "typer", "psycopg")
    )
    sqlite = subprocess.run(["sqlite3", "--version"], capture_output=True, text=True).stdout
    return (
        f"Machine: {cpu}, {os.cpu_count()} cores, {memory:.0f} GiB, Linux "
        f"{platform.release()}; Python {platform.python_version()}, {versions}, SQLite "
        f"{sqlite.split()[0] if sqlite else '?'}."
    )


def table(db: Db, rows: list[Row], settings: Settings) -> str:
    floor = "sqlite3 shell" if db.kind == "sqlite" else "psql"
    load = ", ".join(f"{n:.1f}" for n in os.getloadavg())
    out = [
        f"{db.title} ({db.built}); run of {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, median of "
        f"{settings.runs} runs after a warm-up, each capped at {settings.cap:.0f} s; load "
        f"average at the end {load}:",
        "",
        f"| case | target | avasam (median) | floor: same SQL in {floor} | result |",
        "| --- | --- | --- | --- | --- |",
    ]
    for row in rows:
        floor_text = row.floor.show() if row.floor else "-"
        out.append(
            f"| {row.case} | {row.target} | {row.ours.show()} | {floor_text} | {row.verdict} |"
        )
    out.append("")
    out.append(
        "Floor of `avasam --help`: `python -c pass`. Floor of the first jsonl row: the first "
        "row of the same query from the shell."
    )
    return "\n".join(out)


def rewrite(blocks: dict[str, str]) -> None:
    """Replace each `<!-- run.py:KEY -->` ... `<!-- /run.py:KEY -->` block (or append it)."""
    text = README.read_text(encoding="utf-8")
    for key, body in blocks.items():
        start, end = f"<!-- run.py:{key} -->", f"<!-- /run.py:{key} -->"
        block = f"{start}\n{body}\n{end}"
        if start in text and end in text:
            text = text[: text.index(start)] + block + text[text.index(end) + len(end) :]
        else:
            text = text.rstrip("\n") + f"\n\n{block}\n"
    README.write_text(text, encoding="utf-8")


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


# --- main -------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(
        description=(__doc__ or "").splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="\n".join((__doc__ or "").splitlines()[1:]),
    )
    parser.add_argument("--sqlite-only", action="store_true", help="skip PostgreSQL")
    parser.add_argument("--postgres-only", action="store_true", help="skip SQLite")
    parser.add_argument("--pg-orders", type=int, default=10_000_000, metavar="N")
    parser.add_argument("--sqlite-orders", type=int, default=1_000_000, metavar="N")
    parser.add_argument("--runs", type=int, default=5, metavar="N")
    parser.add_argument("--timeout", type=float, default=60.0, help="cap of each run, seconds")
    parser.add_argument("--reuse", type=Path, metavar="DIR", help="keep and reuse workspaces")
    parser.add_argument(
        "--pg-url", help="use this PostgreSQL server (its `postgres` database URL) instead"
    )
    parser.add_argument(
        "--skip-scripts", action="store_true", help="do not run bench/pull.py, bench/exports.py"
    )
    parser.add_argument(
        "--scripts-only", action="store_true", help="only bench/pull.py and bench/exports.py"
    )
    parser.add_argument("--no-readme", action="store_true", help="print, do not rewrite")
    args = parser.parse_args()
    if args.runs < 5:
        parser.error("--runs: medians need at least 5 runs")

    workdir = args.reuse or Path(tempfile.mkdtemp(prefix="avasam-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    drop = workdir / "drop"
    drop.mkdir(exist_ok=True)
    xdg = workdir / "xdg"
    env = {
        **os.environ,
        "AVASAM_TIMEZONE": "Europe/London",
        "XDG_CONFIG_HOME": str(xdg / "config"),
        "XDG_STATE_HOME": str(xdg / "state"),
        "XDG_DATA_HOME": str(xdg / "data"),
    }
    settings = Settings(args.runs, args.timeout, env)
    blocks: dict[str, str] = {}
    try:
        if not (args.postgres_only or args.scripts_only):
            db = sqlite_workspace(workdir, args.sqlite_orders, drop)
            blocks[db.key] = table(db, run_cases(db, settings), settings)
            _say(blocks[db.key])
        with ExitStack() as stack:
            pg = None if args.sqlite_only else stack.enter_context(postgres_server(args.pg_url))
            if pg and not args.scripts_only:
                db = postgres_workspace(pg, args.pg_orders, workdir, drop, args.reuse is not None)
                db.built += f"; PostgreSQL {db.query('SHOW server_version').split()[0]}"
                blocks[db.key] = table(db, run_cases(db, settings), settings)
                _say(blocks[db.key])
            if not args.skip_scripts:
                rows = scripts(max(args.timeout, 1800.0), pg)
                blocks["scripts"] = "\n".join(
                    [
                        f"Run of {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, 100,000 orders (the "
                        "scripts' own medians and floors):",
                        "",
                        "| case | avasam | peak RSS | floor |",
                        "| --- | --- | --- | --- |",
                        *rows,
                    ]
                )
                _say(blocks["scripts"])
        blocks["machine"] = machine()
    finally:
        if args.reuse is None:
            shutil.rmtree(workdir, ignore_errors=True)
    if not args.no_readme:
        rewrite(blocks)


if __name__ == "__main__":
    main()
