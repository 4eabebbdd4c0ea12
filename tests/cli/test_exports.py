"""Supplier exports to a folder, FTP, FTPS and SFTP, against real servers on loopback."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fakes.ftp_server import PASSWORD, USER, FtpServer, serve_ftp
from tests.fakes.sshd import SshServer, serve_sshd
from tests.helpers import add_order, bulk_open_orders, json_rows, set_up_catalogue, snapshot
from tests.support import Cli

SQLITE_ONLY = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


@pytest.fixture
def shop(cli: Cli, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Cli:
    monkeypatch.setenv("EXPORT_PASSWORD", PASSWORD)
    monkeypatch.setenv("AVASAM_EXPORT_BACKOFF", "0")
    monkeypatch.setenv("AVASAM_EXPORT_TIMEOUT", "3")
    set_up_catalogue(cli, tmp_path, balance="1000")
    add_order(cli, reference="R1")
    add_order(cli, "--note", "leave at the back", item="OAK-TABLE-01", reference="R2")
    return cli


def history(cli: Cli, name: str) -> list[dict]:  # type: ignore[type-arg]
    return json_rows(cli.ok("exports", "history", name, "-f", "jsonl").stdout)


def files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_folder_export_end_to_end(shop: Cli, tmp_path: Path, db_url: str) -> None:
    out = tmp_path / "outbox"
    out.mkdir()
    added = shop.ok(
        "exports",
        "add",
        "oak",
        "--supplier",
        "OAKCO",
        "--protocol",
        "file",
        "--remote-dir",
        str(out),
        "--schedule",
        "*/15 * * * *",
        "--filename",
        "{supplier}-{run}.csv",
    )
    assert added.stderr.splitlines()[0] == f"Added export oak: OAKCO's open orders to {out}."
    assert added.stderr.splitlines()[1].startswith("Next scheduled run: ")
    run = shop.ok("exports", "run", "oak", "-f", "jsonl")
    assert json_rows(run.stdout) == [
        {
            "export": "oak",
            "outcome": "ok",
            "file": "OAKCO-1.csv",
            "orders": 2,
            "bytes": (out / "OAKCO-1.csv").stat().st_size,
        }
    ]
    assert files(out) == ["OAKCO-1.csv"]
    data = (out / "OAKCO-1.csv").read_bytes()
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8"))))
    assert [
        (r["OrderNumber"], r["SKU"], r["Quantity"], r["LineTotalIncVat"], r["Notes"]) for r in rows
    ] == [
        ("AV0000001", "OAK-CHAIR-02", "2", "85.20", ""),
        ("AV0000002", "OAK-TABLE-01", "1", "144.00", "leave at the back"),
    ]
    assert rows[0]["Postcode"] == "SW1A 1AA" and rows[0]["SupplierProductId"] == "OAK-1002"
    [record] = history(shop, "oak")
    assert (record["outcome"], record["orders"], record["bytes"], record["sha256"]) == (
        "ok",
        2,
        len(data),
        hashlib.sha256(data).hexdigest(),
    )
    audit = json_rows(shop.ok("orders", "audit", "R1", "-f", "jsonl").stdout)
    assert (audit[-1]["event"], audit[-1]["details"]) == (
        "sent_to_supplier",
        "export=oak, file=OAKCO-1.csv",
    )
    refused = shop("orders", "cancel", "R1", "--reason", "customer_changed_mind")
    assert "has already been received by the supplier" in refused.stderr

    shop.ok("orders", "dispatch", "R1", "--tracking", "T1")
    shop.ok("exports", "run", "oak")
    assert (
        next(csv.DictReader(io.StringIO((out / "OAKCO-2.csv").read_text())))["OrderNumber"]
        == "AV0000002"
    )
    audit = json_rows(shop.ok("orders", "audit", "R2", "-f", "jsonl").stdout)
    assert [e["event"] for e in audit].count("sent_to_supplier") == 1  # first time only

    shop.ok("exports", "edit", "oak", "--only-new")
    again = json_rows(shop.ok("exports", "run", "oak", "-f", "jsonl").stdout)
    assert again[0]["outcome"] == "nothing_new"
    add_order(shop, reference="R3")
    fresh = json_rows(shop.ok("exports", "run", "oak", "-f", "jsonl").stdout)
    assert (fresh[0]["outcome"], fresh[0]["orders"]) == ("ok", 1)


def test_json_format_and_dry_run(shop: Cli, tmp_path: Path) -> None:
    out = tmp_path / "outbox"
    out.mkdir()
    shop.ok(
        "exports",
        "add",
        "oak",
        "--supplier",
        "OAKCO",
        "--protocol",
        "file",
        "--remote-dir",
        str(out),
        "--file-format",
        "json",
    )
    before = snapshot(os.environ["AVASAM_DATABASE_URL"])
    dry = shop.ok("exports", "run", "oak", "--dry-run")
    orders = json.loads(dry.stdout)
    assert [o["order_number"] for o in orders] == ["AV0000001", "AV0000002"]
    assert orders[1]["lines"][0]["line_total_inc_vat"] == "144.00"
    assert orders[1]["notes"] == "leave at the back"
    assert orders[0]["delivery"]["postcode"] == "SW1A 1AA"
    assert files(out) == []
    after = snapshot(os.environ["AVASAM_DATABASE_URL"])
    assert after["orders"] == before["orders"]  # nothing counts as sent
    shop.ok("exports", "run", "oak", "--dry-run", "--output", str(tmp_path / "copy.json"))
    assert json.loads((tmp_path / "copy.json").read_text()) == orders


def test_bad_settings_are_refused(
    shop: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("P", "x")  # a variable that is set: the other settings are checked
    before = snapshot(os.environ["AVASAM_DATABASE_URL"])
    cases = [
        (
            [
                "--protocol",
                "file",
                "--remote-dir",
                str(tmp_path),
                "--filename",
                "../{supplier}.csv",
            ],
            "Error: file name template '../{supplier}.csv' gives '../OAKCO.csv', which would leave the remote directory or hide the file; use a plain file name\n".replace(
                "OAKCO", "S"
            ),
        ),
        (
            [
                "--protocol",
                "file",
                "--remote-dir",
                str(tmp_path),
                "--filename",
                "/etc/{export}.csv",
            ],
            "Error: file name template '/etc/{export}.csv' gives '/etc/E.csv', which would leave the remote directory or hide the file; use a plain file name\n",
        ),
        (
            [
                "--protocol",
                "sftp",
                "--host",
                "h",
                "--username",
                "u",
                "--password-env",
                "P",
                "--remote-dir",
                "in/../../etc",
            ],
            "Error: --remote-dir 'in/../../etc' must not contain '..'\n",
        ),
        (
            [
                "--protocol",
                "ftp",
                "--host",
                "h",
                "--username",
                "u",
                "--password-env",
                "my password",
            ],
            "Error: --password-env: 'my password' is not an environment variable name; pass the variable's name, not the password\n",
        ),
        (
            ["--protocol", "ftp", "--host", "h", "--username", "u"],
            "Error: an export needs --password-env VAR, --password-file PATH or --key-file PATH\n",
        ),
        (
            [
                "--protocol",
                "ftp",
                "--host",
                "h",
                "--username",
                "u",
                "--password-env",
                "P",
                "--schedule",
                "every hour",
            ],
            "Error: schedule 'every hour' must have five fields: minute hour day month weekday, e.g. '*/15 * * * *'\n",
        ),
    ]
    for args, message in cases:
        run = shop("exports", "add", "x", "--supplier", "OAKCO", *args)
        assert (run.exit_code, run.stderr) == (1, message)
    assert snapshot(os.environ["AVASAM_DATABASE_URL"]) == before


def test_due_runs_once_for_missed_slots(
    shop: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "outbox"
    out.mkdir()
    monkeypatch.setenv("AVASAM_NOW", "2026-11-28T10:05:00+00:00")
    shop.ok(
        "exports",
        "add",
        "oak",
        "--supplier",
        "OAKCO",
        "--protocol",
        "file",
        "--remote-dir",
        str(out),
        "--schedule",
        "0 * * * *",
    )
    monkeypatch.setenv("AVASAM_NOW", "2026-11-28T10:59:00+00:00")
    assert shop.ok("exports", "run", "--due").stderr == "No exports due.\n"
    monkeypatch.setenv("AVASAM_NOW", "2026-11-28T13:30:00+00:00")  # 11:00, 12:00, 13:00 missed
    assert [
        r["export"] for r in json_rows(shop.ok("exports", "run", "--due", "-f", "jsonl").stdout)
    ] == ["oak"]
    assert shop.ok("exports", "run", "--due").stderr == "No exports due.\n"
    monkeypatch.setenv("AVASAM_NOW", "2026-11-28T14:00:00+00:00")
    assert len(json_rows(shop.ok("exports", "run", "--due", "-f", "jsonl").stdout)) == 1
    assert len(files(out)) == 2


@pytest.fixture
def ftp(tmp_path: Path) -> Iterator[FtpServer]:
    root = tmp_path / "ftp-root"
    root.mkdir()
    with serve_ftp(root) as server:
        yield server


def add_ftp(cli: Cli, server: FtpServer, *extra: str, protocol: str = "ftp") -> None:
    cli.ok(
        "exports",
        "add",
        "oak-ftp",
        "--supplier",
        "OAKCO",
        "--protocol",
        protocol,
        "--host",
        "127.0.0.1",
        "--port",
        str(server.port),
        "--username",
        USER,
        "--password-env",
        "EXPORT_PASSWORD",
        *extra,
    )


@SQLITE_ONLY
def test_ftp_export(shop: Cli, ftp: FtpServer) -> None:
    add_ftp(shop, ftp)
    steps = shop.ok("exports", "test", "oak-ftp").stderr.splitlines()
    assert steps == [
        f"ok: connected to 127.0.0.1:{ftp.port}",
        f"ok: logged in as {USER}",
        "ok: in directory .",
        "ok: wrote and deleted a probe file in .",
        "Export oak-ftp is ready.",
    ]
    run = json_rows(shop.ok("exports", "run", "oak-ftp", "-f", "jsonl").stdout)[0]
    assert files(ftp.root) == [run["file"]]
    assert (ftp.root / run["file"]).read_text().startswith("OrderNumber,ChannelReference,")


@SQLITE_ONLY
def test_ftps_needs_a_trusted_certificate_or_insecure_tls(shop: Cli, tmp_path: Path) -> None:
    root = tmp_path / "ftps-root"
    root.mkdir()
    with serve_ftp(root, tls=True) as server:
        add_ftp(shop, server, protocol="ftps")
        refused = shop("exports", "run", "oak-ftp")
        assert refused.exit_code == 1
        assert "TLS failed" in refused.stderr and "--insecure-tls" in refused.stderr
        shop.ok("exports", "edit", "oak-ftp", "--insecure-tls")
        steps = shop.ok("exports", "test", "oak-ftp").stderr
        assert "ok: TLS negotiated (AUTH TLS), certificate NOT verified" in steps
        assert "ok: data channel protected (PROT P)" in steps
        shop.ok("exports", "run", "oak-ftp")
        assert len(files(root)) == 1


def assert_failed_cleanly(cli: Cli, run_stderr: str, root: Path, message: str) -> None:
    assert run_stderr.startswith("Error: export oak-ftp: "), run_stderr
    assert message in run_stderr
    assert PASSWORD not in run_stderr
    assert [f for f in files(root) if not f.startswith(".")] == []  # no final file
    assert history(cli, "oak-ftp")[0]["outcome"] == "failed"


@SQLITE_ONLY
@pytest.mark.parametrize(
    ("fault", "message", "tries"),
    [
        ("password", "the server refused: 530", 1),
        ("552", "552 Exceeded storage allocation", 1),
        ("452", "452 Insufficient storage space. (after 3 tries)", 3),
        ("readonly", "550", 1),
    ],
)
def test_ftp_faults(
    shop: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fault: str, message: str, tries: int
) -> None:
    root = tmp_path / "root"
    root.mkdir()
    with serve_ftp(root, writable=fault != "readonly") as server:
        if fault == "password":
            monkeypatch.setenv("EXPORT_PASSWORD", "wrong")
        if fault in ("552", "452"):
            server.refuse_stor = f"{fault} {'Exceeded storage allocation' if fault == '552' else 'Insufficient storage space'}."
        add_ftp(shop, server)
        run = shop("exports", "run", "oak-ftp")
        assert run.exit_code == 1
        assert_failed_cleanly(shop, run.stderr, root, message)


@SQLITE_ONLY
def test_ftp_server_stopped_mid_transfer(shop: Cli, tmp_path: Path) -> None:
    bulk_open_orders(shop, tmp_path, 1000)  # a file of a few hundred KB
    root = tmp_path / "root"
    root.mkdir()
    with serve_ftp(root) as server:
        server.break_after_bytes = 20_000
        add_ftp(shop, server)
        run = shop("exports", "run", "oak-ftp")
        assert run.exit_code == 1
        assert_failed_cleanly(shop, run.stderr, root, "421 Service not available")


@pytest.fixture(scope="module")
def sshd() -> Iterator[SshServer]:
    with serve_sshd() as server:
        yield server


def add_sftp(
    cli: Cli, server: SshServer, tmp_path: Path, *auth: str, remote_dir: str = "in"
) -> Path:
    known = tmp_path / "known_hosts"
    cli.ok(
        "exports",
        "add",
        "oak-sftp",
        "--supplier",
        "OAKCO",
        "--protocol",
        "sftp",
        "--host",
        "127.0.0.1",
        "--port",
        str(server.port),
        "--username",
        "avasamsftp",
        "--known-hosts",
        str(known),
        "--remote-dir",
        remote_dir,
        *(auth or ("--password-env", "SFTP_PASSWORD")),
    )
    return known


def test_sftp_unknown_key_is_refused_until_trusted(
    shop: Cli, sshd: SshServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SFTP_PASSWORD", sshd.password)
    known = add_sftp(shop, sshd, tmp_path)
    refused = shop("exports", "run", "oak-sftp")
    assert refused.exit_code == 1
    assert f"the host key of 127.0.0.1:{sshd.port} (ssh-ed25519 SHA256:" in refused.stderr
    assert "is not in" in refused.stderr and "avasam exports trust NAME" in refused.stderr
    assert history(shop, "oak-sftp")[0]["outcome"] == "failed"
    trusted = shop.ok("exports", "trust", "oak-sftp", "--yes")
    assert trusted.stderr.startswith("The server presents ssh-ed25519 SHA256:")
    assert sshd.host_public_line.split()[1] in known.read_text()
    run = json_rows(shop.ok("exports", "run", "oak-sftp", "-f", "jsonl").stdout)[0]
    final = sshd.home / "in" / run["file"]
    assert final.read_bytes().count(b"\r\n") == 3
    final.unlink()
    assert sshd.password not in refused.stderr + trusted.stderr


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("kind", ["ed25519", "rsa", "ecdsa"])
def test_sftp_key_authentication(shop: Cli, sshd: SshServer, tmp_path: Path, kind: str) -> None:
    known = add_sftp(shop, sshd, tmp_path, "--key-file", str(sshd.keys[kind]))
    known.write_text(f"[127.0.0.1]:{sshd.port} {sshd.host_public_line}\n")
    steps = shop.ok("exports", "test", "oak-sftp").stderr
    assert "ok: logged in as avasamsftp" in steps and "matches" in steps
    run = json_rows(shop.ok("exports", "run", "oak-sftp", "-f", "jsonl").stdout)[0]
    (sshd.home / "in" / run["file"]).unlink()


@SQLITE_ONLY
def test_sftp_faults(
    shop: Cli, sshd: SshServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SFTP_PASSWORD", "not-the-password")
    known = add_sftp(shop, sshd, tmp_path)
    known.write_text(f"[127.0.0.1]:{sshd.port} {sshd.host_public_line}\n")
    wrong = shop("exports", "run", "oak-sftp")
    assert "avasamsftp@127.0.0.1 was refused: wrong password or key" in wrong.stderr
    monkeypatch.setenv("SFTP_PASSWORD", sshd.password)
    shop.ok("exports", "edit", "oak-sftp", "--remote-dir", "locked")
    locked = shop("exports", "run", "oak-sftp")
    assert locked.exit_code == 1 and "Permission denied" in locked.stderr
    assert files(sshd.home / "locked") == []
    other = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOq1bFB6J0TQ2DpUq5aP7x0ZC9bq8m0tI5p0tY1uG7xk"
    known.write_text(f"[127.0.0.1]:{sshd.port} {other}\n")
    changed = shop("exports", "run", "oak-sftp")
    assert "CHANGED" in changed.stderr
    assert [r["outcome"] for r in history(shop, "oak-sftp")] == ["failed"] * 3
    assert sshd.password not in wrong.stderr + locked.stderr + changed.stderr


def test_two_runs_at_once_send_each_order_once(shop: Cli, tmp_path: Path, db_url: str) -> None:
    out = tmp_path / "outbox"
    out.mkdir()
    bulk_open_orders(shop, tmp_path, 300)
    shop.ok(
        "exports",
        "add",
        "oak",
        "--supplier",
        "OAKCO",
        "--protocol",
        "file",
        "--remote-dir",
        str(out),
        "--only-new",
    )
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "avasam_cli", "exports", "run", "oak", "-f", "csv"],
            env=dict(os.environ),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outputs
    sent = [row for f in files(out) for row in csv.DictReader(io.StringIO((out / f).read_text()))]
    numbers = [row["OrderNumber"] for row in sent]
    assert len(numbers) == len(set(numbers)) == 302


def test_a_removed_export_cannot_be_run_or_completed(shop: Cli, tmp_path: Path) -> None:
    out = tmp_path / "gone"
    out.mkdir()
    shop.ok(
        "exports",
        "add",
        "gone",
        "--supplier",
        "OAKCO",
        "--protocol",
        "file",
        "--remote-dir",
        str(out),
    )
    shop.ok("exports", "remove", "gone")
    [row] = json_rows(shop.ok("exports", "list", "-f", "jsonl").stdout)
    renamed = row["name"]
    assert renamed.startswith("gone (removed ")
    run = shop("exports", "run", renamed)
    assert run.exit_code == 1
    assert run.stderr == f"Error: no export {renamed!r}; see `avasam exports list`\n"
    assert files(out) == []


@SQLITE_ONLY
def test_only_the_four_bare_placeholders_make_a_file_name(shop: Cli, tmp_path: Path) -> None:
    before = snapshot(os.environ["AVASAM_DATABASE_URL"])
    allowed = "use only {supplier}, {export}, {timestamp} and {run}, as they are"
    cases = {
        "{run:>100000000}": f"'{{run:>100000000}}' is not allowed; {allowed}",
        "{supplier.__doc__}": f"'{{supplier.__doc__}}' is not allowed; {allowed}",
        "{export.__class__}": f"'{{export.__class__}}' is not allowed; {allowed}",
        "{run!r}.csv": f"'{{run!r}}' is not allowed; {allowed}",
        "{0}.csv": f"'{{0}}' is not allowed; {allowed}",
        "{supplier": "expected '}' before end of string; write {{ and }} for braces",
    }
    for template, problem in cases.items():
        run = shop(
            "exports", "add", "x", "--supplier", "OAKCO", "--protocol", "file",
            "--remote-dir", str(tmp_path), "--filename", template,
        )  # fmt: skip
        assert (run.exit_code, run.stderr) == (
            1,
            f"Error: file name template {template!r}: {problem}\n",
        )
    long = "{export}-" * 30
    run = shop(
        "exports", "add", "x", "--supplier", "OAKCO", "--protocol", "file",
        "--remote-dir", str(tmp_path), "--filename", long,
    )  # fmt: skip
    assert (run.exit_code, run.stderr) == (
        1,
        f"Error: file name template {long[:57] + '...'!r} is longer than 200 characters\n",
    )
    assert snapshot(os.environ["AVASAM_DATABASE_URL"]) == before
    shop.ok(
        "exports", "add", "x", "--supplier", "OAKCO", "--protocol", "file",
        "--remote-dir", str(tmp_path), "--filename", "{{a}}-{supplier}-{run}.csv",
    )  # fmt: skip
    shop.ok("exports", "run", "x")
    assert "{a}-OAKCO-1.csv" in files(tmp_path)


@SQLITE_ONLY
def test_a_failing_dry_run_leaves_no_trace(shop: Cli, tmp_path: Path, db_url: str) -> None:
    from sqlalchemy import create_engine, text

    shop.ok(
        "exports", "add", "oak", "--supplier", "OAKCO", "--protocol", "file",
        "--remote-dir", str(tmp_path), "--schedule", "0 6 * * *",
    )  # fmt: skip
    engine = create_engine(db_url)
    with engine.begin() as conn:  # a template stored by an older avasam, refused today
        conn.execute(text("UPDATE export_targets SET filename_template = '{run:>9}.csv'"))
    engine.dispose()
    assert shop("status").exit_code == 0
    before = snapshot(db_url)
    run = shop("exports", "run", "oak", "--dry-run")
    assert (run.exit_code, run.stdout) == (1, "")
    assert run.stderr == (
        "Error: file name template '{run:>9}.csv': '{run:>9}' is not allowed; "
        "use only {supplier}, {export}, {timestamp} and {run}, as they are\n"
    )
    assert snapshot(db_url) == before  # no export run, no job run, last_run_at unchanged
    assert history(shop, "oak") == []
    assert shop("status").exit_code == 0


def test_a_relative_folder_export_is_stored_absolute(
    shop: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "out").mkdir()
    monkeypatch.chdir(tmp_path)
    shop.ok(
        "exports", "add", "rel", "--supplier", "OAKCO", "--protocol", "file", "--remote-dir", "out"
    )
    shown = json.loads(shop.ok("exports", "show", "rel", "-f", "json").stdout)
    assert str(tmp_path / "out") in json.dumps(shown)
    monkeypatch.chdir("/")  # cron runs from elsewhere
    shop.ok("exports", "run", "rel")
    assert len(files(tmp_path / "out")) == 1


def _export_in_background(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "avasam_cli", "exports", "run", *args, "-f", "jsonl"],
        env=dict(os.environ),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_a_cancel_during_a_slow_upload_is_refused_and_the_order_is_sent(
    shop: Cli, tmp_path: Path, db_url: str
) -> None:
    root = tmp_path / "ftp-root"
    root.mkdir()
    with serve_ftp(root) as server:
        server.gate = threading.Event()
        add_ftp(shop, server)
        export = _export_in_background("oak-ftp")
        assert server.uploading.wait(60)  # the file is on its way, held by the server
        cancel = shop("orders", "cancel", "R1", "--reason", "price_error", "--yes")
        server.gate.set()
        _out, err = export.communicate(timeout=120)
    assert export.returncode == 0, err
    assert cancel.exit_code == 1
    assert "has already been received by the supplier" in cancel.stderr
    assert "tickets raise" in cancel.stderr
    [sent] = files(root)
    assert "R1" in (root / sent).read_text()
    order = json.loads(shop.ok("orders", "show", "R1", "-f", "json").stdout)
    assert (order["status"], order["payment_status"]) == ("open", "paid")


def test_a_failed_upload_gives_the_orders_back_to_the_seller(
    shop: Cli, tmp_path: Path, db_url: str
) -> None:
    root = tmp_path / "ftp-root"
    root.mkdir()
    with serve_ftp(root) as server:
        server.refuse_stor = "553 Could not create file."
        add_ftp(shop, server)
        failed = shop("exports", "run", "oak-ftp")
    assert failed.exit_code == 1
    order = json.loads(shop.ok("orders", "show", "R1", "-f", "json").stdout)
    assert order["received_by_supplier_at"] is None
    shop.ok("orders", "cancel", "R1", "--reason", "price_error", "--yes")  # direct again


def test_formulas_in_a_csv_export_are_text_unless_raw_csv(shop: Cli, tmp_path: Path) -> None:
    formula, reference, phone = '=HYPERLINK("http://x","y")', "@SUM(A1)", "+44 20 7946 0000"
    add_order(shop, "--name", formula, "--phone", phone, reference=reference)
    out = tmp_path / "outbox"
    out.mkdir()
    shop.ok(
        "exports", "add", "oak", "--supplier", "OAKCO", "--protocol", "file",
        "--remote-dir", str(out), "--filename", "{supplier}-{run}.csv",
    )  # fmt: skip

    def shown() -> str:
        return str(
            json.loads(shop.ok("exports", "show", "oak", "-f", "json").stdout)["csv_formulas"]
        )

    def hostile_row(run: int) -> dict[str, str]:
        rows = list(csv.DictReader(io.StringIO((out / f"OAKCO-{run}.csv").read_text("utf-8"))))
        [row] = [r for r in rows if r["OrderNumber"] == "AV0000003"]
        return row

    assert shown() == "neutralised"
    shop.ok("exports", "run", "oak")
    safe = hostile_row(1)
    assert (safe["Name"], safe["ChannelReference"], safe["Phone"]) == (
        "'" + formula,
        "'" + reference,
        "'" + phone,
    )
    assert (safe["Quantity"], safe["LineTotalIncVat"]) == ("2", "85.20")  # numbers stay numbers
    assert (safe["Address1"], safe["Postcode"]) == ("1 High St", "SW1A 1AA")

    shop.ok("exports", "edit", "oak", "--raw-csv")
    assert shown() == "raw"
    shop.ok("exports", "run", "oak")
    raw = hostile_row(2)
    assert (raw["Name"], raw["ChannelReference"], raw["Phone"]) == (formula, reference, phone)
    assert raw["LineTotalIncVat"] == "85.20"

    shop.ok("exports", "edit", "oak", "--safe-csv")
    assert shown() == "neutralised"
    shop.ok("exports", "run", "oak")
    assert hostile_row(3)["Name"] == "'" + formula

    shop.ok("exports", "edit", "oak", "--file-format", "json")  # JSON is never changed
    [order] = [
        o
        for o in json.loads(shop.ok("exports", "run", "oak", "--dry-run").stdout)
        if o["order_number"] == "AV0000003"
    ]
    assert (order["delivery"]["name"], order["channel_reference"]) == (formula, reference)
    assert order["delivery"]["phone"] == phone


def test_an_export_added_with_raw_csv_writes_raw_cells(shop: Cli, tmp_path: Path) -> None:
    add_order(shop, "--name", "@SUM(A1)", "--phone", "+44 20 7946 0000", reference="R3")
    out = tmp_path / "outbox"
    out.mkdir()
    shop.ok(
        "exports", "add", "oak", "--supplier", "OAKCO", "--protocol", "file",
        "--remote-dir", str(out), "--filename", "raw.csv", "--raw-csv",
    )  # fmt: skip
    rows = list(csv.DictReader(io.StringIO(shop.ok("exports", "list", "-f", "csv").stdout)))
    assert rows[0]["csv_formulas"] == "raw"
    shop.ok("exports", "run", "oak")
    [row] = [
        r
        for r in csv.DictReader(io.StringIO((out / "raw.csv").read_text("utf-8")))
        if r["ChannelReference"] == "R3"
    ]
    assert (row["Name"], row["Phone"]) == ("@SUM(A1)", "+44 20 7946 0000")
