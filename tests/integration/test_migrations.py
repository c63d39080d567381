"""The migrations build the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect

from clienteling_setup.db import migrate
from clienteling_setup.db.all_models import Base
from tests.support import postgres_database, sqlite_url


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_upgrade_head_matches_the_models(backend: str, tmp_path: Path) -> None:
    def check(url: str) -> None:
        migrate.upgrade(url)
        migrate.check(url)  # raises when models and migrations disagree
        engine = create_engine(url)
        try:
            tables = set(inspect(engine).get_table_names())
        finally:
            engine.dispose()
        assert set(Base.metadata.tables) <= tables
        migrate.upgrade(url)  # a second run is a no-op

    if backend == "sqlite":
        check(sqlite_url(tmp_path))
    else:
        with postgres_database() as url:
            check(url)
