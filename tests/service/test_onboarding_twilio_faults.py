"""Acceptance 5: Twilio's refusals and failures during a store's onboarding give the documented
answers, and where the answer says nothing was done, nothing was (no number owned, the store not
onboarded, no number in the Messaging Service); the same request then finishes the job."""

from __future__ import annotations

from typing import Any

import pytest

from tests.service.helpers import available_number, enable, put_store
from tests.support import Api, assert_error
from twilio_emulator import EmulatorServer

PURCHASE = r"/IncomingPhoneNumbers\.json$"


def twilio_side(api: Api) -> dict[str, Any]:
    return dict(api.get("/clienteling/configuration").json()["twilio"])


def sms_of(api: Api, store_id: str) -> tuple[str, str | None]:
    status = api.get("/clienteling/onboarding-status").json()
    store = next(s for s in status["stores"] if s["id"] == store_id)
    return store["channels"]["sms"]["status"], store["phone_number"]


def assert_nothing_done(api: Api, emulator: EmulatorServer, store_id: str) -> None:
    twilio = twilio_side(api)
    assert emulator.state.owned_numbers(twilio["sid"]) == []
    assert emulator.state.messaging_service_numbers(twilio["messaging_service_sid"]) == []
    sms_status, phone_number = sms_of(api, store_id)
    assert sms_status != "onboarded"
    assert phone_number is None


def purchases(emulator: EmulatorServer) -> list[Any]:
    return [
        r
        for r in emulator.state.requests
        if r.method == "POST" and r.path.endswith("/IncomingPhoneNumbers.json")
    ]


@pytest.fixture
def de_store(api: Api) -> str:
    enable(api)
    put_store(api, "de-ber")
    return available_number(api, "de-ber")


@pytest.fixture
def us_store(api: Api) -> str:
    enable(api)
    put_store(api, "us-nyc")
    return available_number(api, "us-nyc")


def test_bundle_twilio_rejects_is_400_with_twilios_reason_and_frees_the_store(
    api: Api, emulator: EmulatorServer, de_store: str
) -> None:
    # Approved and of the store's country (so our own check passes), but for local numbers:
    # Twilio sells German SMS numbers (mobile) only with a mobile bundle and answers 21649.
    sub = twilio_side(api)["sid"]
    address = next(a for a in emulator.state.addresses(sub) if a.iso_country == "DE")
    local = emulator.state.add_bundle(sub, "DE", "local", address_sid=address.sid)
    response = api.post(
        "/clienteling/stores/de-ber/onboard",
        json={"phone_number": de_store, "bundle_sid": local.sid, "address_sid": address.sid},
    )
    assert_error(response, 400, "21649", f"Bundle {local.sid} is for DE local numbers")
    assert [r.status for r in purchases(emulator)] == [400]
    assert_nothing_done(api, emulator, "de-ber")
    # The claim was released: the right bundle onboards the store with the same number.
    mobile = next(
        b
        for b in emulator.state.bundles(sub)
        if (b.iso_country, b.number_type, b.status) == ("DE", "mobile", "twilio-approved")
    )
    retry = api.post(
        "/clienteling/stores/de-ber/onboard",
        json={"phone_number": de_store, "bundle_sid": mobile.sid, "address_sid": address.sid},
    )
    assert retry.status_code == 201, retry.text
    assert [n.phone_number for n in emulator.state.owned_numbers(sub)] == [de_store]


def test_address_twilio_rejects_is_400_with_twilios_code(
    api: Api, emulator: EmulatorServer, us_store: str
) -> None:
    fault = emulator.state.add_fault(
        method="POST", path=PURCHASE, kind="error", status=400, code=21631
    )
    response = api.post("/clienteling/stores/us-nyc/onboard", json={"phone_number": us_store})
    assert_error(response, 400, "Twilio error 21631")
    assert fault.hits == 1
    assert_nothing_done(api, emulator, "us-nyc")
    status, number = sms_of(api, "us-nyc")
    assert (status, number) == ("not_onboarded", None)  # the claim was released


def test_twilio_503_with_retry_after_is_our_503_with_retry_after(
    api: Api, emulator: EmulatorServer, us_store: str
) -> None:
    fault = emulator.state.add_fault(
        method="POST", path=PURCHASE, kind="error", status=503, retry_after=7
    )
    response = api.post("/clienteling/stores/us-nyc/onboard", json={"phone_number": us_store})
    assert_error(response, 503, "Twilio", "Retry the same request")
    assert response.headers["Retry-After"] == "7"
    assert fault.hits == 1
    assert_nothing_done(api, emulator, "us-nyc")
    # The store shows the pending attempt, without a number yet.
    assert sms_of(api, "us-nyc") == ("pending", None)
    retry = api.post("/clienteling/stores/us-nyc/onboard", json={"phone_number": us_store})
    assert retry.status_code == 201, retry.text
    assert [r.status for r in purchases(emulator)] == [503, 201]


def test_twilio_timeout_on_purchase_is_503_and_nothing_is_bought(
    api: Api, emulator: EmulatorServer, us_store: str
) -> None:
    # The emulator holds the purchase longer than the service waits (3 s in tests).
    fault = emulator.state.add_fault(method="POST", path=PURCHASE, kind="timeout", delay=10)
    response = api.post("/clienteling/stores/us-nyc/onboard", json={"phone_number": us_store})
    assert_error(response, 503, "did not answer in time", "Retry the same request")
    assert int(response.headers["Retry-After"]) >= 1
    assert fault.hits == 1
    assert_nothing_done(api, emulator, "us-nyc")
    retry = api.post("/clienteling/stores/us-nyc/onboard", json={"phone_number": us_store})
    assert retry.status_code == 201, retry.text
    sub = twilio_side(api)["sid"]
    assert [n.phone_number for n in emulator.state.owned_numbers(sub)] == [us_store]
