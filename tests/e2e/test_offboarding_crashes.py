"""A server process killed (SIGKILL) at every step boundary of a store's offboarding leaves a
state that the same request, or `clienteling-setup sync`, finishes: every number released
exactly once, the sender deleted, nothing recorded that Twilio no longer has.

As in `test_onboarding_crashes`: one server is made to hang, one request per cell, on the exact
Twilio call of that cell (the emulator holds it; for `after_apply` Twilio has already done it),
and is killed while all of them wait. Each store is on SMS and on WhatsApp with a number of its
own, so its offboarding makes four writes: delete the sender, release the WhatsApp number,
remove the SMS number from the Messaging Service, release the SMS number. A new server on the
same PostgreSQL database recovers tenant `retry-co` by repeating each request and `sync-co` by
one `clienteling-setup sync --tenant sync-co`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.processes import Deployment, ServerProcess, token, wait_until
from tests.service.helpers import STORES
from tests.support import postgres_database
from twilio_emulator import EmulatorServer, EmulatorState

pytestmark = pytest.mark.slow

HOLD = 900.0
TENANTS = ("retry-co", "sync-co")


@dataclass(frozen=True)
class Cell:
    name: str
    call: str  # sender | whatsapp-number | service | sms-number
    kind: str  # "timeout": not applied; "after_apply": applied, the answer never comes


CELLS = [
    Cell(f"{call}-{'applied' if kind == 'after_apply' else 'not-applied'}", call, kind)
    for call in ("sender", "whatsapp-number", "service", "sms-number")
    for kind in ("timeout", "after_apply")
]


@dataclass
class Store:
    sms_number: str
    sms_sid: str
    whatsapp_number: str
    whatsapp_sid: str
    sender_sid: str


@dataclass
class Tenant:
    id: str
    subaccount: str
    messaging_service: str
    stores: dict[str, Store] = field(default_factory=dict)


def client(server: ServerProcess, tenant: str) -> httpx.Client:
    return httpx.Client(
        base_url=server.base_url,
        headers={"Authorization": f"Bearer {token(tenant)}", "Tenant": tenant},
        timeout=60,
    )


def set_up_tenant(
    server: ServerProcess, state: EmulatorState, tenant_id: str, pool: Iterator[str]
) -> Tenant:
    with client(server, tenant_id) as api:
        enabled = api.post(
            "/clienteling/configuration", json={"ecom_link": "https://www.dodici.example"}
        )
        assert enabled.status_code == 201, enabled.text
        twilio = enabled.json()["twilio"]
        tenant = Tenant(tenant_id, twilio["sid"], twilio["messaging_service_sid"])
        for cell in CELLS:
            assert api.put(f"/clienteling/stores/{cell.name}", json=STORES["us-nyc"]).is_success
            sms, whatsapp = next(pool), next(pool)
            onboarded = api.post(
                f"/clienteling/stores/{cell.name}/onboard", json={"phone_number": sms}
            )
            assert onboarded.status_code == 201, onboarded.text
            registered = api.post(
                f"/clienteling/stores/{cell.name}/whatsapp/onboard",
                json={
                    "waba_id": "1234567890",
                    "profile_name": "Dodici",
                    "whatsapp_phone_number": whatsapp,
                },
            )
            assert registered.status_code == 202, registered.text
            owned = {n.phone_number: n.sid for n in state.owned_numbers(tenant.subaccount)}
            tenant.stores[cell.name] = Store(
                sms, owned[sms], whatsapp, owned[whatsapp], registered.json()["sid"]
            )
    return tenant


def fault_path(tenant: Tenant, cell: Cell) -> str:
    store = tenant.stores[cell.name]
    return {
        "sender": f"/v2/Channels/Senders/{store.sender_sid}$",
        "whatsapp-number": f"/IncomingPhoneNumbers/{store.whatsapp_sid}\\.json$",
        "service": f"/Services/{tenant.messaging_service}/PhoneNumbers/{store.sms_sid}$",
        "sms-number": f"/IncomingPhoneNumbers/{store.sms_sid}\\.json$",
    }[cell.call]


def applied(state: EmulatorState, tenant: Tenant, cell: Cell) -> bool:
    store = tenant.stores[cell.name]
    if cell.call == "sender":
        return store.sender_sid not in {s.sid for s in state.senders(tenant.subaccount)}
    if cell.call == "service":
        members = state.messaging_service_numbers(tenant.messaging_service)
        return store.sms_sid not in {m.sid for m in members}
    number = store.whatsapp_number if cell.call == "whatsapp-number" else store.sms_number
    return state.number_owner(number) is None


def hang(
    server: ServerProcess, state: EmulatorState, tenant: Tenant, cell: Cell
) -> tuple[threading.Thread, list[BaseException | int]]:
    fault = state.add_fault(
        method="DELETE", path=fault_path(tenant, cell), kind=cell.kind, delay=HOLD, times=1
    )
    got: list[BaseException | int] = []

    def send() -> None:
        try:
            with client(server, tenant.id) as api:
                got.append(api.post(f"/clienteling/stores/{cell.name}/offboard").status_code)
        except httpx.HTTPError as exc:
            got.append(exc)

    thread = threading.Thread(target=send, daemon=True)
    thread.start()
    wait_until(lambda: fault.hits == 1, f"{tenant.id}/{cell.name}: the Twilio call to hang on")
    if cell.kind == "after_apply":
        wait_until(lambda: applied(state, tenant, cell), f"{tenant.id}/{cell.name}: applied")
    else:
        assert not applied(state, tenant, cell)
    return thread, got


def retry_until_done(api: httpx.Client, store_id: str) -> httpx.Response:
    """The same request again, as a client does while it answers 202: the killed server's
    lease is another holder until its heartbeat is older than the timeout (10 s)."""
    deadline = time.monotonic() + 60
    while True:
        response = api.post(f"/clienteling/stores/{store_id}/offboard")
        if response.status_code != 202 or time.monotonic() > deadline:
            return response
        time.sleep(0.5)


@dataclass
class Outcome:
    emulator: EmulatorState
    tenants: dict[str, Tenant]
    crashed: list[BaseException | int]
    retries: dict[str, httpx.Response]
    sync_output: str
    final_status: dict[str, dict[str, Any]]
    repeats: dict[str, dict[str, httpx.Response]]
    ledger: dict[str, list[dict[str, Any]]]  # each tenant's money ledger, at the end


@pytest.fixture
def outcome(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Outcome]:
    emulator = EmulatorServer(EmulatorState(seed=13), port=0).start()
    state = emulator.state
    root = Path(tmp_path_factory.mktemp("offboarding-crashes"))
    try:
        with postgres_database() as url:
            deployment = Deployment(url, emulator, root, twilio_timeout=600.0)
            deployment.run("migrate")
            pool = iter(n.phone_number for n in state.pool("US", "local"))
            doomed = deployment.start_server("doomed")
            try:
                tenants = {t: set_up_tenant(doomed, state, t, pool) for t in TENANTS}
                waiting = [hang(doomed, state, tenants[t], cell) for cell in CELLS for t in TENANTS]
            finally:
                doomed.kill()
            crashed: list[BaseException | int] = []
            for thread, got in waiting:
                thread.join(timeout=30)
                crashed.extend(got)
            state.clear_faults()
            with deployment.start_server("recovery") as recovery:
                with client(recovery, "retry-co") as api:
                    retries = {c.name: retry_until_done(api, c.name) for c in CELLS}
                synced = deployment.run("sync", "--tenant", "sync-co")
                final, repeats, ledger = {}, {}, {}
                for tenant_id in TENANTS:
                    with client(recovery, tenant_id) as api:
                        final[tenant_id] = api.get("/clienteling/onboarding-status").json()
                        repeats[tenant_id] = {
                            c.name: api.post(f"/clienteling/stores/{c.name}/offboard")
                            for c in CELLS
                        }
                        ledger[tenant_id] = api.get(
                            "/clienteling/ledger", params={"limit": 1000}
                        ).json()["items"]
                yield Outcome(
                    state, tenants, crashed, retries, synced.stdout, final, repeats, ledger
                )
    finally:
        emulator.stop()


def applied_deletes(state: EmulatorState, tenant: Tenant, path_end: str) -> int:
    """DELETE requests Twilio carried out (answered 204, or applied under `after_apply`)."""
    return sum(
        1
        for r in state.requests
        if r.method == "DELETE"
        and r.account_sid == tenant.subaccount
        and r.path.endswith(path_end)
        and (r.status == 204 or r.fault == "after_apply")
    )


def check_taken_down(outcome: Outcome, tenant_id: str, cell: Cell) -> None:
    state, tenant = outcome.emulator, outcome.tenants[tenant_id]
    store = tenant.stores[cell.name]
    assert state.number_owner(store.sms_number) is None
    assert state.number_owner(store.whatsapp_number) is None
    assert store.sender_sid not in {s.sid for s in state.senders(tenant.subaccount)}
    for sid in (store.sms_sid, store.whatsapp_sid):
        assert applied_deletes(state, tenant, f"/IncomingPhoneNumbers/{sid}.json") == 1
    # Each number's purchase and release are in the ledger once, the release at the price the
    # purchase was recorded with, whoever (the retry or sync) finished the offboarding.
    entries = sorted(
        (e["action"], e["number_sid"], e["monthly_price"]["amount"])
        for e in outcome.ledger[tenant_id]
        if e["store_id"] == cell.name
    )
    assert entries == sorted(
        (action, sid, "1.15")
        for action in ("number_bought", "number_released")
        for sid in (store.sms_sid, store.whatsapp_sid)
    )
    status = next(s for s in outcome.final_status[tenant_id]["stores"] if s["id"] == cell.name)
    assert status["phone_number"] is None
    assert status["channels"]["sms"]["status"] == "not_onboarded"
    assert status["channels"]["whatsapp"]["sid"] is None
    repeat = outcome.repeats[tenant_id][cell.name]
    assert repeat.status_code == 200, repeat.text
    assert repeat.json()["status"] == "offboarded"
    assert sorted(repeat.json()["released_numbers"]) == sorted(
        [store.sms_number, store.whatsapp_number]
    )


def check_tenant(outcome: Outcome, tenant_id: str) -> None:
    tenant = outcome.tenants[tenant_id]
    assert outcome.emulator.owned_numbers(tenant.subaccount) == []
    assert outcome.emulator.senders(tenant.subaccount) == []
    assert outcome.emulator.messaging_service_numbers(tenant.messaging_service) == []


def test_a_server_killed_at_every_offboarding_step_is_recovered_by_retry_or_sync(
    outcome: Outcome,
) -> None:
    checks: list[tuple[str, Callable[[], None]]] = [
        ("every request to the killed server died with it", lambda: _crashed(outcome)),
        ("sync-co was synchronised", lambda: _contains(outcome.sync_output, "sync-co")),
    ]
    for cell in CELLS:
        checks.append(
            (f"retry-co/{cell.name}: the retry answered 200", lambda c=cell: _retried(outcome, c))
        )
        for tenant_id in TENANTS:
            checks.append(
                (
                    f"{tenant_id}/{cell.name}",
                    lambda c=cell, t=tenant_id: check_taken_down(outcome, t, c),
                )
            )
    for tenant_id in TENANTS:
        checks.append((f"{tenant_id}: nothing left", lambda t=tenant_id: check_tenant(outcome, t)))
    failed = []
    for name, check in checks:
        try:
            check()
        except AssertionError as exc:
            failed.append(f"{name}: {exc}")
    assert not failed, "\n".join(failed)


def _crashed(outcome: Outcome) -> None:
    assert len(outcome.crashed) == len(CELLS) * len(TENANTS)
    assert all(isinstance(got, httpx.HTTPError) for got in outcome.crashed), outcome.crashed


def _contains(output: str, tenant_id: str) -> None:
    assert f"synchronised: {tenant_id}" in output, output


def _retried(outcome: Outcome, cell: Cell) -> None:
    retry = outcome.retries[cell.name]
    assert retry.status_code == 200, retry.text
    assert retry.json()["status"] == "offboarded"
