"""The architecture, checked: SQL lives in repositories (and migrations) only, and the layers
and independence contracts in pyproject.toml hold (import-linter)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src"
PACKAGE = SRC / "clienteling_setup"

#: The query builders and session calls that make SQL.
QUERY_BUILDERS = {"select", "insert", "update", "delete", "text", "func", "exists", "union"}
SESSION_QUERIES = {"execute", "scalar", "scalars", "get", "query", "merge", "add", "add_all"}

#: Modules that may hold SQL: repositories, migrations, and the engine's own setup.
ALLOWED = ("repository.py", "migrations/", "db/session.py")


def _allowed(path: Path) -> bool:
    relative = path.relative_to(PACKAGE).as_posix()
    return relative.endswith(ALLOWED[0]) or any(relative.startswith(a) for a in ALLOWED[1:])


def _sql_in(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("sqlalchemy"):
            names = {alias.name for alias in node.names} & QUERY_BUILDERS
            if names and node.module in ("sqlalchemy", "sqlalchemy.sql"):
                found.append(f"line {node.lineno}: imports {sorted(names)} from {node.module}")
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in SESSION_QUERIES
            and isinstance(node.func.value, ast.Name | ast.Attribute)
            and "session" in ast.unparse(node.func.value).lower()
        ):
            found.append(f"line {node.lineno}: {ast.unparse(node.func)}(...)")
    return found


def test_no_sqlalchemy_query_outside_repositories_and_migrations() -> None:
    offenders = {
        str(path.relative_to(SRC)): hits
        for path in sorted(PACKAGE.rglob("*.py"))
        if not _allowed(path) and (hits := _sql_in(path))
    }
    assert offenders == {}, "SQL outside a repository module:\n" + "\n".join(
        f"{path}: {'; '.join(hits)}" for path, hits in offenders.items()
    )


def test_the_check_finds_sql_where_it_does_not_belong(tmp_path: Path) -> None:
    """The scan above must be able to fail: a service that queries is caught."""
    sample = PACKAGE / "stores" / "service.py"
    text = (
        "from sqlalchemy import select\n"
        "def leak(session, tenant):\n"
        "    return session.scalars(select(Store))\n"
    )
    probe = tmp_path / "probe.py"
    probe.write_text(text)
    hits = _sql_in(probe)
    assert len(hits) == 2, hits
    assert not _allowed(sample)
    assert _allowed(PACKAGE / "stores" / "repository.py")


def test_import_contracts_hold() -> None:
    linter = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run(
        [str(linter), "--no-cache"],
        cwd=SRC.parent,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout, result.stdout
