"""Dependencies point inward (CONVENTIONS 12, ARCHITECTURE.md): the import graph of the
package, read from its source files (every `import` and `from ... import`, also those inside
functions), says so.

- nothing in `avasam_cli.core` reaches typer or click, directly or through other modules;
- the adapters (`core.channels`, `core.transports`) never import the services;
- nothing in `avasam_cli.core` imports the command line (`avasam_cli.commands`);
- only the settings module reads the environment (`os.environ`, `os.getenv`).
"""

from __future__ import annotations

import ast
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

import avasam_cli

PACKAGE = "avasam_cli"
ROOT = Path(avasam_cli.__file__).resolve().parent
CLI_LIBRARIES = {"typer", "click"}
# The entrypoints: the only modules allowed to know the command-line libraries.
ENTRYPOINTS = (
    "avasam_cli.commands",
    "avasam_cli.main",
    "avasam_cli.render",
    "avasam_cli.state",
    "avasam_cli.params",
    "avasam_cli.progress",
    "avasam_cli.failures",
    "avasam_cli.switches",
    "avasam_cli.__main__",
)
SETTINGS_MODULE = "avasam_cli.core.config"


@dataclass
class Module:
    name: str
    path: Path
    tree: ast.Module
    internal: set[str] = field(default_factory=set)  # avasam_cli modules it imports
    external: set[str] = field(default_factory=set)  # top-level names of other packages


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_package(path: Path) -> bool:
    return path.name == "__init__.py"


def _resolve(importer: str, is_package: bool, level: int, module: str | None) -> str:
    """The absolute name of a (possibly relative) `from` import's module."""
    if level == 0:
        return module or ""
    base = importer.split(".")
    base = base if is_package else base[:-1]
    base = base[: len(base) - (level - 1)]
    return ".".join([*base, module] if module else base)


def _with_parents(name: str, known: set[str]) -> set[str]:
    """Importing a.b.c runs a/__init__ and a/b/__init__ first: they count too."""
    parts = name.split(".")
    return {".".join(parts[:n]) for n in range(1, len(parts) + 1)} & known


def _load() -> dict[str, Module]:
    modules: dict[str, Module] = {}
    for path in sorted(ROOT.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        modules[_module_name(path)] = Module(_module_name(path), path, tree)
    known = set(modules)
    for module in modules.values():
        package = _is_package(module.path)
        for node in ast.walk(module.tree):  # ast.walk: imports inside functions too
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = _resolve(module.name, package, node.level, node.module)
                # `from pkg import sub` imports the submodule pkg.sub when there is one.
                targets = [
                    base,
                    *(
                        f"{base}.{alias.name}"
                        for alias in node.names
                        if f"{base}.{alias.name}" in known
                    ),
                ]
            for target in targets:
                if target.split(".")[0] == PACKAGE:
                    module.internal |= _with_parents(target, known) - {module.name}
                elif target:
                    module.external.add(target.split(".")[0])
    return modules


MODULES = _load()


def _under(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def _path_to(start: str, found: Callable[[str], bool]) -> list[str] | None:
    """The shortest import chain from `start` to a module for which `found` is true."""
    seen, queue = {start}, deque([[start]])
    while queue:
        chain = queue.popleft()
        if found(chain[-1]):
            return chain
        for nxt in sorted(MODULES[chain[-1]].internal - seen):
            seen.add(nxt)
            queue.append([*chain, nxt])
    return None


CORE = sorted(name for name in MODULES if _under(name, "avasam_cli.core"))
ADAPTERS = sorted(
    name
    for name in MODULES
    if _under(name, "avasam_cli.core.channels") or _under(name, "avasam_cli.core.transports")
)


def test_the_graph_is_read() -> None:
    """A parser that silently found nothing would pass every rule below."""
    assert len(MODULES) > 40
    assert "avasam_cli.core.channels" in MODULES["avasam_cli.core.services.pull"].internal
    assert {"typer", "click"} <= MODULES["avasam_cli.main"].external
    assert "sqlalchemy" in MODULES["avasam_cli.core.models"].external
    # An import inside a function counts (channels/__init__ builds adapters lazily).
    assert "avasam_cli.core.channels.files" in MODULES["avasam_cli.core.channels"].internal
    assert all(not _under(name, "avasam_cli.core") for name in ENTRYPOINTS)


@pytest.mark.parametrize("name", CORE)
def test_the_core_never_reaches_the_command_line_libraries(name: str) -> None:
    chain = _path_to(name, lambda m: bool(MODULES[m].external & CLI_LIBRARIES))
    assert chain is None, (
        f"{' -> '.join(chain)} imports {', '.join(sorted(MODULES[chain[-1]].external & CLI_LIBRARIES))}"
    )


@pytest.mark.parametrize("name", ADAPTERS)
def test_adapters_never_import_the_services(name: str) -> None:
    chain = _path_to(name, lambda m: _under(m, "avasam_cli.core.services"))
    assert chain is None, " -> ".join(chain)


@pytest.mark.parametrize("name", CORE)
def test_the_core_never_imports_the_commands(name: str) -> None:
    chain = _path_to(name, lambda m: _under(m, "avasam_cli.commands") or m in ENTRYPOINTS)
    assert chain is None, " -> ".join(chain)


def _reads_environment(tree: ast.Module) -> list[int]:
    """Lines that use os.environ or os.getenv, or import either from os."""
    names = ("environ", "getenv")
    return [
        node.lineno
        for node in ast.walk(tree)
        if (
            isinstance(node, ast.Attribute)
            and node.attr in names
            and isinstance(node.value, ast.Name)
            and node.value.id == "os"
        )
        or (
            isinstance(node, ast.ImportFrom)
            and node.module == "os"
            and any(alias.name in names for alias in node.names)
        )
    ]


def test_only_the_settings_module_reads_the_environment() -> None:
    readers = {
        name: lines
        for name, module in MODULES.items()
        if (lines := _reads_environment(module.tree)) and name != SETTINGS_MODULE
    }
    assert readers == {}
    assert _reads_environment(MODULES[SETTINGS_MODULE].tree)  # the check can see one
