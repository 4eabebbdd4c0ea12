"""An SFTP server stopped in the middle of an upload (issue 11, item 22), with the real sshd.

The export runs as a subprocess; once its `.NAME.part` file appears on the server, the
test kills the listening sshd and every session of the SFTP user (so retries find no
server either). The run must fail with one `Error:` line, leave nothing under the final
name, record `failed`, and a later run against a restarted server must deliver the whole
file.
"""

from __future__ import annotations

import contextlib
import csv
import io
import os
import pwd
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.cli.test_exports import add_sftp, files, history
from tests.fakes.sshd import USER, serve_sshd
from tests.helpers import add_order, bulk_open_orders, json_rows, set_up_catalogue
from tests.support import Cli

ORDERS = 3000  # enough rows that the upload is still going when the test acts


def _export_in_background(name: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "avasam_cli", "exports", "run", name, "-f", "jsonl"],
        env=dict(os.environ),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _sessions(uid: int) -> list[int]:
    """The processes of the SFTP user: its sshd sessions, serving the SFTP requests."""
    found = []
    for entry in os.listdir("/proc"):
        try:
            status = Path(f"/proc/{entry}/status").read_text() if entry.isdigit() else ""
        except OSError:  # gone meanwhile
            continue
        for line in status.splitlines():
            if line.startswith("Uid:") and int(line.split()[2]) == uid:
                found.append(int(entry))
    return found


def _signal(pids: list[int], sig: signal.Signals) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)


def _freeze_mid_upload(folder: Path, export: subprocess.Popen[str]) -> list[str]:
    """Catch the upload in the act: stop the user's sessions, look at the remote folder, and
    let them go on only while no `.part` is there yet (so the upload moves in short bursts,
    each followed by a look). With the session stopped, a `.part` and no final name is the
    truth: the rename is the server's to do. Returns what was seen, the sessions left
    stopped; [] if the run ended first."""
    uid = pwd.getpwnam(USER).pw_uid
    deadline = time.monotonic() + 60
    pids: list[int] = []
    while time.monotonic() < deadline and export.poll() is None:
        pids = pids or _sessions(uid)
        if not pids:
            continue
        _signal(pids, signal.SIGSTOP)
        time.sleep(0.005)  # a request being served finishes; then nothing moves
        seen = sorted(os.listdir(folder))
        if any(n.endswith(".part") and not n.startswith(".avasam-probe") for n in seen):
            return seen
        _signal(pids, signal.SIGCONT)
        pids = [pid for pid in pids if Path(f"/proc/{pid}").exists()]
    return []


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_sftp_server_stopped_mid_transfer(
    cli: Cli, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AVASAM_EXPORT_BACKOFF", "0")
    monkeypatch.setenv("AVASAM_EXPORT_TIMEOUT", "3")
    set_up_catalogue(cli, tmp_path, balance="1000")
    add_order(cli, reference="R1")
    bulk_open_orders(cli, tmp_path, ORDERS)
    with serve_sshd() as server:
        monkeypatch.setenv("SFTP_PASSWORD", server.password)
        known = add_sftp(cli, server, tmp_path)
        known.write_text(f"[127.0.0.1]:{server.port} {server.host_public_line}\n")
        inbox = server.home / "in"
        export = _export_in_background("oak-sftp")
        seen = _freeze_mid_upload(inbox, export)
        # the listener first, so a retry finds no server; then the session mid-write
        server.process.send_signal(signal.SIGKILL)
        server.process.wait(10)
        subprocess.run(["pkill", "-KILL", "-u", USER], check=False)
        out, err = export.communicate(timeout=120)
        assert seen, f"the upload was not caught in the act: {out} {err}"
        assert all(name.startswith(".") for name in seen), seen  # no final name yet
        left = files(inbox)
    assert export.returncode == 1, out + err
    errors = [line for line in err.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and "Traceback" not in err, err
    assert errors[0].startswith("Error: export oak-sftp: "), errors
    # nothing under a final name: at most the hidden `.NAME.part` the session was writing
    assert all(name.startswith(".") and name.endswith(".part") for name in left), left
    assert [r["outcome"] for r in history(cli, "oak-sftp")] == ["failed"]

    with serve_sshd() as again:  # a new server: new port, host key and password
        monkeypatch.setenv("SFTP_PASSWORD", again.password)
        cli.ok("exports", "edit", "oak-sftp", "--port", str(again.port))
        known.write_text(f"[127.0.0.1]:{again.port} {again.host_public_line}\n")
        run = json_rows(cli.ok("exports", "run", "oak-sftp", "-f", "jsonl").stdout)[0]
        sent = again.home / "in" / run["file"]
        assert files(again.home / "in") == [run["file"]]
        body = sent.read_bytes()
        sent.unlink()
    rows = list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))
    assert len(rows) == ORDERS + 1  # every order, R1 and the bulk ones, one line each
    assert any("R1" in row.values() for row in rows)
    assert (run["outcome"], run["orders"], run["bytes"]) == ("ok", ORDERS + 1, len(body))
    assert [r["outcome"] for r in history(cli, "oak-sftp")] == ["ok", "failed"]
