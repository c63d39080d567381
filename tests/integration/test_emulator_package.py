"""`twilio_emulator` is a package of its own beside the service: it imports nothing from it."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import grimp

import twilio_emulator

PACKAGE = Path(twilio_emulator.__file__).parent
SERVICE = "clienteling_setup"


def _imported_modules(source: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(source.read_text(), str(source))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module)
    return found


def test_no_module_imports_the_service() -> None:
    modules = sorted(PACKAGE.rglob("*.py"))
    assert len(modules) > 10
    offenders = {
        f"{path.relative_to(PACKAGE)}: {name}"
        for path in modules
        for name in _imported_modules(path)
        if name == SERVICE or name.startswith(SERVICE + ".")
    }
    assert not offenders


def test_modules_form_a_dag() -> None:
    graph = grimp.build_graph("twilio_emulator")
    modules = sorted(graph.modules)
    edges = {m: graph.find_modules_directly_imported_by(m) & set(modules) for m in modules}
    done: set[str] = set()

    def visit(module: str, path: list[str]) -> None:
        assert module not in path, "import cycle: " + " -> ".join([*path, module])
        if module in done:
            return
        for imported in sorted(edges[module]):
            visit(imported, [*path, module])
        done.add(module)

    for module in modules:
        visit(module, [])


def test_python_m_twilio_emulator_help_runs_without_the_service() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "twilio_emulator", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "--port" in done.stdout
    loaded = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, twilio_emulator, twilio_emulator.__main__; "
            f"print(sorted(m for m in sys.modules if m.split('.')[0] == {SERVICE!r}))",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert loaded.returncode == 0, loaded.stderr
    assert loaded.stdout.strip() == "[]"
