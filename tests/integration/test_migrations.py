"""The migrations build the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect, text

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


def test_the_store_import_upgrades_a_sqlite_database_only_when_it_is_behind(
    tmp_path: Path,
) -> None:
    """`upgrade_sqlite` reads the head from the migration files' text (no Alembic import at
    each store import): the same head as Alembic's; a database at an older revision, or none
    at all, is upgraded; one at the head is left as it is."""
    assert (
        migrate.single_head()
        == ScriptDirectory.from_config(migrate.alembic_config("sqlite://")).get_current_head()
    )
    url = sqlite_url(tmp_path)

    def revision() -> str:
        engine = create_engine(url)
        try:
            with engine.connect() as conn:
                return str(conn.execute(text("SELECT version_num FROM alembic_version")).scalar())
        finally:
            engine.dispose()

    migrate.upgrade_sqlite(url)  # no database yet
    assert revision() == migrate.single_head()
    command.downgrade(migrate.alembic_config(url), "-1")
    assert revision() != migrate.single_head()
    migrate.upgrade_sqlite(url)
    assert revision() == migrate.single_head()
    # At the head: Alembic is not even imported (a process of its own, to see that).
    program = (
        "import sys; from clienteling_setup.db import migrate; "
        f"migrate.upgrade_sqlite({url!r}); print('alembic' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, check=True)
    assert done.stdout.decode().strip() == "False"
    assert revision() == migrate.single_head()


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_the_number_registry_is_filled_from_existing_claims(backend: str, tmp_path: Path) -> None:
    """Upgrading a database written before the registry: every SMS number is claimed by its
    store; a dedicated WhatsApp number by its store; the WhatsApp sender on a store's own SMS
    number adds nothing; and a number the old race left on two stores goes to the first."""

    def check(url: str) -> None:
        command.upgrade(migrate.alembic_config(url), BEFORE_REGISTRY)
        engine = create_engine(url)
        try:
            with engine.begin() as conn:
                for store, number, minute in (("a", "+12125550101", 1), ("b", "+12125550102", 2)):
                    conn.execute(text(ONBOARDING), {"s": store, "n": number, "at": at(minute)})
                senders = (
                    ("a", "+12125550101", 3),  # a's own SMS number
                    ("b", "+12125550199", 4),  # b's dedicated number, registered first
                    ("c", "+12125550199", 5),  # the same number, on c: the old race
                )
                for store, number, minute in senders:
                    conn.execute(text(SENDER), {"s": store, "n": number, "at": at(minute)})
            migrate.upgrade(url)
            with engine.connect() as conn:
                claims = conn.execute(
                    text(
                        "SELECT phone_number, store_id, channel FROM number_claims "
                        "ORDER BY phone_number"
                    )
                ).all()
        finally:
            engine.dispose()
        assert [tuple(row) for row in claims] == [
            ("+12125550101", "a", "sms"),
            ("+12125550102", "b", "sms"),
            ("+12125550199", "b", "whatsapp"),
        ]

    if backend == "sqlite":
        check(sqlite_url(tmp_path))
    else:
        with postgres_database() as url:
            check(url)


BEFORE_REGISTRY = "cec4c1c6c9f7"
ONBOARDING = (
    "INSERT INTO store_onboardings (tenant_id, store_id, phone_number, kind, already_purchased, "
    "step, status, enabled, created_at, updated_at) VALUES ('acme', :s, :n, 'dedicated', false, "
    "'onboarded', 'onboarded', false, :at, :at)"
)
SENDER = (
    "INSERT INTO whatsapp_senders (tenant_id, store_id, phone_number, waba_id, status, "
    "created_at, updated_at) VALUES ('acme', :s, :n, '123456', 'online', :at, :at)"
)


def at(minute: int) -> datetime:
    return datetime(2026, 11, 30, 12, minute, tzinfo=UTC)
