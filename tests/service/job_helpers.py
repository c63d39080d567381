"""Helpers of the bulk job tests: stores, a job started and followed as a client would."""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

from tests.service.helpers import put_store
from tests.support import Api
from twilio_emulator import EmulatorServer

JOBS = "/clienteling/onboarding-jobs"


def make_stores(api: Api, country: str, count: int, **fields: Any) -> list[str]:
    ids = [f"{country.lower()}-{i:03d}" for i in range(count)]
    for store_id in ids:
        put_store(api, store_id, name=f"Store {store_id}", country_code=country, **fields)
    return ids


US = {"region": None, "locality": None, "postal_code": None, "phone": None}


def start_job(api: Api, **body: Any) -> dict[str, Any]:
    response = api.post(JOBS, json=body)
    assert response.status_code == 202, response.text
    job = response.json()
    assert response.headers["Location"] == f"{JOBS}/{job['id']}"
    return job  # type: ignore[no-any-return]


def wait_job(api: Api, job_id: str, timeout: float = 240.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        job = api.get(f"{JOBS}/{job_id}").json()
        if job["status"] in ("finished", "cancelled"):
            return job  # type: ignore[no-any-return]
        assert time.monotonic() < deadline, f"job still {job['status']}: {job['counts']}"
        time.sleep(0.1)


def failures(job: dict[str, Any]) -> list[Any]:
    return [s for s in job["stores"] if s["status"] == "failed"][:3]


def subaccount(api: Api) -> str:
    return str(api.get("/clienteling/configuration").json()["twilio"]["sid"])


def owned_by_store(emulator: EmulatorServer, api: Api) -> Counter[str]:
    owned = emulator.state.owned_numbers(subaccount(api))
    return Counter(n.friendly_name.rsplit(":", 1)[-1] for n in owned)
