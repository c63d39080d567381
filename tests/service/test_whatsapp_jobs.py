"""Bulk WhatsApp onboarding: a job with `channel: whatsapp` registers the SMS number of stores
already on SMS as their WhatsApp sender, through the single request's workflow."""

from __future__ import annotations

from typing import Any

from tests.service.helpers import enable
from tests.service.job_helpers import (
    JOBS,
    US,
    failures,
    make_stores,
    start_job,
    subaccount,
    wait_job,
)
from tests.support import Api, assert_error
from twilio_emulator import EmulatorServer

WABA = "1234567890"
WHATSAPP = {"channel": "whatsapp"}


def _on_sms(api: Api, count: int) -> dict[str, str]:
    make_stores(api, "US", count, **US)
    done = wait_job(api, start_job(api, all=True)["id"])
    assert done["counts"]["onboarded"] == count, failures(done)
    return {s["store_id"]: s["phone_number"] for s in done["stores"]}


def _senders(emulator: EmulatorServer, api: Api) -> dict[str, Any]:
    return {s.sender_id: s for s in emulator.state.senders(subaccount(api))}


def test_a_job_registers_the_sms_number_of_every_store_on_sms(
    api: Api, emulator: EmulatorServer
) -> None:
    enable(api)
    numbers = _on_sms(api, 6)

    plan = api.post(JOBS, json={**WHATSAPP, "all": True, "waba_id": WABA, "dry_run": True})
    assert plan.status_code == 200, plan.text
    assert plan.json()["count"] == 0  # nothing to buy: each store registers its SMS number
    assert {s["store_id"]: s["action"] for s in plan.json()["stores"]} == {
        store_id: "register" for store_id in numbers
    }
    assert _senders(emulator, api) == {}

    job = start_job(api, **WHATSAPP, all=True, waba_id=WABA)
    assert job["channel"] == "whatsapp"
    done = wait_job(api, job["id"])

    assert done["counts"]["onboarded"] == 6, failures(done)
    assert {s["store_id"]: s["phone_number"] for s in done["stores"]} == numbers
    senders = _senders(emulator, api)
    assert set(senders) == {f"whatsapp:{n}" for n in numbers.values()}
    assert {s.configuration["waba_id"] for s in senders.values()} == {WABA}
    assert {s.profile["name"] for s in senders.values()} == {
        f"Store {store_id}" for store_id in numbers
    }
    status = api.get("/clienteling/onboarding-status").json()
    assert {s["id"]: s["channels"]["whatsapp"]["phone_number"] for s in status["stores"]} == (
        numbers
    )

    # Every store on SMS has its sender now: nothing to do by filter; by name, nothing redone.
    assert_error(api.post(JOBS, json={**WHATSAPP, "all": True}), 409, "without a WhatsApp")
    again = wait_job(api, start_job(api, **WHATSAPP, store_ids=sorted(numbers), waba_id=WABA)["id"])
    assert again["counts"]["already_onboarded"] == 6, failures(again)
    assert len(emulator.state.senders(subaccount(api))) == 6


def test_stores_without_a_waba_or_not_on_sms_fail_with_the_reason(
    api: Api, emulator: EmulatorServer
) -> None:
    enable(api)
    numbers = _on_sms(api, 2)
    make_stores(api, "CA", 1, **US)

    plan = api.post(JOBS, json={**WHATSAPP, "store_ids": [*numbers, "ca-000"], "dry_run": True})
    actions = {s["store_id"]: (s["action"], s["message"]) for s in plan.json()["stores"]}
    assert actions["ca-000"][0] == "fail"
    assert "not onboarded for SMS" in actions["ca-000"][1]
    assert all(actions[s][0] == "fail" and "waba_id" in actions[s][1] for s in numbers)

    done = wait_job(api, start_job(api, **WHATSAPP, store_ids=[*numbers, "ca-000"])["id"])

    assert done["counts"]["failed"] == 3
    messages = {s["store_id"]: s["message"] for s in done["stores"]}
    assert "not onboarded for SMS" in messages["ca-000"]
    assert all("waba_id" in messages[s] for s in numbers)
    assert _senders(emulator, api) == {}
