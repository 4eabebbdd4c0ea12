"""Conventions of the command line that a dependency upgrade can silently break: the help of
positional arguments, single typo suggestions, real choices for fixed vocabularies."""

from __future__ import annotations

import click
import pytest
import typer

from avasam_cli.main import app
from tests.support import Cli

ROOT = typer.main.get_command(app)


def _leaves(
    group: click.Group, path: tuple[str, ...] = ()
) -> list[tuple[tuple[str, ...], click.Command]]:
    found: list[tuple[tuple[str, ...], click.Command]] = []
    for name, command in sorted(group.commands.items()):
        if isinstance(command, click.Group):
            found += _leaves(command, (*path, name))
        else:
            found.append(((*path, name), command))
    return found


LEAVES = _leaves(ROOT)  # type: ignore[arg-type]
WITH_ARGUMENTS = [
    (path, command)
    for path, command in LEAVES
    if any(isinstance(p, click.Argument) for p in command.params)
]


def test_some_commands_take_arguments() -> None:
    assert ("orders", "show") in [path for path, _ in WITH_ARGUMENTS]


@pytest.mark.parametrize(
    ("path", "command"), WITH_ARGUMENTS, ids=[" ".join(p) for p, _ in WITH_ARGUMENTS]
)
def test_every_argument_is_explained_in_the_help(
    cli: Cli, path: tuple[str, ...], command: click.Command
) -> None:
    shown = cli.ok(*path, "--help").stdout
    for param in command.params:
        if isinstance(param, click.Argument):
            text = getattr(param, "help", None)
            assert text, f"avasam {' '.join(path)}: argument {param.name} has no help"
            assert " ".join(text.split()[:3]) in " ".join(shown.split())


def test_orders_show_explains_its_argument(cli: Cli) -> None:
    shown = cli.ok("orders", "show", "--help").stdout
    assert "ORDER  Order number, id or reference." in shown


def test_a_typo_is_suggested_once(cli: Cli) -> None:
    run = cli("orders", "lst")
    assert run.exit_code == 2
    assert run.stderr.count("Did you mean") == 1
    assert "Error: No such command 'lst'. Did you mean 'list'?" in run.stderr


def test_completion_can_be_installed(cli: Cli) -> None:
    shown = cli.ok("--help").stdout
    assert "--install-completion" in shown
    assert "--show-completion" in shown


def _complete(words: str) -> list[str]:
    """What bash completion offers after `words` (the installed executable, as a shell runs it)."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    env = {
        **os.environ,
        "_AVASAM_COMPLETE": "complete_bash",
        "COMP_WORDS": words,
        "COMP_CWORD": str(len(words.split()) - (0 if words.endswith(" ") else 1)),
    }
    done = subprocess.run(
        [str(Path(sys.executable).with_name("avasam"))],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


def test_fixed_vocabularies_are_completed() -> None:
    assert _complete("avasam orders cancel X --reason ") == [
        "customer_changed_mind",
        "out_of_stock",
        "address_problem",
        "duplicate_order",
        "price_error",
        "other",
    ]
    assert _complete("avasam channels add x --type ") == ["file", "shopify", "woocommerce"]
    assert _complete("avasam exports add x --protocol ") == ["ftp", "ftps", "sftp", "file"]
    assert _complete("avasam exports add x --file-format ") == ["csv", "json"]
    assert _complete("avasam tickets raise X --kind ") == ["cancel_request", "query", "return"]
    assert _complete("avasam suppliers shipping OAKCO ") == [
        "standard",
        "standard_tracked",
        "expedited",
    ]


def test_names_are_completed_from_the_workspace(cli: Cli, db_url: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    for name in ("shop", "shed", "web"):
        cli.ok("channels", "add", name, "--type", "file", "--path", str(tmp_path))
    cli.ok("channels", "remove", "shed")
    assert _complete("avasam channels show s") == ["shop"]
    assert _complete("avasam channels pull ") == ["manual", "shop", "web"]
    cli.ok("suppliers", "add", "OAKCO", "--name", "Oak")
    assert _complete("avasam suppliers show O") == ["OAKCO"]


def test_completion_without_a_database_offers_nothing(monkeypatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("AVASAM_DATABASE_URL", "postgresql://nobody@127.0.0.1:1/none")
    assert _complete("avasam channels show ") == []
    monkeypatch.setenv("AVASAM_DATABASE_URL", f"sqlite:///{tmp_path / 'missing.db'}")
    assert _complete("avasam exports show ") == []


def test_choices_are_listed_in_the_help(cli: Cli) -> None:
    shown = " ".join(cli.ok("orders", "cancel", "--help").stdout.split())
    assert (
        "[customer_changed_mind|out_of_stock|address_problem|duplicate_order|price_error|other]"
        in shown
    )
    shown = " ".join(cli.ok("exports", "add", "--help").stdout.split())
    assert "--protocol [ftp|ftps|sftp|file]" in shown
    assert "--file-format [csv|json]" in shown


@pytest.mark.parametrize(
    "args",
    [
        ["orders", "list", "--limit", "99999999999999999999"],
        ["orders", "list", "--offset", "9223372036854775808"],
        ["account", "ledger", "--limit", "9223372036854775808"],
        ["status", "--stale-days", "100000000"],
        ["tickets", "show", "99999999999999999999"],
        ["exports", "add", "x", "--port", "70000"],
        ["exports", "add", "x", "--port", "0"],
    ],
)
def test_numbers_beyond_their_bounds_are_usage_errors(cli: Cli, args: list[str]) -> None:
    run = cli(*args)
    assert run.exit_code == 2
    assert "is not in the range" in run.stderr
    assert "Traceback" not in run.stderr


def test_an_unwritable_job_log_is_one_error_line(cli: Cli, db_url: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    log = tmp_path / "jobs.log"
    log.mkdir()  # a folder where the log file should be
    run = cli("--log-file", str(log), "orders", "process")
    assert run.exit_code == 1
    assert run.stderr.count("\n") == 1 and run.stderr.startswith(
        "Error: AVASAM_LOG_FILE (or --log-file)"
    )
