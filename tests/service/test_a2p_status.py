"""The US step of the onboarding status is the A2P 10DLC chain: only the trust product under the
A2P messaging-profile policy, the brand and the campaigns; a US store can send (and the tenant
is onboarded) only once its Messaging Service has a verified campaign."""

from __future__ import annotations

from typing import Any

from clienteling_setup.sync import SyncReport, sync_tenant
from tests.conftest import Service
from tests.service.a2p_helpers import (
    complete_registration,
    put_business_profile,
    stage,
    start_registration,
)
from tests.service.helpers import available_number, enable, put_store
from tests.support import Api
from twilio_emulator import EmulatorServer

SHAKEN_STIR = "RN7a97559effdf62d00f4298208492a5ea"
CNAM = "RN670d5d2e282a6130ae063b234b6019c8"


def _status(api: Api) -> dict[str, Any]:
    response = api.get("/clienteling/onboarding-status")
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def _us(document: dict[str, Any]) -> dict[str, Any]:
    return next(c for c in document["countries"] if c["country_code"] == "US")


def _store(document: dict[str, Any], store_id: str) -> dict[str, Any]:
    return next(s for s in document["stores"] if s["id"] == store_id)


def _onboard_us_store(api: Api) -> dict[str, Any]:
    put_store(api, "us-nyc")
    number = available_number(api, "us-nyc")
    response = api.post("/clienteling/stores/us-nyc/onboard", json={"phone_number": number})
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def test_an_approved_shaken_stir_or_cnam_product_does_not_clear_the_us_step(
    api: Api, service: Service, emulator: EmulatorServer
) -> None:
    enable(api)
    put_store(api, "us-nyc")
    account = str(api.get("/clienteling/configuration").json()["twilio"]["sid"])
    for name, policy in (("SHAKEN/STIR", SHAKEN_STIR), ("CNAM", CNAM)):
        product = emulator.state.add_trust_product(account, name, "twilio-approved")
        with emulator.state.lock:
            product.regulation_sid = policy
    sync_tenant(service.runtime, api.tenant, SyncReport())
    us = _us(_status(api))
    assert us["trusted_product"]["required"] is True
    assert us["trusted_product"]["status"] == "missing"
    assert us["trusted_product"]["product_id"] is None
    assert "submit_business_profile" in us["actions"]


def test_a_us_store_is_registration_pending_until_its_campaign_is_verified(
    api: Api, emulator: EmulatorServer
) -> None:
    enable(api)
    api.put("/clienteling/opt-in-template", json={"body": "Reply YES to hear from us."})
    onboarded = _onboard_us_store(api)
    document = _status(api)
    store = _store(document, "us-nyc")
    assert store["channels"]["sms"]["status"] == "registration_pending"
    assert store["phone_number"] == onboarded["phone_number"]  # the number is ready
    assert document["onboarded"] is False
    assert document["onboarded_at"] is None
    assert _us(document)["actions"] == ["submit_business_profile"]

    put_business_profile(api)
    start_registration(api)
    pending = _status(api)
    assert _us(pending)["trusted_product"]["status"] == "brand_pending"
    assert _us(pending)["actions"] == ["await_brand_review"]
    assert _store(pending, "us-nyc")["channels"]["sms"]["status"] == "registration_pending"

    complete_registration(api, emulator)
    done = _status(api)
    assert _store(done, "us-nyc")["channels"]["sms"]["status"] == "onboarded"
    assert done["onboarded"] is True
    assert done["onboarded_at"] is not None
    us = _us(done)
    assert us["trusted_product"]["status"] == "twilio-approved"
    assert (
        us["trusted_product"]["product_id"]
        == stage(api.get("/clienteling/a2p-registration").json(), "trust_product")["sid"]
    )
    assert us["actions"] == []


def test_a_rejected_brand_shows_its_reason_and_fix_rejected_brand(
    api: Api, emulator: EmulatorServer
) -> None:
    enable(api)
    put_store(api, "us-nyc")
    put_business_profile(api)
    started = start_registration(api)
    emulator.state.set_brand_status(
        stage(started, "brand")["sid"], "FAILED", "TCR could not verify the EIN."
    )
    start_registration(api)  # reads the brand (reconciliation does the same)
    us = _us(_status(api))
    assert us["trusted_product"]["status"] == "brand_failed"
    assert us["trusted_product"]["failure_reason"] == "TCR could not verify the EIN."
    assert "fix_rejected_brand" in us["actions"]


def test_a_rejected_campaign_shows_its_errors_and_fix_rejected_campaign(
    api: Api, emulator: EmulatorServer
) -> None:
    enable(api)
    put_store(api, "us-nyc")
    put_business_profile(api)
    start_registration(api)
    emulator.state.advance_clock(
        emulator.state.a2p_profile_review_seconds + emulator.state.brand_review_seconds
    )
    (campaign,) = start_registration(api)["campaigns"]
    emulator.state.set_campaign_status(campaign["sid"], "FAILED")
    start_registration(api)
    us = _us(_status(api))
    assert us["trusted_product"]["status"] == "campaign_failed"
    assert (us["trusted_product"]["failure_reason"] or "").startswith("30896 (MESSAGE_FLOW)")
    assert "fix_rejected_campaign" in us["actions"]
