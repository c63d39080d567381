"""Store onboarding for SMS: validation, idempotency, conflicts, Twilio faults, crash recovery."""

from __future__ import annotations

from typing import Any

import pytest

from tests.service.a2p_helpers import complete_registration
from tests.service.helpers import available_number, buy_by_hand, enable, put_store
from tests.support import Api, assert_error
from twilio_emulator import EmulatorServer


def _bundle(api: Api, store_id: str, status: str = "twilio-approved") -> dict[str, Any]:
    bundles = api.get(f"/clienteling/stores/{store_id}/regulatory-bundles").json()
    return next(b for b in bundles if b["status"] == status)


def _owned(emulator: EmulatorServer, api: Api) -> list[Any]:
    sub = api.get("/clienteling/configuration").json()["twilio"]["sid"]
    return list(emulator.state.owned_numbers(sub))


@pytest.fixture
def us_store(api: Api) -> str:
    enable(api)
    put_store(api, "us-nyc")
    return available_number(api, "us-nyc")


def test_onboard_buys_attaches_and_forwards(
    api: Api, emulator: EmulatorServer, us_store: str
) -> None:
    response = api.post("/clienteling/stores/us-nyc/onboard", json={"phone_number": us_store})
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["phone_number"] == us_store
    assert body["sms"] == {"status": "onboarded"}
    assert "A2P 10DLC" in body["sending"]  # the number is ready; sending waits on it
    assert body["enabled"] is False
    owned = _owned(emulator, api)
    assert [n.phone_number for n in owned] == [us_store]
    assert owned[0].friendly_name == "clienteling:acme:store:us-nyc"
    config = api.get("/clienteling/configuration").json()
    assert owned[0].voice_application_sid == config["twilio"]["call_forwarding"]["sid"]
    members = emulator.state.messaging_service_numbers(config["twilio"]["messaging_service_sid"])
    assert [m.sid if hasattr(m, "sid") else m for m in members] == [owned[0].sid]
    status = api.get("/clienteling/onboarding-status").json()
    store = next(s for s in status["stores"] if s["id"] == "us-nyc")
    assert store["phone_number"] == us_store
    assert store["channels"]["sms"]["status"] == "registration_pending"
    complete_registration(api, emulator)
    status = api.get("/clienteling/onboarding-status").json()
    store = next(s for s in status["stores"] if s["id"] == "us-nyc")
    assert store["channels"]["sms"]["status"] == "onboarded"


def test_same_request_repeated_is_200_with_same_body(
    api: Api, emulator: EmulatorServer, us_store: str
) -> None:
    first = api.post("/clienteling/stores/us-nyc/onboard", json={"phone_number": us_store})
    again = api.post("/clienteling/stores/us-nyc/onboard", json={"phone_number": us_store})
    assert first.status_code == 201
    assert again.status_code == 200
    assert again.json() == first.json()
    assert len(_owned(emulator, api)) == 1


def test_another_number_for_an_onboarded_store_is_409(
    api: Api, emulator: EmulatorServer, us_store: str
) -> None:
    api.post("/clienteling/stores/us-nyc/onboard", json={"phone_number": us_store})
    numbers = api.get("/clienteling/stores/us-nyc/available-phone-numbers").json()
    other = next(n["phone_number"] for n in numbers if n["phone_number"] != us_store)
    response = api.post("/clienteling/stores/us-nyc/onboard", json={"phone_number": other})
    assert_error(response, 409, "already onboarded", us_store)
    assert len(_owned(emulator, api)) == 1


def test_enable_query_switches_the_store_on(api: Api, us_store: str) -> None:
    response = api.post(
        "/clienteling/stores/us-nyc/onboard",
        params={"enable": "true"},
        json={"phone_number": us_store},
    )
    assert response.json()["enabled"] is True


@pytest.mark.parametrize(
    ("body", "fragments"),
    [
        ({"phone_number": "2125550100"}, ("phone_number",)),
        ({"phone_number": "+4930901820"}, ("phone_number", "not of the store's country US")),
        ({"phone_number": "+1212555"}, ("phone_number",)),
        ({"phone_number": "+12125550100", "kind": "shared"}, ("kind",)),
        (
            {"phone_number": "+12125550100", "sender_group_id": "g1"},
            ("sender_group_id", "dedicated"),
        ),
        (
            {"phone_number": "+12125550100", "kind": "join_existing_group"},
            ("sender_group_id", "required"),
        ),
        (
            {"phone_number": "+12125550100", "bundle_sid": "BU" + "a" * 32},
            ("bundle_sid and address_sid go together", "address_sid is missing"),
        ),
        (
            {"phone_number": "+12125550100", "address_sid": "AD" + "a" * 32},
            ("bundle_sid is missing",),
        ),
        ({"phone_number": "+12125550100", "bundle_sid": "XX1"}, ("bundle_sid",)),
        ({"phone_number": "+12125550100", "phone_numbr": "x"}, ("Unknown field(s): phone_numbr",)),
        ({}, ("'phone_number' is required",)),
    ],
)
def test_validation(
    api: Api, us_store: str, body: dict[str, Any], fragments: tuple[str, ...]
) -> None:
    assert_error(api.post("/clienteling/stores/us-nyc/onboard", json=body), 400, *fragments)


def test_unknown_store_is_404(api: Api) -> None:
    enable(api)
    assert_error(
        api.post("/clienteling/stores/nope/onboard", json={"phone_number": "+12125550100"}),
        404,
        "nope",
    )


def test_not_enabled_is_400(api: Api) -> None:
    put_store(api, "us-nyc")
    response = api.post("/clienteling/stores/us-nyc/onboard", json={"phone_number": "+12125550100"})
    assert_error(response, 400, "not enabled", "POST /clienteling/configuration")


def test_unknown_group_is_404(api: Api, us_store: str) -> None:
    response = api.post(
        "/clienteling/stores/us-nyc/onboard",
        json={"phone_number": us_store, "kind": "join_existing_group", "sender_group_id": "nope"},
    )
    assert_error(response, 404, "Sender group 'nope'")


def test_unsupported_country_is_400_naming_it(api: Api) -> None:
    enable(api)
    put_store(api, "jp-tyo")
    response = api.post("/clienteling/stores/jp-tyo/onboard", json={"phone_number": "+81312345678"})
    assert_error(response, 400, "JP")


def test_bundle_country_needs_a_bundle(api: Api) -> None:
    enable(api)
    put_store(api, "de-ber")
    number = available_number(api, "de-ber")
    response = api.post("/clienteling/stores/de-ber/onboard", json={"phone_number": number})
    assert_error(
        response, 400, "regulatory bundle", "/clienteling/stores/de-ber/regulatory-bundles"
    )


def test_bundle_country_onboards_with_approved_bundle(api: Api, emulator: EmulatorServer) -> None:
    enable(api)
    put_store(api, "de-ber")
    number = available_number(api, "de-ber")
    bundle = _bundle(api, "de-ber")
    response = api.post(
        "/clienteling/stores/de-ber/onboard",
        json={
            "phone_number": number,
            "bundle_sid": bundle["sid"],
            "address_sid": bundle["address_sid"],
        },
    )
    assert response.status_code == 201, response.text
    owned = _owned(emulator, api)
    assert [(n.phone_number, n.bundle_sid) for n in owned] == [(number, bundle["sid"])]


def test_bundle_must_be_approved(api: Api, emulator: EmulatorServer) -> None:
    enable(api)
    put_store(api, "de-ber")
    number = available_number(api, "de-ber")
    bundles = api.get("/clienteling/stores/de-ber/regulatory-bundles").json()
    pending = next((b for b in bundles if b["status"] != "twilio-approved"), None)
    if pending is None:
        sub = api.get("/clienteling/configuration").json()["twilio"]["sid"]
        pending = bundles[0]
        emulator.state.set_bundle_status(sub, pending["sid"], "pending-review")
    response = api.post(
        "/clienteling/stores/de-ber/onboard",
        json={
            "phone_number": number,
            "bundle_sid": pending["sid"],
            "address_sid": pending["address_sid"] or "AD" + "0" * 32,
        },
    )
    assert_error(response, 400, "bundle_sid", "not 'twilio-approved'")
    assert _owned(emulator, api) == []


def test_bundle_of_another_country_is_400(api: Api, emulator: EmulatorServer) -> None:
    enable(api)
    put_store(api, "de-ber")
    put_store(
        api, "gb-lon", name="London", country_code="GB", phone=None, region=None, postal_code=None
    )
    gb_bundle = _bundle(api, "gb-lon")
    number = available_number(api, "de-ber")
    response = api.post(
        "/clienteling/stores/de-ber/onboard",
        json={
            "phone_number": number,
            "bundle_sid": gb_bundle["sid"],
            "address_sid": gb_bundle["address_sid"],
        },
    )
    assert_error(response, 400, "bundle_sid", "GB", "DE")
    assert _owned(emulator, api) == []


def test_already_purchased_requires_ownership(
    api: Api, emulator: EmulatorServer, us_store: str
) -> None:
    response = api.post(
        "/clienteling/stores/us-nyc/onboard",
        json={"phone_number": us_store, "phone_number_already_purchased": True},
    )
    assert_error(response, 400, "phone_number_already_purchased", "does not belong")
    assert _owned(emulator, api) == []
    # The claim was released: the store can still be onboarded, with this or another number.
    assert (
        api.post("/clienteling/stores/us-nyc/onboard", json={"phone_number": us_store}).status_code
        == 201
    )


def test_number_taken_meanwhile_is_400_and_releases_the_store(
    api: Api, emulator: EmulatorServer, service: Any, us_store: str
) -> None:
    # Another Twilio customer buys the number between the list and the purchase.
    emulator.state.add_fault(
        method="POST",
        path=r"/IncomingPhoneNumbers\.json",
        kind="error",
        status=400,
        code=21422,
        times=1,
    )
    response = api.post("/clienteling/stores/us-nyc/onboard", json={"phone_number": us_store})
    assert_error(response, 400, "no longer available", "available-phone-numbers")
    assert _owned(emulator, api) == []
    numbers = api.get("/clienteling/stores/us-nyc/available-phone-numbers").json()
    other = next(n["phone_number"] for n in numbers if n["phone_number"] != us_store)
    assert (
        api.post("/clienteling/stores/us-nyc/onboard", json={"phone_number": other}).status_code
        == 201
    )


def test_twilio_unreachable_is_503_and_retry_completes(
    api: Api, emulator: EmulatorServer, us_store: str
) -> None:
    emulator.state.add_fault(
        method="POST",
        path=r"/IncomingPhoneNumbers\.json",
        kind="error",
        status=503,
        retry_after=1,
        times=1,
    )
    response = api.post("/clienteling/stores/us-nyc/onboard", json={"phone_number": us_store})
    assert response.status_code in (502, 503)
    assert_error(response, response.status_code, "Twilio")
    assert _owned(emulator, api) == []
    status = api.get("/clienteling/onboarding-status").json()
    assert status["stores"][0]["channels"]["sms"]["status"] != "onboarded"
    retry = api.post("/clienteling/stores/us-nyc/onboard", json={"phone_number": us_store})
    assert retry.status_code == 201
    assert len(_owned(emulator, api)) == 1


def _buy_outside_the_service(api: Api, emulator: EmulatorServer, number: str) -> None:
    """The tenant bought `number` earlier, by hand: owned, no voice app, in no service."""
    assert buy_by_hand(api, emulator, number)["voice_application_sid"] is None


@pytest.mark.parametrize(
    ("step", "path"),
    [
        ("purchase", r"/IncomingPhoneNumbers\.json$"),
        ("messaging-add", r"/v1/Services/[^/]+/PhoneNumbers$"),
        # A bought number gets the voice app with the purchase; only a number the tenant
        # already owned goes through the voice step.
        ("voice", r"/IncomingPhoneNumbers/PN[0-9a-f]+\.json$"),
    ],
)
@pytest.mark.parametrize("kind", ["after_apply", "drop", "timeout"])
def test_failure_after_twilio_applied_the_change_is_completed_by_retry(
    api: Api, emulator: EmulatorServer, us_store: str, step: str, path: str, kind: str
) -> None:
    body: dict[str, Any] = {"phone_number": us_store}
    if step == "voice":
        _buy_outside_the_service(api, emulator, us_store)
        body["phone_number_already_purchased"] = True
    fault = emulator.state.add_fault(
        method="POST", path=path, kind=kind, status=500, times=1, delay=5.0
    )
    first = api.post("/clienteling/stores/us-nyc/onboard", json=body)
    assert first.status_code in (201, 502, 503), first.text
    # The fault really hit the step's call: no cell passes without exercising it.
    assert fault.hits == 1
    emulator.state.clear_faults()
    retry = api.post("/clienteling/stores/us-nyc/onboard", json=body)
    assert retry.status_code in (200, 201), retry.text
    owned = _owned(emulator, api)
    assert [n.phone_number for n in owned] == [us_store]
    config = api.get("/clienteling/configuration").json()
    members = emulator.state.messaging_service_numbers(config["twilio"]["messaging_service_sid"])
    assert [m.sid for m in members] == [owned[0].sid]
    assert owned[0].voice_application_sid == config["twilio"]["call_forwarding"]["sid"]
