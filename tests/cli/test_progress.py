"""Progress on a terminal, never under cron or in a pipe: the bar itself against a stream that
says it is a terminal, and the installed `avasam` with its stderr on a real pseudo-terminal."""

from __future__ import annotations

import io
import os
import pty
import select
import subprocess
import sys
from pathlib import Path

from avasam_cli.progress import TerminalProgress
from tests.helpers import set_up_catalogue, write
from tests.support import Cli


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_bar_for_large_known_work() -> None:
    stream = FakeTerminal()
    shown = TerminalProgress("orders processed", threshold=100, stream=stream)
    shown.start(250)
    for _ in range(250):
        shown.advance()
    shown.close()
    text = stream.getvalue()
    assert "orders processed" in text
    assert "0/250" in text
    assert "[####################################]  250/250" in text


def test_no_bar_for_small_work() -> None:
    stream = FakeTerminal()
    shown = TerminalProgress("orders processed", threshold=100, stream=stream)
    shown.start(99)
    for _ in range(99):
        shown.advance()
    shown.close()
    assert stream.getvalue() == ""


def test_a_running_count_when_the_total_is_unknown() -> None:
    stream = FakeTerminal()
    shown = TerminalProgress("orders read from shop", stream=stream)
    shown.start(None)
    shown.advance(1500)
    shown.advance(2)
    shown.close()
    text = stream.getvalue()
    assert text.startswith("\rorders read from shop: 0")
    assert text.endswith("\rorders read from shop: 1,502\n")


def _on_a_terminal(*args: str) -> tuple[int, str, str]:
    """Run the installed avasam with stderr on a pseudo-terminal; stdout stays a pipe."""
    controller, terminal = pty.openpty()
    try:
        done = subprocess.run(
            [str(Path(sys.executable).with_name("avasam")), *args],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=terminal,
            text=True,
            timeout=120,
            env=os.environ.copy(),
        )
    finally:
        os.close(terminal)
    seen = b""
    while select.select([controller], [], [], 0.5)[0]:
        try:
            chunk = os.read(controller, 65536)
        except OSError:  # the terminal side is closed and drained
            break
        if not chunk:
            break
        seen += chunk
    os.close(controller)
    return done.returncode, done.stdout, seen.decode().replace("\r\n", "\n")


def _drop(cli: Cli, tmp_path: Path, count: int) -> None:
    set_up_catalogue(cli, tmp_path)
    folder = tmp_path / "drop"
    folder.mkdir()
    rows = "".join(
        f"P{n},2026-11-28T10:00:00Z,Ann Lee,1 High St,London,SW1A 1AA,Standard,OAK-CHAIR-02,1\n"
        for n in range(count)
    )
    write(
        folder / "orders.csv",
        "order_id,placed_at,name,address1,city,postcode,shipping_method,sku,quantity\n" + rows,
    )
    cli.ok("channels", "add", "drop", "--type", "file", "--path", str(folder))
    cli.ok("channels", "map-shipping", "drop", "Standard", "standard")


def test_pull_counts_on_a_terminal_and_stays_quiet_under_cron(
    cli: Cli, db_url: str, tmp_path: Path
) -> None:
    _drop(cli, tmp_path, 3)
    code, stdout, terminal = _on_a_terminal("channels", "pull", "--all", "-f", "jsonl")
    assert code == 0
    assert "orders read from drop: 3\n" in terminal
    assert "orders read" not in stdout  # data stays clean for pipes
    assert '"new": 3' in stdout
    code, stdout, terminal = _on_a_terminal("--cron", "orders", "process")
    assert (code, stdout, terminal) == (0, "", "")


def test_no_progress_when_stderr_is_not_a_terminal(cli: Cli, db_url: str, tmp_path: Path) -> None:
    _drop(cli, tmp_path, 3)
    run = cli.ok("channels", "pull", "--all")
    assert "orders read" not in run.stderr
