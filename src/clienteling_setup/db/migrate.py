"""Alembic, driven from code: `clienteling-setup migrate` and the embedded default use this.

Alembic is imported only when it runs: a command that finds its SQLite database at the head
revision already (`upgrade_sqlite`: the store import, each run) reads that from the database
and from the migration files' text, and does not pay for importing Alembic and its templates,
a sixth of the command's start-up.
"""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"

#: `revision = "..."` and `down_revision = "..."` (or None) at the start of a line of a
#: migration file, as `alembic revision` writes them.
_ASSIGNED = re.compile(r"^(revision|down_revision)(?:\s*:[^=\n]*)?\s*=\s*(.+?)\s*$", re.M)
_LITERAL = re.compile(r'"([0-9A-Za-z_]+)"')


def alembic_config(database_url: str) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    cfg.set_main_option(
        "file_template", "%%(year)d-%%(month).2d-%%(day).2d-%%(hour).2d%%(minute).2d_%%(slug)s"
    )
    return cfg


def upgrade(database_url: str) -> None:
    from alembic import command

    command.upgrade(alembic_config(database_url), "head")


def upgrade_sqlite(database_url: str) -> None:
    """`upgrade` the SQLite database of `database_url`, unless it is at the one head revision
    already."""
    from sqlalchemy.engine import make_url

    name = make_url(database_url).database
    head = single_head()
    if not name or name == ":memory:" or head is None or head != _sqlite_revision(Path(name)):
        upgrade(database_url)


def single_head() -> str | None:
    """The revision no other migration follows, read from the migration files' text; None
    when that is not one plain revision (a merge, a file written another way): then only
    Alembic can tell."""
    revisions: set[str] = set()
    followed: set[str] = set()
    for file in (MIGRATIONS_DIR / "versions").glob("*.py"):
        found = dict(_ASSIGNED.findall(file.read_text("utf-8")))
        revision = _LITERAL.fullmatch(found.get("revision", ""))
        down = found.get("down_revision")
        if revision is None or down is None:
            return None
        revisions.add(revision.group(1))
        if down != "None":
            parent = _LITERAL.fullmatch(down)
            if parent is None:
                return None
            followed.add(parent.group(1))
    heads = revisions - followed
    return heads.pop() if len(heads) == 1 else None


def _sqlite_revision(path: Path) -> str | None:
    """The revision the SQLite database at `path` is at (None: no database, or none yet)."""
    if not path.exists():
        return None
    connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        rows = connection.execute("SELECT version_num FROM alembic_version").fetchall()
    except sqlite3.DatabaseError:
        return None
    finally:
        connection.close()
    return str(rows[0][0]) if len(rows) == 1 else None


def check(database_url: str) -> None:
    """Fails when the models and the migrations disagree."""
    from alembic import command

    command.check(alembic_config(database_url))
