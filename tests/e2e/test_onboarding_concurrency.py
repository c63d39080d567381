"""Acceptance 3: concurrent onboardings of one store, arriving at two server processes that share
one PostgreSQL database and one Twilio (the emulator), buy at most one number."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.processes import Deployment, ServerProcess, token
from tests.service.a2p_helpers import complete_registration
from tests.service.helpers import STORES
from tests.support import postgres_database
from twilio_emulator import EmulatorServer, EmulatorState

pytestmark = pytest.mark.slow

TENANT = "acme"
REQUESTS = 20


@pytest.fixture
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    emulator = EmulatorServer(EmulatorState(seed=7), port=0).start()
    try:
        with postgres_database() as url:
            deployment = Deployment(url, emulator, Path(tmp_path_factory.mktemp("concurrency")))
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


def headers() -> dict[str, str]:
    return {"Authorization": f"Bearer {token(TENANT)}", "Tenant": TENANT}


@pytest.fixture
def subaccount(deployment: Deployment, servers: list[ServerProcess]) -> str:
    with httpx.Client(base_url=servers[0].base_url, headers=headers(), timeout=60) as client:
        enabled = client.post(
            "/clienteling/configuration", json={"ecom_link": "https://www.dodici.example"}
        )
        assert enabled.status_code == 201, enabled.text
        # US stores send once the Messaging Service has a verified A2P 10DLC campaign.
        complete_registration(client, deployment.emulator)
        return str(enabled.json()["twilio"]["sid"])


def put_store(server: ServerProcess, store_id: str) -> None:
    with httpx.Client(base_url=server.base_url, headers=headers(), timeout=60) as client:
        response = client.put(f"/clienteling/stores/{store_id}", json=STORES["us-nyc"])
        assert response.status_code in (200, 201), response.text


def fire(
    servers: list[ServerProcess], store_id: str, numbers: list[str]
) -> list[tuple[int, dict[str, Any]]]:
    """REQUESTS onboard requests released together, alternating between the servers."""
    barrier = threading.Barrier(REQUESTS)
    results: list[tuple[int, dict[str, Any]] | BaseException | None] = [None] * REQUESTS

    def one(i: int) -> None:
        server = servers[i % len(servers)]
        try:
            with httpx.Client(base_url=server.base_url, headers=headers(), timeout=60) as client:
                barrier.wait(timeout=30)
                response = client.post(
                    f"/clienteling/stores/{store_id}/onboard",
                    json={"phone_number": numbers[i % len(numbers)]},
                )
                results[i] = (response.status_code, response.json())
        except BaseException as exc:  # reported below, with the others
            results[i] = exc

    threads = [threading.Thread(target=one, args=(i,)) for i in range(REQUESTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a request did not finish in time"
    answers = [r for r in results if isinstance(r, tuple)]
    assert len(answers) == REQUESTS, results
    return answers


def check_answers(answers: list[tuple[int, dict[str, Any]]]) -> dict[str, Any]:
    """Exactly one 201; the others are 200 with its body or 409 with a message."""
    created = [body for status, body in answers if status == 201]
    assert len(created) == 1, [status for status, _ in answers]
    for status, body in answers:
        if status == 200:
            assert body == created[0]
        elif status == 409:
            assert set(body) == {"request_id", "message"}, body
            assert body["message"], body
        else:
            assert status == 201, (status, body)
    return created[0]


def check_repeat(servers: list[ServerProcess], store_id: str, body: dict[str, Any]) -> None:
    for server in servers:
        with httpx.Client(base_url=server.base_url, headers=headers(), timeout=60) as client:
            again = client.post(
                f"/clienteling/stores/{store_id}/onboard",
                json={"phone_number": body["phone_number"]},
            )
            assert again.status_code == 200, again.text
            assert again.json() == body


def ledger_purchases(server: ServerProcess, store_id: str) -> list[tuple[str, str]]:
    """The store's entries in the money ledger: (action, number)."""
    with httpx.Client(base_url=server.base_url, headers=headers(), timeout=60) as client:
        page = client.get("/clienteling/ledger", params={"store_id": store_id}).json()
    return [(e["action"], e["phone_number"]) for e in page["items"]]


def owned_for_store(emulator: EmulatorServer, subaccount: str, store_id: str) -> list[str]:
    name = f"clienteling:{TENANT}:store:{store_id}"
    return [
        n.phone_number for n in emulator.state.owned_numbers(subaccount) if n.friendly_name == name
    ]


def same_number(deployment: Deployment, servers: list[ServerProcess], subaccount: str) -> None:
    """20 requests for one store and one number: bought once."""
    emulator = deployment.emulator
    put_store(servers[0], "nyc-same")
    number = emulator.state.pool("US", "local")[0].phone_number
    owned_before = len(emulator.state.owned_numbers(subaccount))
    emulator.state.latency = 0.05
    try:
        answers = fire(servers, "nyc-same", [number])
    finally:
        emulator.state.latency = 0
    body = check_answers(answers)
    assert body["phone_number"] == number
    assert body["sms"] == {"status": "onboarded"}
    assert len(emulator.state.owned_numbers(subaccount)) == owned_before + 1
    assert owned_for_store(emulator, subaccount, "nyc-same") == [number]
    check_repeat(servers, "nyc-same", body)
    # Bought once, recorded once, whichever server recorded it.
    for server in servers:
        assert ledger_purchases(server, "nyc-same") == [("number_bought", number)]


def different_numbers(
    deployment: Deployment, servers: list[ServerProcess], subaccount: str
) -> None:
    """20 requests for one store, each with another number: one bought, the store has it."""
    emulator = deployment.emulator
    put_store(servers[1], "nyc-many")
    numbers = [n.phone_number for n in emulator.state.pool("US", "local")[:REQUESTS]]
    assert len(set(numbers)) == REQUESTS
    owned_before = len(emulator.state.owned_numbers(subaccount))
    emulator.state.latency = 0.05
    try:
        answers = fire(servers, "nyc-many", numbers)
    finally:
        emulator.state.latency = 0
    body = check_answers(answers)
    assert body["phone_number"] in numbers
    assert len(emulator.state.owned_numbers(subaccount)) == owned_before + 1
    assert owned_for_store(emulator, subaccount, "nyc-many") == [body["phone_number"]]
    with httpx.Client(base_url=servers[0].base_url, headers=headers(), timeout=60) as client:
        status = client.get("/clienteling/onboarding-status").json()
    store = next(s for s in status["stores"] if s["id"] == "nyc-many")
    assert store["phone_number"] == body["phone_number"]
    assert store["channels"]["sms"]["status"] == "onboarded"
    check_repeat(servers, "nyc-many", body)
    assert ledger_purchases(servers[1], "nyc-many") == [("number_bought", body["phone_number"])]


def test_twenty_concurrent_requests_for_one_store_on_two_servers_buy_one_number(
    deployment: Deployment, servers: list[ServerProcess], subaccount: str
) -> None:
    # One test: the two servers start once (pytest-xdist would start them again on another
    # worker for a second test of this module).
    same_number(deployment, servers, subaccount)
    different_numbers(deployment, servers, subaccount)
