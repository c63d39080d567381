"""Bulk offboarding jobs over HTTP, on SQLite and PostgreSQL: the onboarding jobs' API and
workers with `operation: offboard`, each store through the single offboarding's workflow."""

from __future__ import annotations

from typing import Any

from tests.conftest import Service
from tests.service.helpers import enable
from tests.service.job_helpers import (
    JOBS,
    US,
    failures,
    make_stores,
    owned_by_store,
    start_job,
    wait_job,
)
from tests.support import Api, assert_error
from twilio_emulator import EmulatorServer

OFFBOARD = {"operation": "offboard"}


def _onboarded(api: Api, **selection: Any) -> dict[str, str]:
    """Onboard the stores with a job; {store: number}."""
    done = wait_job(api, start_job(api, **selection)["id"])
    assert done["counts"]["onboarded"] == done["total"], failures(done)
    return {s["store_id"]: s["phone_number"] for s in done["stores"]}


def _status_numbers(api: Api) -> dict[str, str | None]:
    stores = api.get("/clienteling/onboarding-status").json()["stores"]
    return {s["id"]: s["phone_number"] for s in stores}


def test_a_job_offboards_every_store_and_releases_its_numbers_once(
    api: Api, emulator: EmulatorServer, service: Service
) -> None:
    enable(api)
    stores = make_stores(api, "US", 12, **US)
    numbers = _onboarded(api, all=True)

    plan = api.post(JOBS, json={**OFFBOARD, "all": True, "dry_run": True})
    assert plan.status_code == 200, plan.text
    assert plan.json()["count"] == 12
    assert plan.json()["monthly_cost"] is None  # Twilio's price is not known yet
    assert {s["store_id"]: s["released_numbers"] for s in plan.json()["stores"]} == {
        store_id: [numbers[store_id]] for store_id in stores
    }
    assert sum(owned_by_store(emulator, api).values()) == 12  # the dry run released nothing

    job = start_job(api, **OFFBOARD, all=True)
    assert (job["operation"], job["channels"], job["release_number"]) == (
        "offboard",
        ["sms", "whatsapp"],
        True,
    )
    done = wait_job(api, job["id"])

    assert done["status"] == "finished"
    assert done["counts"]["offboarded"] == 12, failures(done)
    assert {s["store_id"]: s["phone_number"] for s in done["stores"]} == numbers
    assert all(numbers[s["store_id"]] in s["message"] for s in done["stores"])
    assert owned_by_store(emulator, api) == {}  # every number released: its cost stopped
    assert set(_status_numbers(api).values()) == {None}
    with service.runtime.uows.of(api.tenant) as uow:
        released = uow.ledger.page(after=None, limit=50, actions=("number_released",))
    assert sorted(entry.phone_number for entry in released) == sorted(numbers.values())
    assert {entry.reason for entry in released} == {"offboarding job"}

    # The same job again is harmless: by filter there is nothing to do, by name nothing to
    # take down, and nothing more is released.
    assert_error(api.post(JOBS, json={**OFFBOARD, "all": True}), 409, "has anything to offboard")
    again = wait_job(api, start_job(api, **OFFBOARD, store_ids=stores)["id"])
    assert again["counts"]["nothing_to_offboard"] == 12, failures(again)
    with service.runtime.uows.of(api.tenant) as uow:
        assert len(uow.ledger.page(after=None, limit=50, actions=("number_released",))) == 12


def test_a_country_is_offboarded_keeping_its_numbers(api: Api, emulator: EmulatorServer) -> None:
    enable(api)
    us = make_stores(api, "US", 4, **US)
    ca = make_stores(api, "CA", 3, **US)
    numbers = _onboarded(api, all=True)

    body = {**OFFBOARD, "country": "CA", "channels": ["sms"], "release_number": False}
    plan = api.post(JOBS, json={**body, "dry_run": True}).json()
    assert plan["count"] == 0
    assert {s["store_id"]: s["kept_numbers"] for s in plan["stores"]} == {
        store_id: [numbers[store_id]] for store_id in ca
    }
    done = wait_job(api, start_job(api, **body)["id"])

    assert done["counts"]["offboarded"] == 3, failures(done)
    assert {s["store_id"] for s in done["stores"]} == set(ca)
    # Kept: still owned by each Canadian store; the US stores are untouched.
    assert owned_by_store(emulator, api) == {store_id: 1 for store_id in us + ca}
    assert _status_numbers(api) == {
        **{store_id: numbers[store_id] for store_id in us},
        **{store_id: None for store_id in ca},
    }


def test_cancel_stops_new_offboardings(api: Api, emulator: EmulatorServer) -> None:
    enable(api)
    make_stores(api, "US", 30, **US)
    _onboarded(api, all=True)
    emulator.state.latency = 0.15  # every Twilio call is slow

    job = start_job(api, **OFFBOARD, all=True)
    cancelled = api.delete(f"{JOBS}/{job['id']}")
    assert cancelled.status_code == 200, cancelled.text
    emulator.state.latency = 0.0
    done = wait_job(api, job["id"])

    counts = done["counts"]
    assert done["status"] == "cancelled"
    assert counts["cancelled"] > 0
    assert counts["offboarded"] + counts["cancelled"] == 30, failures(done)
    kept = {s["store_id"] for s in done["stores"] if s["status"] == "cancelled"}
    assert set(owned_by_store(emulator, api)) == kept  # nothing released after the cancel
    assert {s for s, n in _status_numbers(api).items() if n is not None} == kept


def test_an_offboarding_job_refuses_what_the_single_offboarding_refuses(api: Api) -> None:
    enable(api)
    make_stores(api, "US", 2, **US)
    assert_error(api.post(JOBS, json={**OFFBOARD, "all": True}), 409, "has anything to offboard")
    assert_error(api.post(JOBS, json={**OFFBOARD, "store_ids": ["us-000", "nope"]}), 404, "'nope'")
