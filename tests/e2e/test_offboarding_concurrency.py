"""Offboarding under concurrency, on two server processes sharing one PostgreSQL database and
one Twilio (the emulator): a repeated offboarding releases once and answers alike, and an
offboarding racing an onboarding of the same store never leaves a number owned that no store
claims, nor a store recording a number Twilio no longer has."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, select

from clienteling_setup.numbers.models import NumberClaim
from clienteling_setup.onboarding.models import StoreOnboarding
from tests.e2e.processes import Deployment, ServerProcess, token
from tests.service.helpers import STORES
from tests.support import postgres_database
from twilio_emulator import EmulatorServer, EmulatorState

pytestmark = pytest.mark.slow

TENANT = "acme"
STORES_PER_RACE = 6
REPEATS = 6  # offboard requests per store, released together


@pytest.fixture
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    emulator = EmulatorServer(EmulatorState(seed=17), port=0).start()
    try:
        with postgres_database() as url:
            deployment = Deployment(url, emulator, Path(tmp_path_factory.mktemp("offboard")))
            deployment.run("migrate")
            yield deployment
    finally:
        emulator.stop()


@pytest.fixture
def servers(deployment: Deployment) -> Iterator[list[ServerProcess]]:
    started: list[ServerProcess] = []
    try:
        for name in ("server-a", "server-b"):
            started.append(deployment.start_server(name))
        yield started
    finally:
        for server in started:
            server.stop()


def client(server: ServerProcess) -> httpx.Client:
    headers = {"Authorization": f"Bearer {token(TENANT)}", "Tenant": TENANT}
    return httpx.Client(base_url=server.base_url, headers=headers, timeout=60)


@pytest.fixture
def twilio(servers: list[ServerProcess]) -> dict[str, str]:
    with client(servers[0]) as api:
        enabled = api.post(
            "/clienteling/configuration", json={"ecom_link": "https://www.dodici.example"}
        )
        assert enabled.status_code == 201, enabled.text
        return enabled.json()["twilio"]  # type: ignore[no-any-return]


def onboard_stores(server: ServerProcess, prefix: str, numbers: Iterator[str]) -> dict[str, str]:
    onboarded = {}
    with client(server) as api:
        for i in range(STORES_PER_RACE):
            store_id = f"{prefix}-{i}"
            assert api.put(f"/clienteling/stores/{store_id}", json=STORES["us-nyc"]).is_success
            number = next(numbers)
            response = api.post(
                f"/clienteling/stores/{store_id}/onboard", json={"phone_number": number}
            )
            assert response.status_code == 201, response.text
            onboarded[store_id] = number
    return onboarded


Request = tuple[str, dict[str, Any]]


def fire(servers: list[ServerProcess], requests: list[Request]) -> list[httpx.Response]:
    """POST every request at once, alternating between the two servers."""
    barrier = threading.Barrier(len(requests))
    results: list[httpx.Response | BaseException | None] = [None] * len(requests)

    def one(i: int) -> None:
        try:
            with client(servers[i % len(servers)]) as api:
                barrier.wait(timeout=30)
                results[i] = api.post(requests[i][0], json=requests[i][1])
        except BaseException as exc:  # reported below
            results[i] = exc

    threads = [threading.Thread(target=one, args=(i,)) for i in range(len(requests))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    answers = [r for r in results if isinstance(r, httpx.Response)]
    assert len(answers) == len(requests), results
    return answers


def check_consistent(deployment: Deployment, twilio: dict[str, str]) -> None:
    """The emulator owns exactly the claimed numbers; every onboarded store's number is owned
    and in the Messaging Service, and nothing else is there."""
    state = deployment.emulator.state
    engine = create_engine(deployment.database_url)
    try:
        with engine.connect() as db:
            claimed = set(db.scalars(select(NumberClaim.phone_number)))
            onboarded = set(
                db.scalars(
                    select(StoreOnboarding.phone_number).where(
                        StoreOnboarding.status == "onboarded"
                    )
                )
            )
            recorded = set(db.scalars(select(StoreOnboarding.phone_number)))
    finally:
        engine.dispose()
    owned = {n.phone_number for n in state.owned_numbers(twilio["sid"])}
    members = {
        m.phone_number for m in state.messaging_service_numbers(twilio["messaging_service_sid"])
    }
    assert owned == claimed, owned ^ claimed
    assert recorded <= owned, recorded - owned
    assert members == onboarded


def released_once(state: EmulatorState, sub: str) -> Callable[[str], int]:
    def count(sid: str) -> int:
        return sum(
            1
            for r in state.requests
            if r.method == "DELETE"
            and r.account_sid == sub
            and r.path.endswith(f"/IncomingPhoneNumbers/{sid}.json")
            and r.status == 204
        )

    return count


def test_a_repeated_offboarding_releases_once_and_answers_alike(
    deployment: Deployment, servers: list[ServerProcess], twilio: dict[str, str]
) -> None:
    state = deployment.emulator.state
    numbers = iter(n.phone_number for n in state.pool("US", "local"))
    stores = onboard_stores(servers[0], "rep", numbers)
    sids = {n.phone_number: n.sid for n in state.owned_numbers(twilio["sid"])}
    state.latency = 0.05
    try:
        answers = fire(
            servers,
            [(f"/clienteling/stores/{s}/offboard", {}) for s in stores for _ in range(REPEATS)],
        )
    finally:
        state.latency = 0
    for answer in answers:
        assert answer.status_code in (200, 202), answer.text
        assert answer.json()["status"] == (
            "offboarded" if answer.status_code == 200 else "in_progress"
        )
    count = released_once(state, twilio["sid"])
    for store_id, number in stores.items():
        assert count(sids[number]) == 1, store_id
        finals = [
            a.json()
            for a in answers
            if a.status_code == 200 and a.url.path.split("/")[3] == store_id
        ]
        with client(servers[1]) as api:
            again = api.post(f"/clienteling/stores/{store_id}/offboard")
        assert again.status_code == 200
        assert all(body == again.json() for body in finals)
        assert again.json()["released_numbers"] == [number]
    check_consistent(deployment, twilio)


@pytest.mark.parametrize("release", [True, False], ids=["releasing", "keeping"])
def test_offboarding_racing_onboarding_of_the_same_store_stays_consistent(
    deployment: Deployment, servers: list[ServerProcess], twilio: dict[str, str], release: bool
) -> None:
    state = deployment.emulator.state
    pool = iter(n.phone_number for n in state.pool("US", "local"))
    stores = onboard_stores(servers[0], "race", pool)
    fresh = {store_id: next(pool) for store_id in stores}
    requests: list[Request] = []
    for store_id, number in stores.items():
        # Onboarding again: the kept number, or a new one after a release.
        again = {"phone_number": fresh[store_id] if release else number}
        requests.append((f"/clienteling/stores/{store_id}/offboard", {"release_number": release}))
        requests.append((f"/clienteling/stores/{store_id}/onboard", again))
    state.latency = 0.05
    try:
        answers = fire(servers, requests)
    finally:
        state.latency = 0
    for answer in answers:
        assert answer.status_code in (200, 201, 202, 409), answer.text
        if answer.status_code == 409:
            assert answer.json()["message"]
    check_consistent(deployment, twilio)
    # Every store can be onboarded (again) and offboarded afterwards.
    with client(servers[0]) as api:
        for store_id, number in stores.items():
            again = fresh[store_id] if release else number
            onboarded = api.post(
                f"/clienteling/stores/{store_id}/onboard", json={"phone_number": again}
            )
            assert onboarded.status_code in (200, 201), onboarded.text
    check_consistent(deployment, twilio)
