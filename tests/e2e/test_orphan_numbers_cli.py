"""Issue 14, acceptance 5 through the command line, on real processes and PostgreSQL: a number
bought straight in Twilio for the tenant's subaccount is an orphan in the status after
`clienteling-setup sync`; `clienteling-setup numbers orphans --tenant T` lists it with its SID,
country and monthly cost (and not the store's number), `--release` releases it, the ledger
records that release once with the command as its actor, and a second run finds nothing."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, select

from clienteling_setup.ledger.models import NUMBER_RELEASED, LedgerEntry
from tests.e2e.processes import CLI, Deployment, ServerProcess, token
from tests.service.helpers import STORES, numbers_of
from tests.support import postgres_database
from twilio_emulator import EmulatorServer, EmulatorState
from twilio_emulator.api_pricing import MONTHLY_PRICES

TENANT = "orphan-co"
STORE = "us-nyc"


@pytest.fixture
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    emulator = EmulatorServer(EmulatorState(seed=23), port=0).start()
    try:
        with postgres_database() as url:
            deployment = Deployment(url, emulator, Path(tmp_path_factory.mktemp("orphans")))
            deployment.run("migrate")
            yield deployment
    finally:
        emulator.stop()


def client(server: ServerProcess) -> httpx.Client:
    headers = {"Authorization": f"Bearer {token(TENANT)}", "Tenant": TENANT}
    return httpx.Client(base_url=server.base_url, headers=headers, timeout=60)


def released_in_ledger(deployment: Deployment) -> list[tuple[str, str | None, str]]:
    engine = create_engine(deployment.database_url)
    try:
        with engine.connect() as db:
            query = select(LedgerEntry.sid, LedgerEntry.phone_number, LedgerEntry.actor).where(
                LedgerEntry.tenant_id == TENANT, LedgerEntry.action == NUMBER_RELEASED
            )
            return [(str(sid), number, str(actor)) for sid, number, actor in db.execute(query)]
    finally:
        engine.dispose()


def test_an_orphan_is_listed_and_released_by_the_command(deployment: Deployment) -> None:
    state = deployment.emulator.state
    with deployment.start_server("server") as server, client(server) as api:
        enabled = api.post("/clienteling/configuration", json={"ecom_link": "https://o.example"})
        assert enabled.status_code == 201, enabled.text
        sub = enabled.json()["twilio"]["sid"]
        assert api.put(f"/clienteling/stores/{STORE}", json=STORES[STORE]).status_code == 201
        offered = api.get(f"/clienteling/stores/{STORE}/available-phone-numbers").json()
        store_number, orphan_number = offered[0]["phone_number"], offered[1]["phone_number"]
        onboarded = api.post(
            f"/clienteling/stores/{STORE}/onboard", json={"phone_number": store_number}
        )
        assert onboarded.status_code == 201, onboarded.text
        account = state.account(sub)
        assert account is not None
        bought = httpx.post(  # in the Twilio Console, say: the service takes no part
            f"{deployment.emulator.base_url}/api/2010-04-01/Accounts/{sub}/IncomingPhoneNumbers.json",
            data={"PhoneNumber": orphan_number},
            auth=(sub, account.auth_token),
            timeout=30,
        )
        assert bought.status_code == 201, bought.text
        sid = bought.json()["sid"]

        deployment.run("sync", "--tenant", TENANT)
        status = api.get("/clienteling/onboarding-status").json()
        price = MONTHLY_PRICES["US"]["local"]
        assert numbers_of(status) == (2, 1, (price, "USD"), ["release_orphan_numbers"])

        listed = deployment.run("numbers", "orphans", "--tenant", TENANT).stdout.splitlines()
        assert listed == [
            f"Tenant '{TENANT}' owns 2 number(s); 1 orphan(s).",
            f"orphan: {orphan_number} {sid} US {price} USD/month",
        ]
        assert released_in_ledger(deployment) == []  # listing releases nothing

        done = deployment.run("numbers", "orphans", "--tenant", TENANT, "--release")
        assert done.stdout.splitlines()[-1] == (
            f"released: {orphan_number} {sid} US {price} USD/month (no longer paid for)"
        )
        owned = {n.phone_number for n in state.owned_numbers(sub)}
        assert owned == {store_number}
        assert released_in_ledger(deployment) == [
            (sid, orphan_number, "clienteling-setup numbers orphans --release")
        ]
        status = api.get("/clienteling/onboarding-status").json()
        assert numbers_of(status) == (1, 0, None, [])

        again = deployment.run("numbers", "orphans", "--tenant", TENANT, "--release")
        assert again.stdout.splitlines() == [f"Tenant '{TENANT}' owns 1 number(s); 0 orphan(s)."]
        assert len(released_in_ledger(deployment)) == 1


def test_the_command_names_an_unknown_tenant(deployment: Deployment) -> None:
    done = subprocess.run(
        [CLI, "numbers", "orphans", "--tenant", "nobody"],
        env=deployment.env("cli"),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1
    assert "nobody" in done.stderr
