"""Bulk onboarding jobs across real processes: a server killed mid-job (SIGKILL) and started
again, two servers sharing one job on PostgreSQL, and `clienteling-setup stores onboard`.

Each store must end with exactly one number, bought once, and no number may be left that no
store holds (an orphan)."""

from __future__ import annotations

import os
import signal
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from tests.e2e.processes import Deployment, ServerProcess, wait_until
from tests.support import Api, postgres_database, sqlite_url
from twilio_emulator import EmulatorServer, EmulatorState

pytestmark = pytest.mark.slow

TENANT = "acme"
JOBS = "/clienteling/onboarding-jobs"
PURCHASE = r"/IncomingPhoneNumbers\.json$"


@contextmanager
def _deployment(database: str, root: Path) -> Iterator[Deployment]:
    emulator = EmulatorServer(EmulatorState(seed=11), port=0).start()
    try:
        with nullcontext(sqlite_url(root)) if database == "sqlite" else postgres_database() as url:
            deployment = Deployment(url, emulator, root)
            deployment.run("migrate")
            yield deployment
    finally:
        emulator.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def deployment(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Deployment]:
    with _deployment(request.param, Path(tmp_path_factory.mktemp("jobs"))) as deployment:
        yield deployment


@pytest.fixture
def postgresql_deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    """Several server processes share a job on PostgreSQL (SQLite runs one)."""
    with _deployment("postgresql", Path(tmp_path_factory.mktemp("jobs"))) as deployment:
        yield deployment


@pytest.fixture
def connect(deployment: Deployment) -> Iterator[Callable[[ServerProcess], Api]]:
    """A client of a server for the tenant; every one is closed after the test."""
    made: list[Api] = []

    def make(server: ServerProcess) -> Api:
        made.append(deployment.api(server, TENANT))
        return made[-1]

    yield make
    for api in made:
        api.client.close()


def _prepare(api: Api, stores: dict[str, str]) -> None:
    """Enable the tenant and put `stores` (id -> country) in its directory."""
    response = api.post("/clienteling/configuration", json={"ecom_link": "https://acme.example"})
    assert response.status_code == 201, response.text
    for store_id, country in stores.items():
        body = {"name": f"Store {store_id}", "country_code": country}
        assert api.put(f"/clienteling/stores/{store_id}", json=body).status_code == 201


def _stores(count: int) -> dict[str, str]:
    """US and GB stores (the emulator's pools: 96 US, 40 GB numbers)."""
    return {
        f"{'us' if i % 3 else 'gb'}-{i:03d}": "GB" if i % 3 == 0 else "US" for i in range(count)
    }


def _job(api: Api, job_id: str) -> dict[str, Any]:
    response = api.get(f"{JOBS}/{job_id}")
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def _wait_finished(api: Api, job_id: str, timeout: float = 240) -> dict[str, Any]:
    wait_until(lambda: _job(api, job_id)["status"] == "finished", "the job", timeout)
    return _job(api, job_id)


def _numbers_by_store(emulator: EmulatorServer, api: Api) -> Counter[str]:
    sub = api.get("/clienteling/configuration").json()["twilio"]["sid"]
    owned = emulator.state.owned_numbers(sub)
    return Counter(n.friendly_name.removeprefix(f"clienteling:{TENANT}:store:") for n in owned)


def _assert_one_number_per_store(
    emulator: EmulatorServer, api: Api, stores: dict[str, str], job: dict[str, Any]
) -> None:
    assert job["counts"]["onboarded"] == len(stores), job["counts"]
    assert job["counts"]["failed"] == 0
    assert _numbers_by_store(emulator, api) == Counter(dict.fromkeys(stores, 1))
    status = api.get("/clienteling/onboarding-status").json()
    held = {s["phone_number"] for s in status["stores"]}
    sub = status["twilio"]["sid"]
    owned = {n.phone_number for n in emulator.state.owned_numbers(sub)}
    assert owned == held  # no orphan: every number bought is a store's
    purchases = [
        r
        for r in emulator.state.requests
        if r.method == "POST"
        and r.path.endswith("IncomingPhoneNumbers.json")
        and (r.status == 201 or r.fault == "after_apply")
    ]
    assert len(purchases) == len(stores)  # each store bought once, the held purchase included


def test_a_server_killed_mid_job_is_replaced_and_the_job_finishes_once_per_store(
    deployment: Deployment, connect: Callable[[ServerProcess], Api]
) -> None:
    emulator = deployment.emulator
    stores = _stores(40)
    first = deployment.start_server("first")
    api = connect(first)
    _prepare(api, stores)
    emulator.state.latency = 0.05  # every Twilio call a little slow
    started = api.post(JOBS, json={"all": True})
    assert started.status_code == 202, started.text
    job_id = started.json()["id"]
    wait_until(lambda: _job(api, job_id)["counts"]["onboarded"] >= 5, "five stores onboarded")
    # The next purchase is made in Twilio, but its answer never comes: the server dies
    # waiting for it, with other stores under way.
    held = emulator.state.add_fault(
        method="POST", path=PURCHASE, kind="after_apply", status=0, delay=600, times=1
    )
    wait_until(lambda: held.hits == 1, "a purchase applied and held")
    (worker,) = first.children()  # the job workers' process
    first.kill()
    # Its workers die with it: none goes on beside the server started next.
    wait_until(lambda: not Path(f"/proc/{worker}").exists(), "the worker process gone")
    emulator.state.clear_faults()
    emulator.state.latency = 0.0

    second = deployment.start_server("second")
    api = connect(second)
    job = _wait_finished(api, job_id)
    _assert_one_number_per_store(emulator, api, stores, job)
    second.stop()


def test_a_worker_process_killed_mid_job_is_started_again_and_the_job_finishes_once_per_store(
    deployment: Deployment, connect: Callable[[ServerProcess], Api]
) -> None:
    """The job workers run in a child process of the server (`clienteling_setup.background`):
    killed alone, mid-purchase, it is started again by the server, which answers throughout."""
    emulator = deployment.emulator
    stores = _stores(30)
    with deployment.start_server("server") as server:
        api = connect(server)
        _prepare(api, stores)
        emulator.state.latency = 0.05
        started = api.post(JOBS, json={"all": True})
        assert started.status_code == 202, started.text
        job_id = started.json()["id"]
        wait_until(lambda: _job(api, job_id)["counts"]["onboarded"] >= 3, "three stores onboarded")
        held = emulator.state.add_fault(
            method="POST", path=PURCHASE, kind="after_apply", status=0, delay=600, times=1
        )
        wait_until(lambda: held.hits == 1, "a purchase applied and held")
        (worker,) = server.children()
        os.kill(worker, signal.SIGKILL)
        assert api.get("/clienteling/onboarding-status").status_code == 200
        emulator.state.clear_faults()
        emulator.state.latency = 0.0
        wait_until(lambda: server.children() - {worker} != set(), "another worker process")
        job = _wait_finished(api, job_id)
        _assert_one_number_per_store(emulator, api, stores, job)


def test_two_servers_share_one_job_without_duplicating_a_store(
    postgresql_deployment: Deployment,
) -> None:
    deployment = postgresql_deployment
    made: list[Api] = []

    def connect(server: ServerProcess) -> Api:
        made.append(deployment.api(server, TENANT))
        return made[-1]

    emulator = deployment.emulator
    stores = _stores(90)
    with (
        deployment.start_server("server-a") as a,
        deployment.start_server("server-b") as b,
    ):
        workers_of = {str(pid): server for server in (a, b) for pid in server.children()}
        api = connect(a)
        _prepare(api, stores)
        emulator.state.latency = 0.05  # every Twilio call a little slow
        started = api.post(JOBS, json={"all": True})
        assert started.status_code == 202, started.text
        job = _wait_finished(connect(b), started.json()["id"])
        emulator.state.latency = 0.0
        _assert_one_number_per_store(emulator, api, stores, job)
        engine = create_engine(deployment.database_url)
        with engine.connect() as conn:
            workers = conn.execute(text("SELECT worker FROM onboarding_job_items")).scalars()
            pids = Counter(str(w).split(".")[1] for w in workers)
        engine.dispose()
        # Each server's worker process (see `clienteling_setup.background`) took part.
        assert {workers_of[pid] for pid in pids} == {a, b}, (pids, workers_of)
    for api in made:
        api.client.close()


def test_the_command_line_plans_then_runs_and_follows_a_job(
    deployment: Deployment, connect: Callable[[ServerProcess], Api]
) -> None:
    emulator = deployment.emulator
    stores = _stores(12)
    with deployment.start_server("server") as server:
        api = connect(server)
        _prepare(api, stores)
    emulator.state.clear_requests()

    plan = deployment.run("stores", "onboard", "--tenant", TENANT, "--all", "--dry-run")

    assert "Would buy 12 number(s). Nothing was bought (dry run)." in plan.stdout
    assert "US: 8 store(s), 8 local number(s) to buy; no bundle needed" in plan.stdout
    assert "GB: 4 store(s), 4 mobile number(s) to buy; with bundle BU" in plan.stdout
    assert "They would cost 13.80 USD a month." in plan.stdout  # 8 x 1.15 + 4 x 1.15
    assert not [r for r in emulator.state.requests if r.method == "POST"]

    # No server runs now: the command works on its job itself.
    done = deployment.run("stores", "onboard", "--tenant", TENANT, "--country", "US")

    assert "Job job_" in done.stdout
    assert "finished: 8 onboarded." in done.stdout
    assert "Onboarding" in done.stderr  # the progress bar
    again = deployment.run("stores", "onboard", "--tenant", TENANT, "--all")
    assert "finished: 4 onboarded." in again.stdout
    with deployment.start_server("server") as server:
        api = connect(server)
        assert _numbers_by_store(emulator, api) == Counter(dict.fromkeys(stores, 1))
        nothing = api.post(JOBS, json={"all": True})
        assert nothing.status_code == 409
