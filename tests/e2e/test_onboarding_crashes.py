"""Acceptance 4: a server process killed (SIGKILL) at every step boundary of a store's SMS
onboarding leaves a state that the same request, or `clienteling-setup sync`, completes, with
exactly one number owned per store and no orphan.

One crash covers the whole matrix: a server is made to hang, one request per cell, on the exact
Twilio call of that cell (the emulator holds it; for `after_apply` Twilio has already done the
change), and is then killed while all of them wait. A new server on the same PostgreSQL database
recovers tenant `retry-co` by repeating each request and tenant `sync-co` by one
`clienteling-setup sync --tenant sync-co` (then, where sync alone cannot finish because the
purchase never happened, by the repeated request).

The matrix is one test (the crash is shared, and pytest-xdist must not run it on two workers);
it checks every cell and reports each failing cell by name.
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
from tests.service.a2p_helpers import complete_registration
from tests.service.helpers import STORES
from tests.support import postgres_database
from twilio_emulator import EmulatorServer, EmulatorState, Fault

pytestmark = pytest.mark.slow

HOLD = 900.0  # how long the emulator holds a faulted call: far longer than the test needs
TENANTS = ("retry-co", "sync-co")
PURCHASE = r"/IncomingPhoneNumbers\.json$"
MS_ADD = r"/Services/{ms}/PhoneNumbers$"
VOICE = r"/IncomingPhoneNumbers/PN[0-9a-f]+\.json$"


@dataclass(frozen=True)
class Cell:
    """Where the server dies: the Twilio call it waits on, and whether Twilio applied it."""

    name: str
    path: str
    kind: str  # "timeout": not applied; "after_apply": applied, the answer never comes
    already_purchased: bool = False


CELLS = [
    Cell("purchase-not-applied", PURCHASE, "timeout"),
    Cell("purchase-applied", PURCHASE, "after_apply"),
    Cell("messaging-add-not-applied", MS_ADD, "timeout"),
    Cell("messaging-add-applied", MS_ADD, "after_apply"),
    Cell("voice-not-applied", VOICE, "timeout", already_purchased=True),
    Cell("voice-applied", VOICE, "after_apply", already_purchased=True),
]


@dataclass
class Tenant:
    id: str
    subaccount: str
    auth_token: str
    messaging_service: str
    voice_app: str
    numbers: dict[str, str] = field(default_factory=dict)  # store (cell name) -> number


@dataclass
class Outcome:
    emulator: EmulatorState
    tenants: dict[str, Tenant]
    crashed: list[BaseException | int]  # what each request to the killed server got
    retries: dict[str, httpx.Response]  # retry-co: the repeated request per cell
    sync_output: str
    status_after_sync: dict[str, Any]  # sync-co, before any repeated request
    late_retries: dict[str, httpx.Response]  # sync-co: cells sync could not finish
    final_status: dict[str, dict[str, Any]]
    ledger: dict[str, list[dict[str, Any]]]  # each tenant's money ledger, at the end


def client(server: ServerProcess, tenant: str) -> httpx.Client:
    return httpx.Client(
        base_url=server.base_url,
        headers={"Authorization": f"Bearer {token(tenant)}", "Tenant": tenant},
        timeout=60,
    )


def onboard_body(tenant: Tenant, cell: Cell) -> dict[str, Any]:
    body: dict[str, Any] = {"phone_number": tenant.numbers[cell.name]}
    if cell.already_purchased:
        body["phone_number_already_purchased"] = True
    return body


def set_up_tenant(
    server: ServerProcess, emulator: EmulatorServer, tenant_id: str, pool: Iterator[str]
) -> Tenant:
    with client(server, tenant_id) as api:
        enabled = api.post(
            "/clienteling/configuration", json={"ecom_link": "https://www.dodici.example"}
        )
        assert enabled.status_code == 201, enabled.text
        twilio = enabled.json()["twilio"]
        account = emulator.state.account(twilio["sid"])
        assert account is not None
        tenant = Tenant(
            tenant_id,
            twilio["sid"],
            account.auth_token,
            twilio["messaging_service_sid"],
            twilio["call_forwarding"]["sid"],
        )
        # US stores send once the tenant's Messaging Service has a verified A2P campaign.
        complete_registration(api, emulator)
        for cell in CELLS:
            stored = api.put(f"/clienteling/stores/{cell.name}", json=STORES["us-nyc"])
            assert stored.status_code == 201, stored.text
            tenant.numbers[cell.name] = next(pool)
    for cell in CELLS:
        if cell.already_purchased:  # bought earlier, outside the service, with no voice app
            bought = httpx.post(
                f"{emulator.base_url}/api/2010-04-01/Accounts/{tenant.subaccount}"
                "/IncomingPhoneNumbers.json",
                data={"PhoneNumber": tenant.numbers[cell.name], "FriendlyName": "front desk"},
                auth=(tenant.subaccount, tenant.auth_token),
                timeout=30,
            )
            assert bought.status_code == 201, bought.text
    return tenant


def applied(state: EmulatorState, tenant: Tenant, cell: Cell) -> Callable[[], bool]:
    """True once Twilio (the emulator) has done what this cell's call asks."""
    number = tenant.numbers[cell.name]

    def check() -> bool:
        owned = state.number_owner(number)
        if cell.path == PURCHASE:
            return owned is not None
        if cell.path == MS_ADD:
            members = state.messaging_service_numbers(tenant.messaging_service)
            return owned is not None and owned.sid in {m.sid for m in members}
        return owned is not None and owned.voice_application_sid == tenant.voice_app

    return check


def hang(
    server: ServerProcess, state: EmulatorState, tenant: Tenant, cell: Cell
) -> tuple[threading.Thread, list[BaseException | int]]:
    """Send the cell's request; return once the server waits on the cell's Twilio call."""
    scope = (
        f"/Accounts/{tenant.subaccount}{cell.path}"
        if cell.path != MS_ADD
        else cell.path.format(ms=tenant.messaging_service)
    )
    fault: Fault = state.add_fault(method="POST", path=scope, kind=cell.kind, delay=HOLD, times=1)
    got: list[BaseException | int] = []

    def send() -> None:
        try:
            with client(server, tenant.id) as api:
                got.append(
                    api.post(
                        f"/clienteling/stores/{cell.name}/onboard", json=onboard_body(tenant, cell)
                    ).status_code
                )
        except httpx.HTTPError as exc:
            got.append(exc)

    thread = threading.Thread(target=send, daemon=True)
    thread.start()
    wait_until(lambda: fault.hits == 1, f"{tenant.id}/{cell.name}: the Twilio call to hang on")
    if cell.kind == "after_apply":
        wait_until(applied(state, tenant, cell), f"{tenant.id}/{cell.name}: Twilio applying it")
    else:
        assert not applied(state, tenant, cell)()
    return thread, got


@pytest.fixture
def outcome(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Outcome]:
    emulator = EmulatorServer(EmulatorState(seed=11), port=0).start()
    state = emulator.state
    root = Path(tmp_path_factory.mktemp("crashes"))
    try:
        with postgres_database() as url:
            deployment = Deployment(url, emulator, root, twilio_timeout=600.0)
            deployment.run("migrate")
            pool = iter(n.phone_number for n in state.pool("US", "local"))
            doomed = deployment.start_server("doomed")
            try:
                tenants = {t: set_up_tenant(doomed, emulator, t, pool) for t in TENANTS}
                waiting = [hang(doomed, state, tenants[t], cell) for cell in CELLS for t in TENANTS]
            finally:
                doomed.kill()
            crashed: list[BaseException | int] = []
            for thread, got in waiting:
                thread.join(timeout=30)
                crashed.extend(got)
            state.clear_faults()
            with deployment.start_server("recovery") as recovery:
                yield recover(deployment, recovery, state, tenants, crashed)
    finally:
        emulator.stop()


def recover(
    deployment: Deployment,
    server: ServerProcess,
    state: EmulatorState,
    tenants: dict[str, Tenant],
    crashed: list[BaseException | int],
) -> Outcome:
    retry_co, sync_co = tenants["retry-co"], tenants["sync-co"]
    with client(server, retry_co.id) as api:
        retries = {
            cell.name: retried(
                api, f"/clienteling/stores/{cell.name}/onboard", onboard_body(retry_co, cell)
            )
            for cell in CELLS
        }
    synced = deployment.run("sync", "--tenant", sync_co.id)
    with client(server, sync_co.id) as api:
        after_sync = api.get("/clienteling/onboarding-status").json()
        unfinished = [
            cell
            for cell in CELLS
            if store_of(after_sync, cell.name)["channels"]["sms"]["status"] != "onboarded"
        ]
        late = {
            cell.name: api.post(
                f"/clienteling/stores/{cell.name}/onboard", json=onboard_body(sync_co, cell)
            )
            for cell in unfinished
        }
    final, ledger = {}, {}
    for tenant in tenants.values():
        with client(server, tenant.id) as api:
            final[tenant.id] = api.get("/clienteling/onboarding-status").json()
            ledger[tenant.id] = api.get("/clienteling/ledger", params={"limit": 1000}).json()[
                "items"
            ]
    return Outcome(state, tenants, crashed, retries, synced.stdout, after_sync, late, final, ledger)


def retried(api: httpx.Client, path: str, body: dict[str, Any]) -> httpx.Response:
    """The same request again, as a client does: while the killed server's lease on the store
    still looks alive (its heartbeat is not yet older than the timeout, 10 s), the answer is
    409 'being onboarded by another request', and the client sends it again a moment later.
    Every lease of the killed server goes stale at once, so `sync` after these finds them
    stale too."""
    deadline = time.monotonic() + 60
    while True:
        response = api.post(path, json=body)
        busy = response.status_code == 409 and "by another request" in response.text
        if not busy or time.monotonic() > deadline:
            return response
        time.sleep(0.25)


def store_of(status: dict[str, Any], store_id: str) -> dict[str, Any]:
    return next(s for s in status["stores"] if s["id"] == store_id)


def applied_purchases(state: EmulatorState, tenant: Tenant, number: str) -> int:
    """Purchase requests of `number` that Twilio carried out (answered or not)."""
    return sum(
        1
        for r in state.requests
        if r.method == "POST"
        and r.account_sid == tenant.subaccount
        and r.path.endswith("/IncomingPhoneNumbers.json")
        and r.params.get("PhoneNumber") == number
        and (r.status == 201 or r.fault == "after_apply")
    )


def check_crashed(outcome: Outcome) -> None:
    assert len(outcome.crashed) == len(CELLS) * len(TENANTS)
    assert all(isinstance(got, httpx.HTTPError) for got in outcome.crashed), outcome.crashed


def assert_onboarded_once(outcome: Outcome, tenant: Tenant, cell: Cell) -> None:
    state = outcome.emulator
    number = tenant.numbers[cell.name]
    store = store_of(outcome.final_status[tenant.id], cell.name)
    assert store["phone_number"] == number
    assert store["channels"]["sms"]["status"] == "onboarded"
    owned = [n for n in state.owned_numbers(tenant.subaccount) if n.phone_number == number]
    assert len(owned) == 1
    if not cell.already_purchased:
        assert owned[0].friendly_name == f"clienteling:{tenant.id}:store:{cell.name}"
    assert applied_purchases(state, tenant, number) == 1  # the test bought the pre-owned ones
    # The purchase is in the ledger once, priced (none for a number the tenant owned before).
    entries = [
        (e["action"], e["phone_number"], e["number_sid"], e["monthly_price"])
        for e in outcome.ledger[tenant.id]
        if e["store_id"] == cell.name
    ]
    price = {"amount": "1.15", "currency": "USD"}
    assert entries == (
        [] if cell.already_purchased else [("number_bought", number, owned[0].sid, price)]
    )
    members = [
        m
        for m in state.messaging_service_numbers(tenant.messaging_service)
        if m.sid == owned[0].sid
    ]
    assert len(members) == 1
    assert owned[0].voice_application_sid == tenant.voice_app


def check_retried(outcome: Outcome, cell: Cell) -> None:
    """retry-co: the same request completes the crashed onboarding."""
    tenant = outcome.tenants["retry-co"]
    retry = outcome.retries[cell.name]
    assert retry.status_code in (200, 201), retry.text
    assert retry.json()["phone_number"] == tenant.numbers[cell.name]
    assert retry.json()["sms"] == {"status": "onboarded"}
    assert_onboarded_once(outcome, tenant, cell)


def check_synced(outcome: Outcome, cell: Cell) -> None:
    """sync-co: `sync` completes it, or (nothing bought yet) leaves it to the retry."""
    tenant = outcome.tenants["sync-co"]
    assert "synchronised: sync-co" in outcome.sync_output
    store = store_of(outcome.status_after_sync, cell.name)
    if cell.name == "purchase-not-applied":
        # sync never buys: the claim waits for the caller's retry, which buys exactly once.
        assert store["channels"]["sms"]["status"] == "pending"
        assert store["phone_number"] is None
        late = outcome.late_retries[cell.name]
        assert late.status_code == 201, late.text
    else:
        assert store["channels"]["sms"]["status"] == "onboarded"
        assert store["phone_number"] == tenant.numbers[cell.name]
        assert cell.name not in outcome.late_retries
    assert_onboarded_once(outcome, tenant, cell)


def check_no_orphan(outcome: Outcome, tenant_id: str) -> None:
    """Every number whose friendly name names a store is that store's recorded number."""
    tenant = outcome.tenants[tenant_id]
    prefix = f"clienteling:{tenant_id}:store:"
    named = [
        n
        for n in outcome.emulator.owned_numbers(tenant.subaccount)
        if n.friendly_name.startswith(prefix)
    ]
    assert named
    for number in named:
        store = store_of(outcome.final_status[tenant_id], number.friendly_name.removeprefix(prefix))
        assert store["phone_number"] == number.phone_number
    assert len(outcome.emulator.owned_numbers(tenant.subaccount)) == len(CELLS)


def test_a_server_killed_at_every_step_boundary_is_recovered_by_retry_or_sync(
    outcome: Outcome,
) -> None:
    checks: list[tuple[str, Callable[[], None]]] = [
        ("every request to the killed server died with it", lambda: check_crashed(outcome))
    ]
    for cell in CELLS:
        checks.append((f"retry-co/{cell.name}", lambda c=cell: check_retried(outcome, c)))
        checks.append((f"sync-co/{cell.name}", lambda c=cell: check_synced(outcome, c)))
    for tenant_id in TENANTS:
        checks.append((f"{tenant_id}: no orphan", lambda t=tenant_id: check_no_orphan(outcome, t)))
    failed = []
    for name, check in checks:
        try:
            check()
        except AssertionError as exc:
            failed.append(f"{name}: {exc}")
    assert not failed, "\n".join(failed)
