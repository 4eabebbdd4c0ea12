"""The command layer's shared pieces: a job ended by a command's exit code, the one helper
behind every batch command's row errors, one option group for `exports add` and `exports
edit`, one `enable`/`disable` pair, and the dry run's output chosen by the command."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
import typer

from avasam_cli.main import app
from tests.helpers import add_order, set_up_catalogue
from tests.support import Cli


def _job(cli: Cli, name: str) -> dict[str, Any]:
    report = json.loads(cli("status", "-f", "json").stdout)
    job: dict[str, Any] = next(j for j in report["jobs"] if j["job"] == name)
    return job


def test_a_batch_that_exits_1_is_a_failed_job_without_an_exit_code_for_error(
    cli: Cli, db_url: str, tmp_path: Path
) -> None:
    drop = tmp_path / "gone"
    cli.ok("channels", "add", "drop", "--type", "file", "--path", str(drop))
    log = tmp_path / "jobs.log"
    run = cli("--log-file", str(log), "channels", "pull", "drop")
    assert run.exit_code == 1
    assert run.stderr == (
        f"Error: drop: drop folder {drop} does not exist; create it or fix the "
        "channel with `avasam channels add --path`\n"
    )
    pull = _job(cli, "pull")
    assert pull["outcome"] == "failed"
    assert "error" not in pull["counts"]  # the exit code is no message
    assert log.read_text().split()[1:3] == ["pull", "failed"]


def test_an_error_in_a_job_is_recorded_with_its_message(cli: Cli, db_url: str) -> None:
    run = cli("exports", "run", "nope")
    assert run.exit_code == 1
    assert run.stderr.startswith("Error: no export 'nope'")
    exports = _job(cli, "exports")
    assert exports["outcome"] == "failed"
    assert run.stderr.startswith(f"Error: {exports['counts']['error']}")


def test_a_job_that_succeeds_is_ok(cli: Cli, db_url: str, tmp_path: Path) -> None:
    set_up_catalogue(cli, tmp_path)
    cli.ok("orders", "process")
    assert _job(cli, "process")["outcome"] == "ok"


def test_row_errors_go_on_and_exit_1_at_the_end(cli: Cli, db_url: str, tmp_path: Path) -> None:
    set_up_catalogue(cli, tmp_path)
    add_order(cli, reference="R1")
    run = cli(
        "orders", "cancel", "NOPE", "R1", "--reason", "duplicate_order", "--yes", "-f", "jsonl"
    )
    assert run.exit_code == 1
    lines = run.stderr.splitlines()
    assert lines[0].startswith("Error: NOPE: no order 'NOPE'")
    assert lines[1].startswith("Cancelled: ")
    assert [json.loads(line)["status"] for line in run.stdout.splitlines()] == ["cancelled"]


def _options(path: tuple[str, ...]) -> list[tuple[str, ...]]:
    group = typer.main.get_command(app)
    command = group
    for word in path:
        assert isinstance(command, click.Group)
        command = command.commands[word]
    return [
        (*p.opts, *p.secondary_opts, p.help or "")
        for p in command.params
        if isinstance(p, click.Option) and p.name != "help"
    ]


REMOTE = [
    "--protocol",
    "--host",
    "--port",
    "--username",
    "--password-env",
    "--password-file",
    "--key-file",
    "--known-hosts",
    "--remote-dir",
    "--passive",
    "--insecure-tls",
]


def test_exports_add_and_edit_share_one_set_of_options() -> None:
    added = _options(("exports", "add"))
    assert added == _options(("exports", "edit"))
    assert [o[0] for o in added] == [
        *REMOTE,
        "--supplier",
        "--filename",
        "--file-format",
        "--schedule",
        "--only-new",
        "--raw-csv",
    ]
    assert (
        "--only-new",
        "--all-open",
        "Send only orders not sent before, or every open order.",
    ) in added


def test_imports_share_the_server_options_of_exports() -> None:
    added = _options(("imports", "add"))
    assert added == _options(("imports", "edit"))
    assert [o[0] for o in added] == [
        *REMOTE,
        "--supplier",
        "--kind",
        "--pattern",
        "--columns",
        "--after",
        "--schedule",
    ]
    server = [o for o in added if o[0] in REMOTE]
    assert server == [o for o in _options(("exports", "add")) if o[0] in REMOTE]


def test_edit_changes_only_what_is_given(cli: Cli, db_url: str, tmp_path: Path) -> None:
    set_up_catalogue(cli, tmp_path)
    cli.ok(
        "exports",
        "add",
        "oak",
        "--supplier",
        "OAKCO",
        "--protocol",
        "file",
        "--remote-dir",
        str(tmp_path),
        "--file-format",
        "json",
        "--all-open",
    )
    saved = cli.ok("exports", "edit", "oak", "--schedule", "0 * * * *")
    assert saved.stderr.startswith("Saved export oak.\nNext scheduled run: ")
    shown = json.loads(cli.ok("exports", "show", "oak", "-f", "json").stdout)
    assert (shown["format"], shown["only_new"], shown["schedule"]) == ("json", False, "0 * * * *")


def test_enable_and_disable_for_channels_and_exports(cli: Cli, db_url: str, tmp_path: Path) -> None:
    set_up_catalogue(cli, tmp_path)
    cli.ok("channels", "add", "drop", "--type", "file", "--path", str(tmp_path))
    cli.ok(
        "exports",
        "add",
        "oak",
        "--supplier",
        "OAKCO",
        "--protocol",
        "file",
        "--remote-dir",
        str(tmp_path),
    )
    assert cli.ok("channels", "disable", "drop").stderr == "Channel drop disabled.\n"
    assert cli.ok("channels", "enable", "drop").stderr == "Channel drop enabled.\n"
    assert cli.ok("exports", "disable", "oak").stderr == "Export oak disabled.\n"
    assert json.loads(cli.ok("exports", "show", "oak", "-f", "json").stdout)["enabled"] is False
    assert cli.ok("exports", "enable", "oak").stderr == "Export oak enabled.\n"
    missing = cli("exports", "enable", "nope")
    assert (missing.exit_code, missing.stderr.startswith("Error: no export 'nope'")) == (1, True)
    shown = " ".join(cli.ok("channels", "enable", "--help").stdout.split())
    assert "Pull this channel again with `channels pull --all`." in shown
    assert "Example: avasam channels enable shop" in shown
    assert "NAME Channel name, e.g. shop." in shown


def test_a_dry_run_writes_its_file_where_the_command_says(
    cli: Cli, db_url: str, tmp_path: Path
) -> None:
    set_up_catalogue(cli, tmp_path, balance="1000")
    add_order(cli, reference="R1")
    cli.ok(
        "exports",
        "add",
        "oak",
        "--supplier",
        "OAKCO",
        "--protocol",
        "file",
        "--remote-dir",
        str(tmp_path),
        "--file-format",
        "json",
    )
    copy = tmp_path / "copy.json"
    missing = cli("exports", "run", "nope", "--dry-run", "--output", str(copy))
    assert missing.exit_code == 1
    assert not copy.exists()  # nothing is opened before there is a file to copy
    cli.ok("exports", "run", "oak", "--dry-run", "--output", str(copy))
    assert [o["order_number"] for o in json.loads(copy.read_text())] == ["AV0000001"]
    cli.ok("exports", "run", "oak", "--dry-run", "--output", str(copy))
    assert len(json.loads(copy.read_text())) == 1  # written afresh, not appended


def test_core_never_writes_to_the_terminal() -> None:
    """Output from the core goes through a stream the command passes in: no module of
    avasam_cli.core names sys.stdout, sys.stderr or print. (That the core never imports
    Typer is tests/unit/test_architecture.py's import-graph check.)"""
    import ast

    import avasam_cli.core

    found = []
    for path in sorted(Path(avasam_cli.core.__path__[0]).rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Attribute)
                and node.attr in ("stdout", "stderr")
                and isinstance(node.value, ast.Name)
                and node.value.id == "sys"
            ) or (isinstance(node, ast.Name) and node.id == "print"):
                found.append(f"{path.name}:{node.lineno}")
    assert found == []
