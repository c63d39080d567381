"""Bulk onboarding jobs over HTTP, on SQLite and PostgreSQL, with the workers the service
runs (`tests/conftest.py` starts them beside the server, as `serve` does)."""

from __future__ import annotations

import json
import time
from collections import Counter
from typing import Any

import pytest

from clienteling_setup.status.schemas import OnboardingStatus
from tests.service.helpers import enable, put_store
from tests.service.job_helpers import (
    JOBS,
    US,
    failures,
    make_stores,
    owned_by_store,
    start_job,
    subaccount,
    wait_job,
)
from tests.support import Api, assert_error
from twilio_emulator import EmulatorServer


def test_a_200_store_job_onboards_every_store_once(api: Api, emulator: EmulatorServer) -> None:
    enable(api)
    # The test emulator's pools: 96 US, 48 CA and 40 numbers in each other country.
    stores = make_stores(api, "US", 80, **US) + make_stores(api, "CA", 40, **US)
    stores += make_stores(api, "GB", 40, **US) + make_stores(api, "ES", 40, **US)
    job = start_job(api, all=True)
    assert job["total"] == 200
    assert job["counts"]["pending"] == 200

    done = wait_job(api, job["id"])

    assert done["status"] == "finished"
    assert done["counts"] == {
        "pending": 0,
        "in_progress": 0,
        "onboarded": 200,
        "already_onboarded": 0,
        "offboarded": 0,
        "nothing_to_offboard": 0,
        "failed": 0,
        "cancelled": 0,
    }, failures(done)
    assert done["estimated_seconds_remaining"] == 0
    results = {s["store_id"]: s for s in done["stores"]}
    assert set(results) == set(stores)
    assert all(s["status"] == "onboarded" and s["phone_number"] for s in results.values())
    assert len({s["phone_number"] for s in results.values()}) == 200
    assert owned_by_store(emulator, api) == Counter({store_id: 1 for store_id in stores})
    raw = api.get("/clienteling/onboarding-status").content
    OnboardingStatus.model_validate_json(raw, strict=True)
    status = json.loads(raw)
    assert {s["id"]: s["phone_number"] for s in status["stores"]} == {
        store_id: results[store_id]["phone_number"] for store_id in stores
    }
    assert status["onboarding_job"] == {
        "id": job["id"],
        "status": "finished",
        "operation": "onboard",
        "total": 200,
        "counts": done["counts"],
        "estimated_seconds_remaining": 0,
        "created_at": done["created_at"],
        "finished_at": done["finished_at"],
    }
    # The ledger has each store's purchase once, priced, naming who started the job.
    ledger = api.get("/clienteling/ledger", params={"limit": 1000}).json()
    assert ledger["next_cursor"] is None
    entries = ledger["items"]
    assert sorted((e["store_id"], e["phone_number"]) for e in entries) == sorted(
        (store_id, results[store_id]["phone_number"]) for store_id in stores
    )
    assert {e["action"] for e in entries} == {"number_bought"}
    assert {e["actor"] for e in entries} == {"cli"}
    assert len({e["request_id"] for e in entries}) == 1
    assert entries[0]["request_id"]
    prices = {"us": "1.15", "ca": "1.15", "gb": "1.15", "es": "10.00"}
    for entry in entries:
        amount = prices[entry["store_id"][:2]]
        assert entry["monthly_price"] == {"amount": amount, "currency": "USD"}, entry


def test_the_onboarding_status_shows_a_running_job(api: Api, emulator: EmulatorServer) -> None:
    assert api.get("/clienteling/onboarding-status").json()["onboarding_job"] is None
    enable(api)
    make_stores(api, "US", 10, **US)
    emulator.state.latency = 0.1
    job = start_job(api, all=True)

    deadline = time.monotonic() + 60
    while True:
        progress = api.get("/clienteling/onboarding-status").json()["onboarding_job"]
        if progress["counts"]["onboarded"] >= 1:
            break
        assert time.monotonic() < deadline
        time.sleep(0.05)

    assert progress["id"] == job["id"]
    assert progress["status"] == "running"
    assert progress["total"] == 10
    assert progress["estimated_seconds_remaining"] > 0
    wait_job(api, job["id"])
    emulator.state.latency = 0.0
    final = api.get("/clienteling/onboarding-status").json()["onboarding_job"]
    assert final["status"] == "finished"
    assert final["counts"]["onboarded"] == 10


def test_a_dry_run_answers_what_would_be_bought_and_buys_nothing(
    api: Api, emulator: EmulatorServer
) -> None:
    enable(api)
    make_stores(api, "US", 3, **US)
    make_stores(api, "DE", 2, **US)
    emulator.state.clear_requests()

    response = api.post(JOBS, json={"all": True, "dry_run": True})

    assert response.status_code == 200, response.text
    plan = response.json()
    assert plan["dry_run"] is True
    assert plan["count"] == 5
    assert {s["store_id"]: s["action"] for s in plan["stores"]} == {
        "us-000": "buy",
        "us-001": "buy",
        "us-002": "buy",
        "de-000": "buy",
        "de-001": "buy",
    }
    countries = {c["country_code"]: c for c in plan["countries"]}
    assert countries["US"]["to_buy"] == 3
    assert countries["US"]["bundle_sid"] is None
    assert countries["DE"]["bundle_sid"].startswith("BU")
    assert countries["DE"]["address_sid"].startswith("AD")
    # Twilio's prices: US local numbers, DE mobile numbers (the emulator's price list).
    assert countries["US"]["monthly_price"] == {"amount": "1.15", "currency": "USD"}
    assert countries["DE"]["monthly_price"] == {"amount": "12.00", "currency": "USD"}
    assert plan["monthly_cost"] == {"amount": "27.45", "currency": "USD"}  # 3 x 1.15 + 2 x 12
    assert plan["note"] is None
    writes = [r for r in emulator.state.requests if r.method == "POST"]
    assert writes == []
    assert api.get(JOBS).json() == {"items": [], "next_cursor": None}
    assert owned_by_store(emulator, api) == Counter()


def test_cancel_stops_new_stores_and_lets_those_under_way_finish(
    api: Api, emulator: EmulatorServer
) -> None:
    enable(api)
    make_stores(api, "US", 40, **US)
    emulator.state.latency = 0.15  # every Twilio call is slow
    job = start_job(api, country="US")
    deadline = time.monotonic() + 60
    while api.get(f"{JOBS}/{job['id']}?stores=false").json()["counts"]["onboarded"] == 0:
        assert time.monotonic() < deadline
        time.sleep(0.05)

    cancelled = api.delete(f"{JOBS}/{job['id']}")

    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] in ("cancelling", "cancelled")
    done = wait_job(api, job["id"])
    emulator.state.latency = 0.0
    counts = done["counts"]
    assert done["status"] == "cancelled"
    assert counts["cancelled"] > 0
    assert counts["onboarded"] + counts["cancelled"] == 40
    assert counts["failed"] == counts["pending"] == counts["in_progress"] == 0
    onboarded = {s["store_id"] for s in done["stores"] if s["status"] == "onboarded"}
    assert set(owned_by_store(emulator, api)) == onboarded  # nothing bought after the cancel
    again = api.delete(f"{JOBS}/{job['id']}")
    assert again.status_code == 200
    assert again.json()["status"] == "cancelled"


def test_stores_of_a_country_without_one_fitting_bundle_fail_with_the_reason(
    api: Api, emulator: EmulatorServer
) -> None:
    enable(api)
    sub = subaccount(api)
    make_stores(api, "US", 2, **US)
    make_stores(api, "DE", 2, **US)
    make_stores(api, "NL", 2, **US)
    # In Twilio (not through the lists, whose answers the service caches for a minute): DE
    # loses its approved bundle, NL gains a second one.
    for bundle in list(emulator.state.bundles_by_sid.values()):
        if (bundle.account_sid, bundle.iso_country, bundle.status) == (
            sub,
            "DE",
            "twilio-approved",
        ):
            emulator.state.set_bundle_status(sub, bundle.sid, "twilio-rejected")
    nl = next(
        a
        for a in emulator.state.addresses_by_sid.values()
        if a.account_sid == sub and a.iso_country == "NL"
    )
    emulator.state.add_bundle(sub, "NL", "mobile", address_sid=nl.sid)
    job = start_job(api, all=True)

    done = wait_job(api, job["id"])

    results = {s["store_id"]: s for s in done["stores"]}
    assert {s: r["status"] for s, r in results.items()} == {
        "us-000": "onboarded",
        "us-001": "onboarded",
        "de-000": "failed",
        "de-001": "failed",
        "nl-000": "failed",
        "nl-001": "failed",
    }
    assert "No approved regulatory bundle" in results["de-000"]["message"]
    assert "2 approved regulatory bundles fit NL" in results["nl-000"]["message"]
    assert set(owned_by_store(emulator, api)) == {"us-000", "us-001"}


def test_twilio_429s_slow_the_job_but_do_not_fail_it(api: Api, emulator: EmulatorServer) -> None:
    enable(api)
    make_stores(api, "US", 20, **US)
    emulator.state.add_fault(
        method="POST",
        path=r"/IncomingPhoneNumbers\.json$",
        status=429,
        code=20429,
        retry_after=0.2,
        rate=0.5,
        times=15,
    )
    job = start_job(api, all=True)

    done = wait_job(api, job["id"])

    assert done["counts"]["onboarded"] == 20
    assert done["counts"]["failed"] == 0
    throttled = [r for r in emulator.state.requests if r.status == 429]
    assert len(throttled) == 15
    assert max(s["attempts"] for s in done["stores"]) > 1
    assert owned_by_store(emulator, api) == Counter({f"us-{i:03d}": 1 for i in range(20)})


def test_named_stores_and_already_onboarded_ones(api: Api, emulator: EmulatorServer) -> None:
    enable(api)
    make_stores(api, "US", 3, **US)
    first = wait_job(api, start_job(api, store_ids=["us-000"])["id"])
    assert first["counts"]["onboarded"] == 1

    second = wait_job(api, start_job(api, store_ids=["us-000", "us-001"])["id"])

    results = {s["store_id"]: s for s in second["stores"]}
    assert results["us-000"]["status"] == "already_onboarded"
    assert results["us-000"]["phone_number"] == first["stores"][0]["phone_number"]
    assert results["us-001"]["status"] == "onboarded"
    assert owned_by_store(emulator, api) == Counter({"us-000": 1, "us-001": 1})
    listed = api.get(JOBS, params={"limit": 1}).json()
    assert [j["id"] for j in listed["items"]] == [second["id"]]
    assert listed["items"][0]["stores"] is None
    older = api.get(JOBS, params={"limit": 1, "cursor": listed["next_cursor"]}).json()
    assert [j["id"] for j in older["items"]] == [first["id"]]
    assert older["next_cursor"] is None
    nothing = api.post(JOBS, json={"country": "US"})  # us-002 is left: a job of one store
    assert nothing.status_code == 202
    wait_job(api, nothing.json()["id"])
    assert_error(api.post(JOBS, json={"all": True}), 409, "nothing to do")
    assert_error(api.delete(f"{JOBS}/{second['id']}"), 409, "nothing left to cancel")


@pytest.mark.parametrize(
    ("body", "fragments"),
    [
        ({}, ["store_ids", "country", "all"]),
        ({"country": "DE", "all": True}, ["country and all"]),
        ({"all": True, "stores": ["a"]}, ["Unknown field", "stores"]),
        ({"country": "XX"}, ["'country'", "ISO 3166-1"]),
        ({"all": True, "channel": "fax"}, ["'channel'"]),
        ({"all": True, "waba_id": "123456"}, ["waba_id", "whatsapp"]),
        ({"store_ids": []}, ["'store_ids'"]),
        ({"store_ids": ["a", "a"]}, ["'store_ids'", "named twice"]),
        ({"store_ids": ["../etc"]}, ["'store_ids.0'", "pattern"]),
        ({"all": "maybe"}, ["'all'"]),
        ({"all": True, "release_number": False}, ["release_number", "operation"]),
        ({"all": True, "operation": "offboard", "enable": True}, ["enable"]),
        ({"all": True, "operation": "offboard", "channels": ["fax"]}, ["'channels.0'"]),
        ({"all": True, "operation": "offboard", "release_number": 0}, ["'release_number'"]),
        ({"all": True, "operation": "close"}, ["'operation'"]),
    ],
)
def test_bad_requests_name_the_field(api: Api, body: dict[str, Any], fragments: list[str]) -> None:
    enable(api)
    assert_error(api.post(JOBS, json=body), 400, *fragments)


def test_unknown_stores_jobs_and_a_tenant_not_enabled(api: Api) -> None:
    assert_error(api.post(JOBS, json={"all": True}), 400, "not enabled")
    enable(api)
    put_store(api, "us-nyc")
    assert_error(api.post(JOBS, json={"store_ids": ["us-nyc", "nope"]}), 404, "'nope'")
    assert_error(api.get(f"{JOBS}/job_00000000000000000000"), 404, "does not exist")
    assert_error(api.delete(f"{JOBS}/job_00000000000000000000"), 404, "does not exist")
    assert_error(api.get(f"{JOBS}/bad-id"), 400)
