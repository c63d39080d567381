"""US A2P 10DLC: Twilio's Trust Hub status callbacks move the registration at once (the
emulator delivers them over HTTP when its reviewer decides), without a reconciliation pass."""

from __future__ import annotations

from typing import Any

import httpx

from clienteling_setup.providers.twilio.webhooks import compute_signature
from tests.conftest import Service
from tests.service.a2p_helpers import put_business_profile, stage, start_registration
from tests.service.helpers import available_number, enable, put_store
from tests.support import Api, assert_error
from twilio_emulator import EmulatorServer

CALLBACK = "/clienteling/webhooks/twilio/a2p-status"


def _registration(api: Api) -> dict[str, Any]:
    response = api.get("/clienteling/a2p-registration")
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def _us(api: Api) -> dict[str, Any]:
    response = api.get("/clienteling/onboarding-status")
    assert response.status_code == 200, response.text
    return next(c for c in response.json()["countries"] if c["country_code"] == "US")


def test_the_customer_profile_and_trust_product_carry_the_status_callback(
    api: Api, emulator: EmulatorServer, service: Service
) -> None:
    enable(api)
    put_business_profile(api)
    started = start_registration(api)
    state = emulator.state
    with state.lock:
        profile = state.customer_profiles_by_sid[stage(started, "customer_profile")["sid"]]
        product = state.trust_products_by_sid[stage(started, "trust_product")["sid"]]
    assert profile.status_callback == f"{service.base_url}{CALLBACK}"
    assert product.status_callback == f"{service.base_url}{CALLBACK}"


def test_a_review_moves_the_registration_and_the_status_without_a_sync_pass(
    api: Api, emulator: EmulatorServer
) -> None:
    enable(api)
    put_store(api, "us-nyc")  # a US store: the US step is in the onboarding status
    number = available_number(api, "us-nyc")
    onboarded = api.post("/clienteling/stores/us-nyc/onboard", json={"phone_number": number})
    assert onboarded.status_code == 201, onboarded.text
    put_business_profile(api)
    started = start_registration(api)
    assert _us(api)["trusted_product"]["status"] == "brand_pending"
    profile = stage(started, "customer_profile")["sid"]
    product = stage(started, "trust_product")["sid"]
    account = str(api.get("/clienteling/configuration").json()["twilio"]["sid"])
    emulator.state.clear_requests()

    emulator.state.set_trust_product_status(account, product, "twilio-approved")
    assert stage(_registration(api), "trust_product")["twilio_status"] == "twilio-approved"

    # The reviewer rejects the customer profile: the callback carries the reason.
    emulator.state.set_customer_profile_status(
        profile, "twilio-rejected", "The legal name does not match the EIN."
    )
    registration = _registration(api)
    rejected = stage(registration, "customer_profile")
    assert rejected["twilio_status"] == "twilio-rejected"
    assert rejected["failure_reason"] == "The legal name does not match the EIN."
    assert registration["action"] == "submit_business_profile"
    us = _us(api)
    assert us["trusted_product"]["status"] != "brand_pending"
    assert us["trusted_product"]["failure_reason"] == "The legal name does not match the EIN."
    assert "submit_business_profile" in us["actions"]
    # Nobody read Twilio meanwhile: the callbacks did it (no reconciliation pass, no fetch).
    assert [r.path for r in emulator.state.requests if r.method == "GET"] == []
    callbacks = [c for c in emulator.state.callbacks if c.url.endswith(CALLBACK)]
    assert len(callbacks) == 2


def test_a_forged_or_unknown_a2p_callback_changes_nothing(
    api: Api, emulator: EmulatorServer, service: Service
) -> None:
    enable(api)
    put_business_profile(api)
    started = start_registration(api)
    account = str(api.get("/clienteling/configuration").json()["twilio"]["sid"])
    sid = stage(started, "customer_profile")["sid"]
    params = {
        "AccountSid": account,
        "BundleSid": sid,
        "Status": "twilio-rejected",
        "FailureReason": "forged",
    }
    url = f"{service.base_url}{CALLBACK}"
    forged = httpx.post(
        url, data=params, headers={"X-Twilio-Signature": compute_signature("0" * 32, url, params)}
    )
    assert_error(forged, 403, "X-Twilio-Signature")
    assert stage(_registration(api), "customer_profile")["twilio_status"] == "pending-review"

    token = emulator.state.account(account).auth_token  # type: ignore[union-attr]
    unknown = {**params, "BundleSid": "BU" + "0" * 32}
    answer = httpx.post(
        url, data=unknown, headers={"X-Twilio-Signature": compute_signature(token, url, unknown)}
    )
    assert answer.status_code == 204
    assert stage(_registration(api), "customer_profile")["twilio_status"] == "pending-review"

    bad = {**params, "Status": "approved-ish"}
    refused = httpx.post(
        url, data=bad, headers={"X-Twilio-Signature": compute_signature(token, url, bad)}
    )
    assert_error(refused, 400, "Status")
