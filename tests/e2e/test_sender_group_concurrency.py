"""Sender groups are exactly once across processes: ten concurrent PUTs of one group, sent to
two server processes sharing one PostgreSQL database and one Twilio (the emulator, slowed down
so that the requests overlap), create one Messaging Service; every answer is the group."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.processes import Deployment, ServerProcess, token
from tests.support import postgres_database
from twilio_emulator import EmulatorServer, EmulatorState

pytestmark = pytest.mark.slow

TENANT = "acme"
REQUESTS = 10
GROUP = {"name": "Shared EU", "waba_id": "123456789012345"}


@pytest.fixture
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Deployment, list[Any]]]:
    emulator = EmulatorServer(EmulatorState(seed=11), port=0).start()
    started: list[ServerProcess] = []
    try:
        with postgres_database() as url:
            deployment = Deployment(url, emulator, Path(tmp_path_factory.mktemp("groups")))
            deployment.run("migrate")
            for name in ("server-a", "server-b"):
                started.append(deployment.start_server(name))
            yield deployment, started
    finally:
        for server in started:
            server.stop()
        emulator.stop()


def _headers() -> dict[str, str]:
    return {"Authorization": f"Bearer {token(TENANT)}", "Tenant": TENANT}


def test_ten_concurrent_puts_of_one_group_on_two_servers_create_one_messaging_service(
    servers: tuple[Deployment, list[ServerProcess]],
) -> None:
    deployment, processes = servers
    with httpx.Client(base_url=processes[0].base_url, headers=_headers(), timeout=60) as c:
        enabled = c.post("/clienteling/configuration", json={"ecom_link": "https://d.example"})
        assert enabled.status_code == 201, enabled.text
    sub = enabled.json()["twilio"]["sid"]
    state = deployment.emulator.state
    before = len(state.messaging_services(sub))

    barrier = threading.Barrier(REQUESTS)
    answers: list[httpx.Response | BaseException | None] = [None] * REQUESTS

    def put(i: int) -> None:
        server = processes[i % len(processes)]
        try:
            with httpx.Client(base_url=server.base_url, headers=_headers(), timeout=90) as c:
                barrier.wait(timeout=30)
                answers[i] = c.put("/clienteling/sender-groups/shared-eu", json=GROUP)
        except BaseException as exc:  # reported with the others below
            answers[i] = exc

    state.latency = 0.1
    try:
        threads = [threading.Thread(target=put, args=(i,)) for i in range(REQUESTS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
    finally:
        state.latency = 0
    responses = [a for a in answers if isinstance(a, httpx.Response)]
    assert len(responses) == REQUESTS, answers
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] * (REQUESTS - 1) + [201], [r.text for r in responses]
    services = {r.json()["messaging_service_sid"] for r in responses}
    assert len(services) == 1
    created = [
        s for s in state.messaging_services(sub) if s.friendly_name.startswith("clienteling:acme:g")
    ]
    assert [s.sid for s in created] == list(services)
    assert len(state.messaging_services(sub)) == before + 1
