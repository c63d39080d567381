"""Issue 15, acceptance 1: a server process killed (SIGKILL) between any two steps of the US A2P
10DLC registration leaves a state that the same request (or `clienteling-setup sync`) finishes
with one customer profile, one trust product, one brand and one campaign per Messaging Service.

One crash covers every cell: a server is made to hang, one tenant per cell, on that cell's
Twilio call (the emulator holds it; for `after_apply` Twilio has already made the change, the
answer never comes), and is killed while all of them wait. A new server on the same PostgreSQL
database recovers the odd tenants by repeating the request and the even ones by one `sync` pass
(followed by the request, which is how a retailer resumes); then the reviews pass and both
finish. The matrix is one test: the crash is shared.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.processes import Deployment, ServerProcess, token, wait_until
from tests.service.a2p_helpers import business_profile, pass_reviews
from tests.support import postgres_database
from twilio_emulator import EmulatorServer, EmulatorState

pytestmark = pytest.mark.slow

HOLD = 900.0
A2P_PROFILE = "RNb0d4771c2c98518d916a3d4cd70a8f8b"


@dataclass(frozen=True)
class Cell:
    name: str
    path: str  # the Twilio call the server dies on
    kind: str  # "timeout": not applied; "after_apply": applied, the answer lost
    after_brand_approval: bool = False  # the campaign stage: reached once the brand is approved


CELLS = [
    Cell("address", r"/Addresses\.json$", "after_apply"),
    Cell("end-user", r"/v1/EndUsers$", "after_apply"),
    Cell("document", r"/v1/SupportingDocuments$", "after_apply"),
    Cell("profile", r"/v1/CustomerProfiles$", "after_apply"),
    Cell("profile-assign", r"/v1/CustomerProfiles/BU\w+/EntityAssignments$", "after_apply"),
    Cell("profile-submit", r"/v1/CustomerProfiles/BU\w+$", "after_apply"),
    Cell("product", r"/v1/TrustProducts$", "after_apply"),
    Cell("product-submit", r"/v1/TrustProducts/BU\w+$", "timeout"),
    Cell("brand", r"/v1/a2p/BrandRegistrations$", "after_apply"),
    Cell("brand-not-applied", r"/v1/a2p/BrandRegistrations$", "timeout"),
    Cell("campaign", r"/Compliance/Usa2p$", "after_apply", after_brand_approval=True),
]


def client(server: ServerProcess, tenant: str) -> httpx.Client:
    return httpx.Client(
        base_url=server.base_url,
        headers={"Authorization": f"Bearer {token(tenant)}", "Tenant": tenant},
        timeout=120,
    )


def post_registration(api: httpx.Client) -> httpx.Response:
    """The POST a client repeats while the killed server's lease still looks alive (409)."""
    deadline = time.monotonic() + 60
    while True:
        response = api.post("/clienteling/a2p-registration")
        if response.status_code != 409 or time.monotonic() > deadline:
            return response
        time.sleep(0.25)


def a2p_of(state: EmulatorState, account: str) -> dict[str, int]:
    with state.lock:
        return {
            "profiles": len(state.customer_profiles(account)),
            "products": len(
                [p for p in state.trust_products(account) if p.regulation_sid == A2P_PROFILE]
            ),
            "brands": len(state.brands(account)),
            "campaigns": len(state.campaigns(account)),
            "end_users": len(state.end_users(account)),
        }


def test_a_server_killed_at_each_registration_step_is_recovered(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    emulator = EmulatorServer(EmulatorState(seed=15), port=0).start()
    state = emulator.state
    root = Path(tmp_path_factory.mktemp("a2p-crashes"))
    accounts: dict[str, str] = {}
    try:
        with postgres_database() as url:
            deployment = Deployment(url, emulator, root, twilio_timeout=600.0)
            deployment.run("migrate")
            doomed = deployment.start_server("doomed")
            threads: list[threading.Thread] = []
            try:
                for cell in CELLS:
                    with client(doomed, cell.name) as api:
                        enabled = api.post(
                            "/clienteling/configuration", json={"ecom_link": "https://d.example"}
                        )
                        assert enabled.status_code == 201, enabled.text
                        accounts[cell.name] = enabled.json()["twilio"]["sid"]
                        saved = api.put("/clienteling/business-profile", json=business_profile())
                        assert saved.status_code == 201, saved.text
                        if cell.after_brand_approval:
                            assert api.post("/clienteling/a2p-registration").status_code == 202
                for cell in CELLS:
                    if cell.after_brand_approval:
                        pass_reviews(state, "brand")
                        break
                for cell in CELLS:
                    fault = state.add_fault(
                        method="POST",
                        path=f"{accounts[cell.name]}.*{cell.path}"
                        if cell.path.startswith(r"/Addresses")
                        else cell.path,
                        kind=cell.kind,
                        delay=HOLD,
                        times=1,
                    )

                    def send(name: str = cell.name) -> None:
                        try:
                            with client(doomed, name) as api:
                                api.post("/clienteling/a2p-registration")
                        except httpx.HTTPError:
                            pass

                    thread = threading.Thread(target=send, daemon=True)
                    thread.start()
                    threads.append(thread)
                    wait_until(lambda f=fault: f.hits == 1, f"{cell.name}: the call to hang on")
            finally:
                doomed.kill()
            for thread in threads:
                thread.join(timeout=30)
            state.clear_faults()

            with deployment.start_server("recovery") as recovery:
                for index, cell in enumerate(CELLS):
                    if index % 2:
                        deployment.run("sync", "--tenant", cell.name)
                    with client(recovery, cell.name) as api:
                        resumed = post_registration(api)
                        assert resumed.status_code == 202, (cell.name, resumed.text)
                pass_reviews(state, "brand")
                for cell in CELLS:
                    with client(recovery, cell.name) as api:
                        assert post_registration(api).status_code == 202
                pass_reviews(state, "campaign")
                final: dict[str, Any] = {}
                for cell in CELLS:
                    with client(recovery, cell.name) as api:
                        final[cell.name] = post_registration(api).json()
    finally:
        emulator.stop()

    failures = []
    for cell in CELLS:
        counts = a2p_of(state, accounts[cell.name])
        expected = {"profiles": 1, "products": 1, "brands": 1, "campaigns": 1, "end_users": 3}
        if counts != expected or final[cell.name]["status"] != "registered":
            failures.append((cell.name, counts, final[cell.name]["status"]))
    assert not failures, failures
