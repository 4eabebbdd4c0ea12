"""Import feeds: suppliers' dispatch and stock files fetched from a folder, FTP, FTPS and
SFTP (real servers on loopback), each applied exactly once."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select

from avasam_cli.core.models import ImportFile, OrderEvent
from tests.fakes.ftp_server import PASSWORD, USER, FtpServer, serve_ftp
from tests.fakes.sshd import SshServer, serve_sshd
from tests.helpers import add_order, bulk_open_orders, json_rows, set_up_catalogue, snapshot, write
from tests.support import Cli

SQLITE_ONLY = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
HEADER = "OrderNumber,Status,TrackingNumber,Carrier\n"


@pytest.fixture
def shop(cli: Cli, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Cli:
    """OAKCO with two open (paid, passed to the supplier) manual orders, AV0000001-2."""
    monkeypatch.setenv("FEED_PASSWORD", PASSWORD)
    monkeypatch.setenv("AVASAM_EXPORT_BACKOFF", "0")
    monkeypatch.setenv("AVASAM_EXPORT_TIMEOUT", "5")
    set_up_catalogue(cli, tmp_path, balance="1000")
    add_order(cli, reference="R1")
    add_order(cli, item="OAK-TABLE-01", reference="R2")
    cli.ok("orders", "process")
    return cli


def add_folder_feed(cli: Cli, folder: Path, *extra: str, kind: str = "dispatches") -> None:
    folder.mkdir(exist_ok=True)
    cli.ok(
        "imports",
        "add",
        "oak",
        "--supplier",
        "OAKCO",
        "--kind",
        kind,
        "--protocol",
        "file",
        "--remote-dir",
        str(folder),
        *extra,
    )


def run_rows(cli: Cli, *args: str) -> list[dict]:  # type: ignore[type-arg]
    return json_rows(cli.ok("imports", "run", *args, "-f", "jsonl").stdout)


def show(cli: Cli, order: str) -> dict:  # type: ignore[type-arg]
    return json.loads(cli.ok("orders", "show", order, "-f", "json").stdout)  # type: ignore[no-any-return]


def files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def later(monkeypatch: pytest.MonkeyPatch, minutes: int) -> None:
    """The clock `minutes` from now (AVASAM_NOW): a schedule comes due without waiting."""
    moment = datetime.now(UTC) + timedelta(minutes=minutes)
    monkeypatch.setenv("AVASAM_NOW", moment.isoformat(timespec="seconds"))


def sftp_feed(
    cli: Cli, sshd: SshServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, folder: str
) -> Path:
    """An empty folder of the SFTP user and a dispatches import `oak` reading it, with the
    server's key trusted; the folder's local path."""
    monkeypatch.setenv("SFTP_PASSWORD", sshd.password)
    path = sshd.home / folder
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir()
    shutil.chown(path, "avasamsftp", "avasamsftp")
    known = tmp_path / "known_hosts"
    known.write_text(f"[127.0.0.1]:{sshd.port} {sshd.host_public_line}\n")
    cli.ok(
        "imports", "add", "oak", "--supplier", "OAKCO", "--kind", "dispatches",
        "--protocol", "sftp", "--host", "127.0.0.1", "--port", str(sshd.port),
        "--username", "avasamsftp", "--password-env", "SFTP_PASSWORD",
        "--known-hosts", str(known), "--remote-dir", folder,
    )  # fmt: skip
    return path


def count_events(url: str, event: str) -> int:
    engine = create_engine(url)
    with engine.connect() as conn:
        found = conn.scalar(select(func.count()).where(OrderEvent.event == event))
    engine.dispose()
    return int(found or 0)


def test_a_dispatch_file_dispatches_once_and_is_archived(
    shop: Cli, tmp_path: Path, db_url: str
) -> None:
    inbox = tmp_path / "outbound"
    add_folder_feed(shop, inbox)
    write(
        inbox / "dispatch-1.csv",
        HEADER + "AV0000001,SHIPPED,TRK-1,DPD\nAV0000099,SHIPPED,TRK-9,DPD\n,SHIPPED,X,Y\n",
    )
    (inbox / "notes.txt").write_text("not a csv")  # outside the pattern: left alone
    [row] = run_rows(shop, "oak")
    assert (row["file"], row["outcome"], row["rows"], row["changed"], row["problems"]) == (
        "dispatch-1.csv",
        "applied",
        3,
        1,
        2,
    )
    order = show(shop, "AV0000001")
    assert (order["status"], order["tracking_number"], order["carrier"]) == (
        "dispatched",
        "TRK-1",
        "DPD",
    )
    assert show(shop, "AV0000002")["status"] == "open"
    assert files(inbox) == ["notes.txt", "processed"]
    assert files(inbox / "processed") == ["dispatch-1.csv"]
    audit = json_rows(shop.ok("orders", "audit", "AV0000001", "-f", "jsonl").stdout)
    assert audit[-1]["event"] == "dispatched"
    assert "import oak, file dispatch-1.csv" in json.dumps(audit[-1])

    before = snapshot(db_url)
    again = shop.ok("imports", "run", "oak")
    assert again.stderr.strip() == "No new files."
    assert snapshot(db_url)["order_events"] == before["order_events"]

    history = json_rows(shop.ok("imports", "history", "oak", "-f", "jsonl").stdout)
    assert [(h["file"], h["outcome"], h["problems"]) for h in history] == [
        ("dispatch-1.csv", "applied", 2)
    ]
    assert history[0]["archived_at"] is not None
    problems = json_rows(
        shop.ok(
            "imports", "history", "oak", "--file", str(history[0]["file_id"]), "-f", "jsonl"
        ).stdout
    )
    assert [(p["line"], p["ref"]) for p in problems] == [(3, "AV0000099"), (4, None)]
    assert "no order 'AV0000099' of this supplier" in problems[0]["problem"]
    assert "is empty" in problems[1]["problem"]


def test_supplier_column_names_references_and_cancels(
    shop: Cli, tmp_path: Path, db_url: str
) -> None:
    inbox = tmp_path / "outbound"
    add_folder_feed(
        shop,
        inbox,
        "--columns",
        "OrderNumber=Order Ref, TrackingNumber=Tracking,Status=State",
        "--pattern",
        "conf-*.csv",
    )
    balance_before = json.loads(shop.ok("account", "balance", "-f", "json").stdout)[0]["balance"]
    write(
        inbox / "conf-1.csv",
        "Order Ref,State,Tracking,Carrier\nR1,dispatched,TRK-R1,Royal Mail\nR2,Cancelled,,\n",
    )
    [row] = run_rows(shop, "oak")
    assert (row["outcome"], row["changed"], row["problems"]) == ("applied", 2, 0)
    assert show(shop, "R1")["tracking_number"] == "TRK-R1"
    cancelled = show(shop, "R2")
    assert (cancelled["status"], cancelled["cancel_reason"], cancelled["payment_status"]) == (
        "cancelled",
        "supplier_cancelled",
        "refunded",
    )
    balance_after = json.loads(shop.ok("account", "balance", "-f", "json").stdout)[0]["balance"]
    assert float(balance_after) > float(balance_before)  # the table order was refunded
    # a file with our own names is now missing the supplier's columns: rejected whole
    write(inbox / "conf-2.csv", HEADER + "AV0000001,SHIPPED,T,C\n")
    failed = shop("imports", "run", "oak")
    assert failed.exit_code == 1
    assert "Error: import oak: file conf-2.csv has no column Order Ref, State, Tracking" in (
        failed.stderr
    )
    assert files(inbox / "rejected") == ["conf-2.csv"]


def test_a_file_that_cannot_be_read_is_rejected_and_changes_nothing(
    shop: Cli, tmp_path: Path, db_url: str
) -> None:
    inbox = tmp_path / "outbound"
    add_folder_feed(shop, inbox)
    (inbox / "broken.csv").write_bytes(
        HEADER.encode() + b"AV0000001,SHIPPED,TRK-1,DPD\nAV0000002,SHIPPED,\xff\xfe,DPD\n"
    )
    before = snapshot(db_url)
    failed = shop("imports", "run", "oak", "-f", "jsonl")
    assert failed.exit_code == 1
    assert [line for line in failed.stderr.splitlines() if line.startswith("Error:")] == [
        "Error: import oak: file broken.csv, line 3: not UTF-8 text; save the file as UTF-8"
    ]
    after = snapshot(db_url)
    for table in ("orders", "order_events", "channel_updates", "ledger_entries"):
        assert after[table] == before[table], table
    assert files(inbox) == ["rejected"]
    assert files(inbox / "rejected") == ["broken.csv"]
    [record] = json_rows(shop.ok("imports", "history", "oak", "-f", "jsonl").stdout)
    assert (record["outcome"], record["reason"]) == (
        "rejected",
        "broken.csv, line 3: not UTF-8 text; save the file as UTF-8",
    )
    status = shop("status", "-f", "json")
    assert status.exit_code == 1
    assert json.loads(status.stdout)["attention"]["rejected_import_files"] == 1
    # the supplier sends it again, fixed, under the same name: applied
    write(inbox / "broken.csv", HEADER + "AV0000001,SHIPPED,TRK-1,DPD\n")
    [row] = run_rows(shop, "oak")
    assert (row["outcome"], row["changed"]) == ("applied", 1)
    assert files(inbox / "rejected") == ["broken.csv"]
    assert files(inbox / "processed") == ["broken.csv"]


def test_partial_files_wait_until_complete(shop: Cli, tmp_path: Path) -> None:
    inbox = tmp_path / "outbound"
    add_folder_feed(shop, inbox)
    for name in (".dispatch.csv", "dispatch.csv.part", "dispatch.csv.filepart"):
        write(inbox / name, HEADER + "AV0000001,SHIPPED,TRK-1,DPD\n")
    assert shop.ok("imports", "run", "oak").stderr.strip() == "No new files."
    assert show(shop, "AV0000001")["status"] == "open"
    os.rename(inbox / "dispatch.csv.part", inbox / "dispatch.csv")
    [row] = run_rows(shop, "oak")
    assert (row["file"], row["outcome"]) == ("dispatch.csv", "applied")
    assert show(shop, "AV0000001")["status"] == "dispatched"


def test_keep_remembers_files_and_delete_removes_them(
    shop: Cli, tmp_path: Path, db_url: str
) -> None:
    inbox = tmp_path / "outbound"
    add_folder_feed(shop, inbox, "--after", "keep")
    write(inbox / "d.csv", HEADER + "AV0000001,SHIPPED,TRK-1,DPD\n")
    assert [r["outcome"] for r in run_rows(shop, "oak")] == ["applied"]
    assert shop.ok("imports", "run", "oak").stderr.strip() == "No new files."
    assert files(inbox) == ["d.csv"]
    # the same name with new content (and time) is a new file
    write(inbox / "d.csv", HEADER + "AV0000001,SHIPPED,TRK-1,DPD\nAV0000002,SHIPPED,TRK-2,\n")
    os.utime(inbox / "d.csv", (time.time() + 5, time.time() + 5))
    [row] = run_rows(shop, "oak")
    assert (row["changed"], row["unchanged"]) == (1, 1)
    assert count_events(db_url, "dispatched") == 2

    shop.ok("imports", "edit", "oak", "--after", "delete")
    write(inbox / "e.csv", HEADER + "AV0000002,SHIPPED,TRK-2,\n")
    # the kept file was applied: deleting applied files now deletes it too, unapplied
    rows = run_rows(shop, "oak")
    assert sorted((r["file"], r["outcome"], r["unchanged"]) for r in rows) == [
        ("d.csv", "seen", 0),
        ("e.csv", "applied", 1),
    ]
    assert files(inbox) == []
    assert count_events(db_url, "dispatched") == 2


def test_a_stock_file_releases_an_out_of_stock_hold_and_never_reprices_an_invoice(
    cli: Cli, tmp_path: Path, db_url: str
) -> None:
    set_up_catalogue(cli, tmp_path, balance="1000")  # OAK-SHELF-03 has no stock
    add_order(cli, item="OAK-SHELF-03", reference="SHELF")
    add_order(cli, item="OAK-CHAIR-02:1", reference="CHAIR")
    cli.ok("orders", "process")
    shelf = show(cli, "SHELF")
    assert (shelf["status"], shelf["hold_reason"]) == ("held", "out_of_stock")
    chair_total = show(cli, "CHAIR")["totals"]
    feeds = tmp_path / "stock"
    add_folder_feed(cli, feeds, "--columns", "StockQuantity=Qty", kind="stock")
    write(
        feeds / "stock-1.csv",
        "SKU,Qty,PriceExclVAT\nOAK-SHELF-03,7,\nOAK-CHAIR-02,39,99.00\nNOPE-1,3,\n",
    )
    [row] = run_rows(cli, "oak")
    assert (row["outcome"], row["changed"], row["problems"]) == ("applied", 2, 1)
    product = json.loads(cli.ok("products", "show", "OAK-SHELF-03", "-f", "json").stdout)
    assert (product["stock"], product["price_ex_vat"]) == (7, "18.25")  # empty cell: kept
    history = json_rows(cli.ok("products", "history", "OAK-CHAIR-02", "-f", "jsonl").stdout)
    assert history[0]["source"] == "import oak, file stock-1.csv"
    assert history[0]["changes"] == "stock 39 -> 39, price 35.50 -> 99.00" or (
        history[0]["changes"] == "price 35.50 -> 99.00"
    )
    assert show(cli, "CHAIR")["totals"] == chair_total  # invoiced before: never repriced
    cli.ok("orders", "process")
    shelf = show(cli, "SHELF")
    assert (shelf["status"], shelf["payment_status"]) == ("open", "paid")
    events = [
        e["event"] for e in json_rows(cli.ok("orders", "audit", "SHELF", "-f", "jsonl").stdout)
    ]
    assert "released" in events and events[-1] == "passed_to_supplier"


def test_a_dispatch_file_tells_the_sales_channel_once(
    cli: Cli, tmp_path: Path, db_url: str
) -> None:
    set_up_catalogue(cli, tmp_path, balance="1000")
    bulk_open_orders(cli, tmp_path, 3)
    numbers = [o["number"] for o in json_rows(cli.ok("orders", "list", "-f", "jsonl").stdout)]
    inbox = tmp_path / "outbound"
    add_folder_feed(cli, inbox)
    write(
        inbox / "d.csv",
        HEADER
        + "".join(f"{n},SHIPPED,T-{n},DPD\n" for n in numbers)
        + f"{numbers[0]},SHIPPED,T-{numbers[0]},DPD\n",
    )
    [row] = run_rows(cli, "oak")
    assert (row["changed"], row["unchanged"]) == (3, 1)
    updates = json_rows(cli.ok("channels", "updates", "-f", "jsonl").stdout)
    assert sorted(u["tracking_number"] for u in updates) == sorted(f"T-{n}" for n in numbers)


def test_imports_run_due_in_cron_and_status(
    shop: Cli, tmp_path: Path, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    inbox = tmp_path / "outbound"
    add_folder_feed(shop, inbox, "--schedule", "*/15 * * * *")
    block = shop.ok("cron", "show").stdout
    assert "imports run --due" in block
    write(inbox / "d.csv", HEADER + "AV0000001,SHIPPED,TRK-1,DPD\n")
    assert shop.ok("imports", "run", "--due").stderr.strip() == "No imports due."
    later(monkeypatch, 16)  # a quarter-hour slot has passed
    shop.ok("imports", "run", "--due")
    assert show(shop, "AV0000001")["status"] == "dispatched"
    assert shop.ok("imports", "run", "--due").stderr.strip() == "No imports due."
    # a feed whose folder is gone fails, and status says so until a good run
    shop.ok(
        "imports",
        "add",
        "gone",
        "--supplier",
        "OAKCO",
        "--kind",
        "stock",
        "--protocol",
        "file",
        "--remote-dir",
        str(tmp_path / "gone"),
    )
    failed = shop("imports", "run", "gone")
    assert failed.exit_code == 1
    assert failed.stderr.strip().endswith(
        f"Error: import gone: folder {tmp_path / 'gone'} does not exist"
    )
    status = shop("status", "-f", "json")
    assert status.exit_code == 1
    assert json.loads(status.stdout)["attention"]["failed_imports"] == ["gone"]
    (tmp_path / "gone").mkdir()
    shop.ok("imports", "run", "gone")
    assert json.loads(shop.ok("status", "-f", "json").stdout)["attention"]["failed_imports"] == []


def test_bad_settings_are_refused(shop: Cli, tmp_path: Path, db_url: str) -> None:
    before = snapshot(db_url)
    base = [
        "imports",
        "add",
        "x",
        "--supplier",
        "OAKCO",
        "--protocol",
        "file",
        "--remote-dir",
        str(tmp_path),
    ]
    cases = {
        (*base,): "Error: an import needs --kind dispatches|stock\n",
        (*base, "--kind", "stock", "--columns", "Nope=Qty"): (
            "Error: --columns 'Nope=Qty': write OURS=THEIRS, where OURS is one of ProductId, "
            "StockQuantity, PriceExclVAT, RRPExclVAT, VAT%Rate, SKU, Title (a stock file's "
            "columns)\n"
        ),
        (*base, "--kind", "stock", "--pattern", "../*.csv"): (
            "Error: --pattern '../*.csv' must be a file name pattern like '*.csv' (no folders; "
            "up to 200 characters)\n"
        ),
        (
            "imports",
            "add",
            "x",
            "--supplier",
            "OAKCO",
            "--kind",
            "stock",
            "--protocol",
            "sftp",
            "--host",
            "h",
            "--username",
            "u",
        ): ("Error: an import needs --password-env VAR, --password-file PATH or --key-file PATH\n"),
        ("imports", "run", "nope"): "Error: no import 'nope'; see `avasam imports list`\n",
    }
    for args, message in cases.items():
        run = shop(*args)
        assert (run.exit_code, run.stderr) == (1, message), args
    after = snapshot(db_url)
    assert {k: v for k, v in after.items() if k != "job_runs"} == {
        k: v for k, v in before.items() if k != "job_runs"
    }


@pytest.mark.parametrize("where", ["folder", "sftp"])
def test_a_run_killed_anywhere_applies_each_row_once(
    cli: Cli,
    tmp_path: Path,
    db_url: str,
    where: str,
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    set_up_catalogue(cli, tmp_path, balance="1000")
    bulk_open_orders(cli, tmp_path, 400)
    listed = cli.ok("orders", "list", "--all", "-f", "jsonl", "--limit", "0").stdout
    numbers = [o["number"] for o in json_rows(listed)]
    if where == "sftp":  # the supplier's OpenSSH server
        sshd: SshServer = request.getfixturevalue("sshd")
        inbox = sftp_feed(cli, sshd, tmp_path, monkeypatch, "out-kill")
    else:
        inbox = tmp_path / "outbound"
        add_folder_feed(cli, inbox)
    body = HEADER + "".join(f"{n},SHIPPED,T-{n},DPD\n" for n in numbers)
    killed_mid_file = False
    for delay in (0.0, 0.2, 0.4, 0.6, 0.9, 1.3, 1.8):
        write(inbox / "d.csv", body)
        process = subprocess.Popen(
            [sys.executable, "-m", "avasam_cli", "imports", "run", "oak"],
            env=dict(os.environ),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(delay)  # a kill point, not a clock: every point must be safe
        process.send_signal(signal.SIGKILL)
        process.wait(30)
        if (inbox / "d.csv").exists() and count_events(db_url, "dispatched") == 0:
            killed_mid_file = True
        cli.ok("imports", "run", "oak")  # the next run completes the work
        assert count_events(db_url, "dispatched") == len(numbers)
        assert files(inbox) == ["processed"]
        engine = create_engine(db_url)
        with engine.connect() as conn:
            applied = conn.scalar(select(func.count()).select_from(ImportFile))
        engine.dispose()
        assert applied == 1
        shutil.rmtree(inbox / "processed")
        if killed_mid_file:
            break
    assert killed_mid_file
    # every order dispatched once, and its channel told once
    updates = json_rows(cli.ok("channels", "updates", "-f", "jsonl", "--limit", "0").stdout)
    assert len(updates) == len(numbers)


@pytest.fixture(scope="module")
def sshd() -> Iterator[SshServer]:
    with serve_sshd() as server:
        yield server


def test_done_when_export_to_sftp_then_dispatch_confirmation_back(
    shop: Cli, sshd: SshServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, db_url: str
) -> None:
    monkeypatch.setenv("SFTP_PASSWORD", sshd.password)
    outbound = sshd.home / "out"
    shutil.rmtree(outbound, ignore_errors=True)
    outbound.mkdir()
    shutil.chown(outbound, "avasamsftp", "avasamsftp")
    known = tmp_path / "known_hosts"
    known.write_text(f"[127.0.0.1]:{sshd.port} {sshd.host_public_line}\n")
    common = [
        "--supplier",
        "OAKCO",
        "--protocol",
        "sftp",
        "--host",
        "127.0.0.1",
        "--port",
        str(sshd.port),
        "--username",
        "avasamsftp",
        "--password-env",
        "SFTP_PASSWORD",
        "--known-hosts",
        str(known),
    ]
    shop.ok("exports", "add", "oak-out", *common, "--remote-dir", "in")
    [sent] = json_rows(shop.ok("exports", "run", "oak-out", "-f", "jsonl").stdout)
    assert sent["orders"] == 2
    (sshd.home / "in" / sent["file"]).unlink()
    shop.ok(
        "imports",
        "add",
        "oak-back",
        *common,
        "--kind",
        "dispatches",
        "--remote-dir",
        "out",
        "--schedule",
        "*/10 * * * *",
    )
    steps = shop.ok("imports", "test", "oak-back").stderr
    assert "ok: 0 file(s) in out match '*.csv'" in steps
    write(outbound / "dispatch-001.csv", HEADER + "AV0000001,SHIPPED,TRK-SFTP,DPD\n")
    later(monkeypatch, 11)
    [row] = run_rows(shop, "--due")
    assert (row["import"], row["outcome"], row["changed"]) == ("oak-back", "applied", 1)
    assert show(shop, "AV0000001")["tracking_number"] == "TRK-SFTP"
    assert files(outbound) == ["processed"]
    assert files(outbound / "processed") == ["dispatch-001.csv"]
    assert shop.ok("imports", "run", "oak-back").stderr.strip() == "No new files."
    assert count_events(db_url, "dispatched") == 1
    # a changed host key: refused, the file stays, nothing applied
    write(outbound / "dispatch-002.csv", HEADER + "AV0000002,SHIPPED,TRK-2,DPD\n")
    other = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHbEHv7nNvlPgR5YfnxcuoYsltS3bAPx0aqlN6BHn3UI"
    known.write_text(f"[127.0.0.1]:{sshd.port} {other}\n")
    refused = shop("imports", "run", "oak-back")
    assert refused.exit_code == 1
    assert "CHANGED" in refused.stderr and sshd.password not in refused.stderr
    assert show(shop, "AV0000002")["status"] == "open"
    assert files(outbound) == ["dispatch-002.csv", "processed"]


@pytest.fixture
def ftp(tmp_path: Path) -> Iterator[FtpServer]:
    root = tmp_path / "ftp-root"
    root.mkdir()
    with serve_ftp(root) as server:
        yield server


@SQLITE_ONLY
def test_a_stock_file_over_ftp(shop: Cli, ftp: FtpServer) -> None:
    shop.ok(
        "imports",
        "add",
        "oak-ftp",
        "--supplier",
        "OAKCO",
        "--kind",
        "stock",
        "--protocol",
        "ftp",
        "--host",
        "127.0.0.1",
        "--port",
        str(ftp.port),
        "--username",
        USER,
        "--password-env",
        "FEED_PASSWORD",
    )
    write(ftp.root / "stock.csv", "ProductId,StockQuantity\nOAK-1003,12\n")
    [row] = run_rows(shop, "oak-ftp")
    assert (row["outcome"], row["changed"]) == ("applied", 1)
    assert (
        json.loads(shop.ok("products", "show", "OAK-SHELF-03", "-f", "json").stdout)["stock"] == 12
    )
    assert files(ftp.root) == ["processed"]
    assert files(ftp.root / "processed") == ["stock.csv"]
    write(ftp.root / "stock.csv", "ProductId,StockQuantity\nOAK-1003,11\n")
    [row] = run_rows(shop, "oak-ftp")
    assert row["changed"] == 1
    assert files(ftp.root / "processed") == ["stock.csv", "stock.csv.1"]


def test_a_file_still_growing_waits_for_the_next_run(
    shop: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from avasam_cli.core.transports.local import LocalFolder

    inbox = tmp_path / "outbound"
    add_folder_feed(shop, inbox)
    path = write(inbox / "d.csv", HEADER + "AV0000001,SHIPPED,TRK-1,DPD\n")
    download = LocalFolder.download

    def supplier_still_writing(self: LocalFolder, name: str, local: Path) -> int:
        size = download(self, name, local)
        with path.open("a") as handle:  # the supplier's upload goes on meanwhile
            handle.write("AV0000002,SHIPPED,TRK-2,DPD\n")
        return size

    monkeypatch.setattr(LocalFolder, "download", supplier_still_writing)
    [row] = run_rows(shop, "oak")
    assert (row["outcome"], row["detail"]) == ("skipped", "still being written")
    assert show(shop, "AV0000001")["status"] == "open"
    assert files(inbox) == ["d.csv"]
    monkeypatch.setattr(LocalFolder, "download", download)  # the upload has finished
    [row] = run_rows(shop, "oak")
    assert (row["outcome"], row["changed"]) == ("applied", 2)
    assert [show(shop, n)["status"] for n in ("AV0000001", "AV0000002")] == ["dispatched"] * 2


def test_a_dry_run_says_what_would_change_and_changes_nothing(
    shop: Cli, tmp_path: Path, db_url: str
) -> None:
    inbox = tmp_path / "outbound"
    add_folder_feed(shop, inbox)
    write(inbox / "d.csv", HEADER + "AV0000001,SHIPPED,TRK-1,DPD\nAV0000042,SHIPPED,T,\n")
    before = snapshot(db_url)
    [row] = run_rows(shop, "oak", "--dry-run")
    assert (row["outcome"], row["changed"], row["problems"]) == ("dry_run", 1, 1)
    assert snapshot(db_url) == before
    assert files(inbox) == ["d.csv"]


def test_two_runs_at_once_apply_a_file_once(shop: Cli, tmp_path: Path, db_url: str) -> None:
    """Two hosts (no shared job lock): the file's identity, claimed in the transaction that
    applies it, lets one of them apply it; the other only sees it was applied."""
    import threading

    from avasam_cli.core.config import Settings
    from avasam_cli.core.services.feed_run import run_feed
    from avasam_cli.core.workspace import Workspace

    inbox = tmp_path / "outbound"
    add_folder_feed(shop, inbox)
    write(inbox / "d.csv", HEADER + "AV0000001,SHIPPED,TRK-1,DPD\nAV0000002,SHIPPED,TRK-2,\n")
    results = []

    def one_host() -> None:
        ws = Workspace(Settings.resolve(db_url))
        try:
            results.append(run_feed(ws, "oak"))
        finally:
            ws.close()

    hosts = [threading.Thread(target=one_host) for _ in range(2)]
    for host in hosts:
        host.start()
    for host in hosts:
        host.join(60)
    assert sorted(r.outcome for r in results) in (["ok", "ok"], ["nothing_new", "ok"])
    outcomes = sorted(f.outcome for r in results for f in r.files)
    assert outcomes in (["applied"], ["applied", "seen"])
    assert count_events(db_url, "dispatched") == 2
    assert files(inbox) == ["processed"]
    assert files(inbox / "processed") == ["d.csv"]


@SQLITE_ONLY
def test_an_ftps_stock_feed(shop: Cli, tmp_path: Path) -> None:
    root = tmp_path / "ftps-root"
    root.mkdir()
    with serve_ftp(root, tls=True) as server:
        shop.ok(
            "imports", "add", "oak-ftps", "--supplier", "OAKCO", "--kind", "stock",
            "--protocol", "ftps", "--host", "127.0.0.1", "--port", str(server.port),
            "--username", USER, "--password-env", "FEED_PASSWORD", "--after", "delete",
        )  # fmt: skip
        write(root / "stock.csv", "SKU,StockQuantity\nOAK-SHELF-03,4\n")
        refused = shop("imports", "run", "oak-ftps")
        assert refused.exit_code == 1 and "TLS failed" in refused.stderr
        shop.ok("imports", "edit", "oak-ftps", "--insecure-tls")
        steps = shop.ok("imports", "test", "oak-ftps").stderr
        assert "ok: 1 file(s) in . match '*.csv'" in steps
        assert "ok: can write in . (to delete applied files)" in steps
        [row] = run_rows(shop, "oak-ftps")
        assert (row["outcome"], row["changed"]) == ("applied", 1)
        assert files(root) == []
    product = json.loads(shop.ok("products", "show", "OAK-SHELF-03", "-f", "json").stdout)
    assert product["stock"] == 4


def test_an_unknown_host_key_is_refused_until_trusted(
    shop: Cli, sshd: SshServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SFTP_PASSWORD", sshd.password)
    known = tmp_path / "known_hosts"
    shop.ok(
        "imports", "add", "oak-sftp", "--supplier", "OAKCO", "--kind", "stock",
        "--protocol", "sftp", "--host", "127.0.0.1", "--port", str(sshd.port),
        "--username", "avasamsftp", "--password-env", "SFTP_PASSWORD",
        "--known-hosts", str(known), "--remote-dir", "in", "--pattern", "stock-*.csv",
    )  # fmt: skip
    refused = shop("imports", "test", "oak-sftp")
    assert refused.exit_code == 1
    assert "is not in" in refused.stderr and "`avasam imports trust NAME`" in refused.stderr
    trusted = shop.ok("imports", "trust", "oak-sftp", "--yes")
    assert "The server presents ssh-ed25519 SHA256:" in trusted.stderr
    assert sshd.host_public_line.split()[1] in known.read_text()
    write(sshd.home / "in" / "stock-1.csv", "SKU,StockQuantity\nOAK-TABLE-01,9\n")
    [row] = run_rows(shop, "oak-sftp")
    assert (row["outcome"], row["changed"]) == ("applied", 1)
    assert files(sshd.home / "in" / "processed") == ["stock-1.csv"]
    shutil.rmtree(sshd.home / "in" / "processed")


def test_products_import_takes_a_partial_feed_and_keeps_history(
    cli: Cli, tmp_path: Path, db_url: str
) -> None:
    set_up_catalogue(cli, tmp_path, balance=None)
    partial = write(tmp_path / "prices.csv", "ProductId,PriceExclVAT\nOAK-1001,125.00\n")
    run = cli.ok("products", "import", str(partial), "--supplier", "OAKCO")
    assert run.stderr.strip() == "Imported 0 new and updated 1 product(s)."
    history = json_rows(cli.ok("products", "history", "OAK-TABLE-01", "-f", "jsonl").stdout)
    assert [(h["source"], h["changes"]) for h in history] == [
        ("products import prices.csv", "price 120.00 -> 125.00"),
        ("products import feed.csv", history[1]["changes"]),
    ]
    assert history[1]["changes"].startswith("stock - -> 5, price - -> 120.00")
    unknown = write(tmp_path / "unknown.csv", "SKU,StockQuantity\nNOPE,1\n")
    refused = cli("products", "import", str(unknown), "--supplier", "OAKCO")
    assert refused.exit_code == 1
    assert "the supplier has no product 'NOPE'" in refused.stderr


def test_list_show_disable_enable_remove(
    shop: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OAK_FTP_PASSWORD", "s3cret-never-shown")
    inbox = tmp_path / "outbound"
    add_folder_feed(shop, inbox)
    shop.ok(
        "imports", "add", "oak-ftp", "--supplier", "OAKCO", "--kind", "stock",
        "--protocol", "ftp", "--host", "127.0.0.1", "--port", "1", "--username", "u",
        "--password-env", "OAK_FTP_PASSWORD", "--columns", "StockQuantity=Qty",
    )  # fmt: skip
    listed = json_rows(shop.ok("imports", "list", "-f", "jsonl").stdout)
    assert [(r["name"], r["kind"], r["after"]) for r in listed] == [
        ("oak", "dispatches", "archive"),
        ("oak-ftp", "stock", "archive"),
    ]
    shown = json.loads(shop.ok("imports", "show", "oak-ftp", "-f", "json").stdout)
    assert shown["source"] == "ftp://u@127.0.0.1:1/."
    assert shown["authentication"] == "password from environment variable OAK_FTP_PASSWORD"
    assert shown["columns"] == "StockQuantity=Qty"
    everything = shop.ok("imports", "list").stdout + shop.ok("imports", "show", "oak-ftp").stdout
    assert "s3cret" not in everything
    write(inbox / "d.csv", HEADER + "AV0000001,SHIPPED,TRK-1,DPD\n")
    shop.ok("imports", "disable", "oak-ftp")  # its server is down: --all leaves it out
    assert [r["import"] for r in run_rows(shop, "--all")] == ["oak"]
    shop.ok("imports", "enable", "oak-ftp")
    down = shop("imports", "run", "--all")
    assert down.exit_code == 1
    assert "Error: import oak-ftp: cannot reach 127.0.0.1:1" in down.stderr
    assert "s3cret" not in down.stdout + down.stderr
    shop.ok("imports", "remove", "oak")
    gone = shop("imports", "show", "oak")
    assert (gone.exit_code, gone.stderr) == (
        1,
        "Error: no import 'oak'; see `avasam imports list`\n",
    )
    assert [r["name"] for r in json_rows(shop.ok("imports", "list", "-f", "jsonl").stdout)] == [
        "oak-ftp"
    ]
    shop.ok("imports", "add", "oak", "--supplier", "OAKCO", "--kind", "stock", "--protocol",
            "file", "--remote-dir", str(inbox))  # the name is free again  # fmt: skip


def test_a_file_changing_between_the_two_listings_waits(
    shop: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from avasam_cli.core.transports.local import LocalFolder

    inbox = tmp_path / "outbound"
    add_folder_feed(shop, inbox)
    path = write(inbox / "d.csv", HEADER + "AV0000001,SHIPPED,TRK-1,DPD\n")
    write(inbox / "empty.csv", "")  # created, not written yet
    listing = LocalFolder.listing
    calls = []

    def upload_in_progress(self: LocalFolder) -> list:  # type: ignore[type-arg]
        calls.append(1)
        if len(calls) == 2:  # between the first look and the second, the upload goes on
            with path.open("a") as handle:
                handle.write("AV0000002,SHIPPED,TRK-2,DPD\n")
        return listing(self)

    monkeypatch.setattr(LocalFolder, "listing", upload_in_progress)
    rows = run_rows(shop, "oak")
    assert sorted((r["file"], r["outcome"], r["detail"]) for r in rows) == [
        ("d.csv", "skipped", "still being written"),
        ("empty.csv", "skipped", "still being written"),
    ]
    assert show(shop, "AV0000001")["status"] == "open"
    monkeypatch.setattr(LocalFolder, "listing", listing)
    rows = run_rows(shop, "oak")
    assert [(r["file"], r["outcome"], r["changed"]) for r in rows] == [
        ("empty.csv", "skipped", 0),
        ("d.csv", "applied", 2),
    ] or [(r["file"], r["outcome"], r["changed"]) for r in rows] == [
        ("d.csv", "applied", 2),
        ("empty.csv", "skipped", 0),
    ]


def test_a_file_the_server_refuses_does_not_hold_up_the_others(
    shop: Cli, sshd: SshServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    outbound = sftp_feed(shop, sshd, tmp_path, monkeypatch, "out-locked")
    locked = write(outbound / "a-locked.csv", HEADER + "AV0000002,SHIPPED,TRK-2,DPD\n")
    locked.chmod(0o600)  # root's: the supplier's login may not read it
    write(outbound / "b-good.csv", HEADER + "AV0000001,SHIPPED,TRK-1,DPD\n")
    run = shop("imports", "run", "oak", "-f", "jsonl")
    assert run.exit_code == 1
    assert run.stderr.strip() == (
        "Error: import oak: file a-locked.csv: cannot download it: cannot read "
        "a-locked.csv: Permission denied"
    )
    assert show(shop, "AV0000001")["status"] == "dispatched"
    assert show(shop, "AV0000002")["status"] == "open"
    assert files(outbound) == ["a-locked.csv", "processed"]
    status = json.loads(shop("status", "-f", "json").stdout)
    assert status["attention"]["failed_imports"] == ["oak"]


def test_settings_that_would_lose_or_mix_files_are_refused(
    shop: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    inbox = tmp_path / "outbound"
    add_folder_feed(shop, inbox)  # dispatches, '*.csv'
    overlap = shop(
        "imports", "add", "stock", "--supplier", "OAKCO", "--kind", "stock", "--protocol",
        "file", "--remote-dir", str(inbox), "--pattern", "stock-*.csv",
    )  # fmt: skip
    assert overlap.exit_code == 1
    assert overlap.stderr == (
        "Error: import oak already takes '*.csv' from this folder; give each import a pattern "
        "of its own (e.g. 'dispatch-*.csv' and 'stock-*.csv')\n"
    )
    shop.ok("imports", "edit", "oak", "--pattern", "dispatch-*.csv")
    shop.ok(
        "imports", "add", "stock", "--supplier", "OAKCO", "--kind", "stock", "--protocol",
        "file", "--remote-dir", str(inbox), "--pattern", "stock-*.csv",
    )  # fmt: skip
    # the same folder spelled with a slash, a pattern that could take the other's files
    sneaky = shop(
        "imports", "add", "c", "--supplier", "OAKCO", "--kind", "stock", "--protocol",
        "file", "--remote-dir", f"{inbox}/", "--pattern", "stock*",
    )  # fmt: skip
    assert sneaky.exit_code == 1 and "import stock already takes" in sneaky.stderr
    shop.ok("imports", "disable", "stock")
    shop.ok(
        "imports", "add", "c", "--supplier", "OAKCO", "--kind", "stock", "--protocol",
        "file", "--remote-dir", f"{inbox}/", "--pattern", "stock*",
    )  # fmt: skip
    both = shop("imports", "enable", "stock")
    assert both.exit_code == 1 and "import c already takes 'stock*'" in both.stderr
    shop.ok("imports", "remove", "c")
    shop.ok("imports", "enable", "stock")
    for columns, message in (
        ("OrderNumber=Ref,TrackingNumber=Ref", "'Ref' would be read as two columns"),
        ("OrderNumber=Status", "'Status' would be read as two columns"),
        ("ordernumber=Order,OrderNumber=Ref", "--columns names OrderNumber twice"),
    ):
        run = shop("imports", "edit", "oak", "--columns", columns)
        assert run.exit_code == 1 and message in run.stderr, (columns, run.stderr)
    # the pattern ignores case; a price of 0 is refused row by row
    write(inbox / "DISPATCH-1.CSV", HEADER + "AV0000001,SHIPPED,TRK-1,DPD\n")
    write(inbox / "stock-1.csv", "SKU,StockQuantity,PriceExclVAT\nOAK-CHAIR-02,8,0\n")
    rows = {r["file"]: r for r in run_rows(shop, "--all")}
    assert rows["DISPATCH-1.CSV"]["changed"] == 1
    assert rows["stock-1.csv"]["problems"] == 1
    assert "a price must be more than 0.00" in rows["stock-1.csv"]["detail"]
    status = json.loads(shop("status", "-f", "json").stdout)
    assert status["attention"]["import_rows_not_applied"] == 1
    # a password variable that is not set: one clear line, the feed named once
    shop.ok(
        "imports", "add", "ftp", "--supplier", "OAKCO", "--kind", "stock", "--protocol",
        "ftp", "--host", "127.0.0.1", "--username", "u", "--password-env", "FEED_PASSWORD",
    )  # fmt: skip
    monkeypatch.delenv("FEED_PASSWORD")  # gone from cron's environment, say
    unset = shop("imports", "run", "ftp", "nope")
    assert (unset.exit_code, unset.stderr) == (
        1,
        "Error: no import 'nope'; see `avasam imports list`\n",
    )
    unset = shop("imports", "run", "ftp")
    assert unset.exit_code == 1
    assert unset.stderr.startswith("Error: import ftp: password: ")


def test_a_kept_file_is_not_applied_again_by_a_feed_added_anew(
    shop: Cli, tmp_path: Path, db_url: str
) -> None:
    inbox = tmp_path / "outbound"
    add_folder_feed(shop, inbox, "--after", "keep")
    write(inbox / "d.csv", HEADER + "AV0000001,SHIPPED,TRK-1,DPD\n")
    assert [r["outcome"] for r in run_rows(shop, "oak")] == ["applied"]
    shop.ok("imports", "remove", "oak")
    add_folder_feed(shop, inbox, "--after", "keep")
    assert shop.ok("imports", "run", "oak").stderr.strip() == "No new files."
    assert count_events(db_url, "dispatched") == 1


def test_a_file_name_that_is_not_utf8_is_reported_and_the_rest_runs(
    shop: Cli, tmp_path: Path
) -> None:
    inbox = tmp_path / "outbound"
    add_folder_feed(shop, inbox)
    with open(os.fsencode(inbox) + b"/dispatch-\xff.csv", "wb") as handle:
        handle.write((HEADER + "AV0000002,SHIPPED,TRK-2,DPD\n").encode())
    write(inbox / "good.csv", HEADER + "AV0000001,SHIPPED,TRK-1,DPD\n")
    run = shop("imports", "run", "--all", "-f", "jsonl")
    assert run.exit_code == 1
    assert run.stderr.strip() == (
        "Error: import oak: file dispatch-\\udcff.csv: its name is not UTF-8 text; ask the "
        "supplier to rename it"
    )
    assert "Traceback" not in run.stderr and "unexpected" not in run.stderr
    assert show(shop, "AV0000001")["status"] == "dispatched"
    assert show(shop, "AV0000002")["status"] == "open"
