"""What a user installs is what runs: every module of the source tree is importable from the
installed package, every command answers --help with an example, and the version comes from
the package metadata.

scripts/test.sh runs the suite against the wheel in a scratch virtualenv with
AVASAM_TEST_INSTALLED=1; there, the package must come from site-packages and `avasam` from
that virtualenv, not from the checkout.
"""

from __future__ import annotations

import importlib
import os
import shutil
import subprocess
import sys
import sysconfig
from importlib.metadata import version
from pathlib import Path

import click
import pytest
import typer

import avasam_cli
from avasam_cli.main import app
from tests.support import REPO, Cli

INSTALLED = os.environ.get("AVASAM_TEST_INSTALLED") == "1"


def source_modules() -> list[str]:
    """Every module in the checkout's avasam_cli/, as dotted names."""
    root = REPO / "avasam_cli"
    names = []
    for path in sorted(root.rglob("*.py")):
        parts = path.relative_to(REPO).with_suffix("").parts
        if "versions" in parts:  # Alembic revisions are loaded by path, not imported
            continue
        names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


def test_the_source_tree_has_modules() -> None:
    modules = source_modules()
    assert "avasam_cli.core.channels.shopify" in modules
    assert "avasam_cli.core.transports.sftp" in modules
    assert len(modules) > 50


@pytest.mark.parametrize("module", source_modules())
def test_every_module_imports_from_the_package(module: str) -> None:
    if module in ("avasam_cli.__main__", "avasam_cli.migrations.env"):
        # Running code at import (the CLI; Alembic's environment): present is what counts.
        spec = importlib.util.find_spec(module)
        assert spec is not None and spec.origin is not None
        assert Path(spec.origin).is_file()
        return
    imported = importlib.import_module(module)
    assert imported.__file__ is not None


def test_migrations_ship_with_their_template() -> None:
    package = Path(avasam_cli.__file__).parent
    assert (package / "migrations" / "env.py").is_file()
    assert (package / "migrations" / "script.py.mako").is_file()
    shipped = sorted(p.name for p in (package / "migrations" / "versions").glob("0*.py"))
    source = sorted(p.name for p in (REPO / "avasam_cli" / "migrations" / "versions").glob("0*.py"))
    assert shipped == source


@pytest.mark.skipif(not INSTALLED, reason="only against the installed wheel (scripts/test.sh)")
def test_the_suite_runs_the_installed_wheel() -> None:
    site_packages = Path(sysconfig.get_paths()["purelib"]).resolve()
    package = Path(avasam_cli.__file__).resolve()
    assert site_packages in package.parents, f"avasam_cli imported from {package}"
    assert (REPO / "avasam_cli").resolve() not in package.parents
    executable = shutil.which("avasam")
    assert executable is not None
    assert Path(executable).parent == Path(sys.executable).parent


def test_version_comes_from_the_metadata(cli: Cli) -> None:
    run = cli.ok("--version")
    assert run.stdout == f"avasam {version('avasam')}\n"


def test_the_avasam_executable_runs() -> None:
    executable = Path(sys.executable).with_name("avasam")  # the console script pip made
    assert executable.is_file()
    done = subprocess.run(
        [str(executable), "--version"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"avasam {version('avasam')}"


def _commands(group: click.Group, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found: list[tuple[str, ...]] = []
    for name, command in sorted(group.commands.items()):
        if isinstance(command, click.Group):
            found += _commands(command, (*path, name))
        else:
            found.append((*path, name))
    return found


COMMANDS = _commands(typer.main.get_command(app))  # type: ignore[arg-type]


def test_the_command_tree_is_complete() -> None:
    assert ("orders", "list") in COMMANDS
    assert ("channels", "pull") in COMMANDS
    assert ("exports", "run") in COMMANDS
    assert ("cron", "install") in COMMANDS
    assert len(COMMANDS) > 40


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_every_command_has_help_with_an_example(cli: Cli, command: tuple[str, ...]) -> None:
    run = cli.ok(*command, "--help")
    assert f"Usage: avasam {' '.join(command)}" in run.stdout
    assert "Example: avasam " in run.stdout


def test_a_new_user_can_run_the_cron_jobs_on_an_empty_workspace(tmp_path: Path) -> None:
    """`pip install .`, then init and the recurring jobs, as the README promises."""
    executable = str(Path(sys.executable).with_name("avasam"))
    env = {**os.environ, "AVASAM_DATABASE_URL": f"sqlite:///{tmp_path / 'new.db'}"}
    for args in (
        ["init"],
        ["channels", "pull", "--all"],
        ["orders", "match"],
        ["orders", "process"],
        ["exports", "run", "--due"],
        ["--cron", "status"],
    ):
        done = subprocess.run(
            [executable, *args], capture_output=True, text=True, env=env, timeout=120
        )
        assert done.returncode == 0, f"avasam {' '.join(args)}: {done.stderr}"
        assert "Traceback" not in done.stderr
