"""Write docs/cli.md, the command reference, from the avasam app itself.

    .venv/bin/python scripts/cli_docs.py            # rewrite docs/cli.md
    .venv/bin/python scripts/cli_docs.py --check    # exit 1 if docs/cli.md is out of date
    .venv/bin/python scripts/cli_docs.py --stdout   # print the reference instead

tests/cli/test_docs.py fails when docs/cli.md differs from what `render()` returns, so run
this after changing a command, an argument, an option or a help text, and commit the result.

The text depends only on the code: it walks the click command tree (`typer.main.get_command`)
and uses each parameter's own help record (as `--help` shows it, without wrapping, so the
terminal width cannot matter). Defaults come from the code, never from the environment: an
option shows the NAME of its variable ([env var: AVASAM_DATABASE_URL]), never its value.
`typer ... utils docs` is not used: it documents `--help` without `-h`, cuts every command's
summary at 45 characters and relies on an internal Typer function.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click

REPO = Path(__file__).resolve().parent.parent
OUTPUT = REPO / "docs" / "cli.md"
REGENERATE = ".venv/bin/python scripts/cli_docs.py"
PROG = "avasam"
WIDTH = 80  # click's formatter width, pinned; nothing below wraps text anyway

# Environment variables that change how Typer builds or words the command tree.
_TYPER_ENV = (
    "_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION",
    "TYPER_USE_RICH",
    "TERMINAL_WIDTH",
    "COLUMNS",
    "LINES",
)


@contextmanager
def _neutral_environment() -> Iterator[None]:
    saved = {name: os.environ.pop(name) for name in _TYPER_ENV if name in os.environ}
    try:
        yield
    finally:
        os.environ.update(saved)


def _command_tree() -> click.Command:
    import typer

    from avasam_cli.main import app

    with _neutral_environment():
        return typer.main.get_command(app)


_CODE_SPAN = re.compile(r"(`[^`]*`)")
_LONE_UNDERSCORE = re.compile(r"(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])")


def _md(text: str) -> str:
    """Help text as Markdown prose: its lines joined, `code spans` kept, and the characters
    Markdown would read as emphasis or HTML (as in '*/30 * * * *' or ***) escaped."""
    pieces = _CODE_SPAN.split(" ".join(text.split()))
    for i in range(0, len(pieces), 2):  # the even pieces are outside code spans
        piece = pieces[i].replace("\\", "\\\\").replace("*", "\\*").replace("<", "\\<")
        pieces[i] = _LONE_UNDERSCORE.sub(r"\\_", piece)
    return "".join(pieces)


def _help_text(help_text: str) -> list[str]:
    """The command's docstring, paragraph by paragraph; `Example:` as a console block."""
    lines: list[str] = []
    for paragraph in help_text.strip().split("\n\n"):
        paragraph = paragraph.strip("\n")
        if paragraph.startswith("\b"):  # click's "do not rewrap" marker
            paragraph = paragraph[1:].strip("\n")
        if paragraph.startswith("Example:"):
            command = paragraph.removeprefix("Example:").strip().splitlines()
            lines += [
                "**Example:**",
                "",
                "```console",
                "$ " + " \\\n      ".join(line.strip() for line in command),
                "```",
                "",
            ]
        elif paragraph.strip():
            lines += [_md(paragraph), ""]
    return lines


def _anchor(path: str) -> str:
    """The id GitHub gives the heading `path` (a command path: words and hyphens)."""
    return "#" + re.sub(r"[^a-z0-9 _-]", "", path.lower()).replace(" ", "-")


def _parameter(param: click.Parameter, ctx: click.Context) -> str | None:
    """One bullet: the parameter as `--help` shows it, its help, default, variable, choices."""
    if getattr(param, "hidden", False):
        return None
    record = param.get_help_record(ctx)  # Typer gives arguments one too; click does not
    declaration, help_text = record or (param.make_metavar(ctx), "")
    if isinstance(param.type, click.Choice):
        choices = [str(choice) for choice in param.type.choices]
        if "|".join(choices) not in declaration:  # a metavar hides them
            help_text = f"{help_text}  [choices: {', '.join(choices)}]".strip()
    line = f"* `{declaration}`"
    return f"{line}: {_md(help_text)}" if help_text else line


def _section(command: click.Command, ctx: click.Context, depth: int) -> list[str]:
    path = ctx.command_path
    lines = [f"{'#' * min(depth + 1, 6)} `{path}`", ""]
    if command.deprecated:
        lines += ["**Deprecated.**", ""]
    usage = " ".join([path, *command.collect_usage_pieces(ctx)])
    lines += ["**Usage:**", "", "```console", f"$ {usage}", "```", ""]
    lines += _help_text(command.help or "")

    params = [(p, _parameter(p, ctx)) for p in command.params]
    for title, kind in (("Arguments", click.Argument), ("Options", click.Option)):
        shown = [line for p, line in params if isinstance(p, kind) and line]
        if shown:
            lines += [f"**{title}:**", "", *shown, ""]

    subcommands: list[tuple[str, click.Command, click.Context]] = []
    if isinstance(command, click.Group):
        for name in command.list_commands(ctx):  # in the order `--help` lists them
            sub = command.get_command(ctx, name)
            if sub is None or sub.hidden:
                continue
            sub_ctx = click.Context(sub, parent=ctx, info_name=name, **sub.context_settings)
            subcommands.append((name, sub, sub_ctx))
    if subcommands:
        lines += ["**Commands:**", ""]
        for name, sub, sub_ctx in subcommands:
            summary = _md(sub.get_short_help_str(limit=10_000))
            lines.append(
                f"* [`{name}`]({_anchor(sub_ctx.command_path)})"
                + (f": {summary}" if summary else "")
            )
        lines.append("")
    for _name, sub, sub_ctx in subcommands:
        lines += _section(sub, sub_ctx, depth + 1)
    return lines


def command_paths(root: click.Command | None = None) -> list[str]:
    """Every command's path, `avasam` first, e.g. `avasam orders list`."""
    root = root or _command_tree()
    found: list[str] = []

    def walk(command: click.Command, path: str) -> None:
        found.append(path)
        if isinstance(command, click.Group):
            ctx = click.Context(command)
            for name in command.list_commands(ctx):
                sub = command.get_command(ctx, name)
                if sub is not None and not sub.hidden:
                    walk(sub, f"{path} {name}")

    walk(root, PROG)
    return found


def render() -> str:
    """The command reference, as docs/cli.md must read."""
    root = _command_tree()
    settings = {**root.context_settings, "terminal_width": WIDTH, "max_content_width": WIDTH}
    ctx = click.Context(root, info_name=PROG, **settings)
    help_names = " or ".join(f"`{name}`" for name in ctx.help_option_names)
    lines = [
        "# Command reference",
        "",
        f"Generated by `{REGENERATE}`; do not edit by hand. Every command also takes "
        f"{help_names}, which prints this help in the terminal.",
        "",
        *_section(root, ctx, 1),
    ]
    return "\n".join(lines).rstrip("\n") + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write docs/cli.md from the avasam app.")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument(
        "--check", action="store_true", help="exit 1 if docs/cli.md is out of date; write nothing"
    )
    mode.add_argument("--stdout", action="store_true", help="print the reference instead")
    args = parser.parse_args(argv)
    text = render()
    if args.stdout:
        sys.stdout.write(text)
        return 0
    current = OUTPUT.read_text(encoding="utf-8") if OUTPUT.exists() else None
    if args.check:
        if current == text:
            return 0
        print(f"{OUTPUT.relative_to(REPO)} is out of date; run: {REGENERATE}", file=sys.stderr)
        return 1
    if current != text:
        OUTPUT.parent.mkdir(parents=True, exist_ok=True)
        OUTPUT.write_text(text, encoding="utf-8")
        print(f"wrote {OUTPUT.relative_to(REPO)}")
    else:
        print(f"{OUTPUT.relative_to(REPO)} is up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
