"""Shared fixtures: the Twilio emulator and the service over real HTTP, on SQLite and
PostgreSQL in the same run."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import httpx
import pytest
from sqlalchemy import delete

from clienteling_setup.app import create_app
from clienteling_setup.auth.tokens import issue_token
from clienteling_setup.bootstrap import build_runtime
from clienteling_setup.config import JwtSettings, Settings, TwilioSettings
from clienteling_setup.db.all_models import Base
from clienteling_setup.db.session import transaction
from clienteling_setup.jobs.runner import JobRunner, runner_settings
from clienteling_setup.runtime import Runtime
from tests.support import Api, ThreadedServer, free_port, postgres_database, sqlite_url
from twilio_emulator import EmulatorServer, EmulatorState

TEST_JWT_SECRET = "test-signing-secret-that-is-long-enough-for-hs256"


@pytest.fixture(scope="session")
def emulator() -> Iterator[EmulatorServer]:
    server = EmulatorServer(EmulatorState(seed=1), host="127.0.0.1", port=0).start()
    yield server
    server.stop()


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    if request.param == "sqlite":
        yield sqlite_url(tmp_path_factory.mktemp("sqlite"))
    else:
        with postgres_database() as url:
            yield url


def make_settings(data_dir: Path, database_url: str, emulator: EmulatorServer) -> Settings:
    return Settings(
        data_dir=data_dir,
        database_url=database_url,
        twilio=TwilioSettings(
            mode="emulator",
            api_base_url=emulator.base_url,
            account_sid=emulator.state.master_account_sid,
            auth_token=emulator.state.master_auth_token,
            timeout_seconds=3.0,
        ),
        jwt=JwtSettings(secret=TEST_JWT_SECRET),
        sync_interval_seconds=0,
    )


@dataclass
class Service:
    runtime: Runtime
    server: ThreadedServer

    @property
    def base_url(self) -> str:
        return self.server.base_url

    def token(self, *tenants: str) -> str:
        return issue_token(
            TEST_JWT_SECRET, list(tenants), issuer="clienteling-setup", audience="clienteling-setup"
        )

    def wipe(self) -> None:
        with transaction(self.runtime.sessions) as session:
            for table in reversed(Base.metadata.sorted_tables):
                session.execute(delete(table))
        self.runtime.list_cache.invalidate(lambda _key: True)


@pytest.fixture(scope="session")
def service(
    database_url: str, emulator: EmulatorServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Service]:
    port = free_port()
    settings = make_settings(tmp_path_factory.mktemp("data"), database_url, emulator)
    runtime = build_runtime(
        settings, public_base_url=f"http://127.0.0.1:{port}", apply_migrations=True
    )
    server = ThreadedServer(create_app(runtime), port).start()
    # The bulk onboarding workers, as `serve` runs them (polling faster: tests wait on them).
    jobs = runner_settings(settings.jobs, database_url)
    runner = JobRunner(runtime, replace(jobs, poll_seconds=0.05)).start()
    yield Service(runtime, server)
    runner.stop()
    server.stop()
    runtime.close()


@pytest.fixture
def api(service: Service, emulator: EmulatorServer) -> Iterator[Api]:
    service.wipe()
    emulator.state.reset()
    with httpx.Client(base_url=service.base_url, timeout=30) as client:
        yield Api(service.base_url, service.token("acme"), "acme", client)
    emulator.state.clear_faults()
