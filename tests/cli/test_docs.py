"""docs/cli.md, the command reference, is what scripts/cli_docs.py makes of the app today.

The reference is generated; after changing a command, an argument, an option or a help text,
run `.venv/bin/python scripts/cli_docs.py` and commit docs/cli.md. When the suite runs from a
copy against the installed wheel, the document and the generator are read from the source
tree (REPO); the app they describe is the installed one.
"""

from __future__ import annotations

import difflib
import functools
import importlib.util
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from tests.support import REPO

DOC = REPO / "docs" / "cli.md"
SCRIPT = REPO / "scripts" / "cli_docs.py"
REGENERATE = "run `.venv/bin/python scripts/cli_docs.py` and commit docs/cli.md"

# A floor, so that a generator that finds no commands cannot pass with an empty document.
MUST_MENTION = [
    "avasam",
    "avasam init",
    "avasam config",
    "avasam status",
    "avasam orders list",
    "avasam orders add",
    "avasam channels pull",
    "avasam exports run",
    "avasam exports add",
    "avasam db upgrade",
    "avasam tickets close",
]


@functools.cache
def generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("avasam_cli_docs", SCRIPT)
    assert spec and spec.loader, f"cannot load {SCRIPT}"
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _document() -> str:
    if not DOC.exists():
        pytest.fail(f"{DOC} is missing: {REGENERATE}")
    return DOC.read_text(encoding="utf-8")


def test_cli_md_is_up_to_date() -> None:
    expected = generator().render()
    actual = _document()
    if actual != expected:
        diff = list(
            difflib.unified_diff(
                actual.splitlines(),
                expected.splitlines(),
                "docs/cli.md (committed)",
                "docs/cli.md (generated)",
                lineterm="",
                n=1,
            )
        )
        shown = "\n".join(diff[:80]) + ("\n..." if len(diff) > 80 else "")
        pytest.fail(
            f"docs/cli.md is out of date with the CLI: {REGENERATE}.\n{shown}", pytrace=False
        )


def test_cli_md_documents_every_command() -> None:
    document = _document()
    paths = generator().command_paths()
    assert set(MUST_MENTION) <= set(paths), "the generator lost commands of the app"
    missing = [path for path in paths if f"`{path}`" not in document]
    assert not missing, f"docs/cli.md does not document {missing}: {REGENERATE}"
    assert "do not edit by hand" in "\n".join(document.splitlines()[:5])


def test_generated_text_shows_names_of_variables_never_their_values(tmp_path: Path) -> None:
    """Terminal width, home directory, settings and Typer's own variables change nothing:
    the generator runs in a fresh process (so import-time defaults count too) with odd ones."""
    text = generator().render()
    assert "[env var: AVASAM_DATABASE_URL]" in text
    assert str(tmp_path) not in text  # conftest points AVASAM_DATABASE_URL into tmp_path

    odd = "ZZODDZZ"
    env = {
        **os.environ,
        "AVASAM_DATABASE_URL": f"sqlite:////{odd}/x.db",
        "AVASAM_LOG_FILE": f"/{odd}/jobs.log",
        "AVASAM_TIMEZONE": "Pacific/Chatham",
        "AVASAM_ACTOR": odd,
        "AVASAM_HTTP_TIMEOUT": "7",
        "HOME": str(tmp_path / odd),
        "XDG_DATA_HOME": str(tmp_path / odd / "data"),
        "XDG_STATE_HOME": str(tmp_path / odd / "state"),
        "COLUMNS": "40",
        "LINES": "5",
        "TERMINAL_WIDTH": "33",
        "TYPER_USE_RICH": "0",
        "_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION": "1",
    }
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--stdout"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert odd not in done.stdout
    assert "Chatham" not in done.stdout
    assert done.stdout == text
