"""Offboarding a store (`POST /clienteling/stores/{id}/offboard`) and closing one
(`DELETE /clienteling/stores/{id}`), checked against what the emulator then owns."""

from __future__ import annotations

from typing import Any

import pytest

from clienteling_setup.sync import sync_all
from tests.conftest import Service
from tests.service.a2p_helpers import complete_registration
from tests.service.helpers import available_number, enable, put_store
from tests.support import Api, assert_error
from twilio_emulator import EmulatorServer

STORE = "us-nyc"
WABA = "123456789012345"


def _config(api: Api) -> dict[str, Any]:
    return api.get("/clienteling/configuration").json()["twilio"]  # type: ignore[no-any-return]


def _owned(emulator: EmulatorServer, api: Api) -> dict[str, str]:
    """Phone number -> SID of every number the tenant's subaccount owns."""
    return {n.phone_number: n.sid for n in emulator.state.owned_numbers(_config(api)["sid"])}


def _members(emulator: EmulatorServer, api: Api) -> set[str]:
    service = _config(api)["messaging_service_sid"]
    return {m.phone_number for m in emulator.state.messaging_service_numbers(service)}


def _onboarded(api: Api, store_id: str = STORE) -> str:
    put_store(api, store_id)
    number = available_number(api, store_id)
    response = api.post(f"/clienteling/stores/{store_id}/onboard", json={"phone_number": number})
    assert response.status_code == 201, response.text
    return number


def _store_status(api: Api, store_id: str = STORE) -> dict[str, Any]:
    stores = api.get("/clienteling/onboarding-status").json()["stores"]
    return next(s for s in stores if s["id"] == store_id)  # type: ignore[no-any-return]


def _offboard(api: Api, store_id: str = STORE, **body: Any) -> Any:
    return api.post(f"/clienteling/stores/{store_id}/offboard", json=body)


def _whatsapp(api: Api, store_id: str = STORE, **extra: Any) -> dict[str, Any]:
    body = {"waba_id": WABA, "profile_name": "Dodici", **extra}
    response = api.post(f"/clienteling/stores/{store_id}/whatsapp/onboard", json=body)
    assert response.status_code == 202, response.text
    return response.json()  # type: ignore[no-any-return]


def test_offboarding_releases_the_number_and_answers_the_same_when_repeated(
    api: Api, service: Service, emulator: EmulatorServer
) -> None:
    enable(api)
    number = _onboarded(api)
    assert number in _owned(emulator, api)

    first = _offboard(api)
    assert first.status_code == 200, first.text
    body = first.json()
    assert body["status"] == "offboarded"
    assert (body["phone_number"], body["released_numbers"], body["kept_numbers"]) == (
        number,
        [number],
        [],
    )
    assert [s["step"] for s in body["steps"]] == [
        "claimed",
        "messaging_service",
        "sms_number",
        "offboarded",
    ]
    assert number not in _owned(emulator, api)
    assert number not in _members(emulator, api)
    store = _store_status(api)
    assert (store["phone_number"], store["channels"]["sms"]["status"]) == (None, "not_onboarded")

    again = _offboard(api)
    assert again.status_code == 200
    assert again.json() == body

    # The ledger has the release once, named after the request that asked for it.
    with service.runtime.uows.of(api.tenant) as uow:
        (entry,) = uow.ledger.page(after=None, limit=10, actions=("number_released",))
    assert (entry.phone_number, entry.store_id, entry.reason) == (number, STORE, "offboarding")
    assert entry.request_id == first.headers["X-Request-ID"]


def test_a_kept_number_stays_owned_and_the_store_onboards_again_with_it(
    api: Api, emulator: EmulatorServer
) -> None:
    enable(api)
    complete_registration(api, emulator)  # the US store can send (A2P 10DLC)
    number = _onboarded(api)

    kept = _offboard(api, release_number=False)
    assert kept.status_code == 200, kept.text
    assert kept.json()["kept_numbers"] == [number]
    assert number in _owned(emulator, api)
    assert number not in _members(emulator, api)

    # Another store cannot take the kept number: the store still claims it.
    put_store(api, "other")
    taken = api.post("/clienteling/stores/other/onboard", json={"phone_number": number})
    assert_error(taken, 409, number, f"store '{STORE}'")

    again = api.post(
        f"/clienteling/stores/{STORE}/onboard",
        json={"phone_number": number, "phone_number_already_purchased": True},
    )
    assert again.status_code == 201, again.text
    assert list(_owned(emulator, api)) == [number]
    assert number in _members(emulator, api)
    assert _store_status(api)["channels"]["sms"]["status"] == "onboarded"


def test_a_kept_number_is_released_by_a_later_offboarding_that_releases(
    api: Api, emulator: EmulatorServer
) -> None:
    enable(api)
    number = _onboarded(api)
    assert _offboard(api, release_number=False).status_code == 200
    assert _offboard(api, release_number=False).json()["kept_numbers"] == [number]

    released = _offboard(api)
    assert released.status_code == 200, released.text
    assert released.json()["released_numbers"] == [number]
    assert _owned(emulator, api) == {}


def test_after_a_release_the_store_onboards_again_with_a_new_number(
    api: Api, emulator: EmulatorServer
) -> None:
    enable(api)
    old = _onboarded(api)
    assert _offboard(api).status_code == 200

    # Twilio does not sell a released number again at once.
    refused = api.post(f"/clienteling/stores/{STORE}/onboard", json={"phone_number": old})
    assert_error(refused, 400, "no longer available")

    offered = api.get(f"/clienteling/stores/{STORE}/available-phone-numbers").json()
    new = next(n["phone_number"] for n in offered if n["phone_number"] != old)
    again = api.post(f"/clienteling/stores/{STORE}/onboard", json={"phone_number": new})
    assert again.status_code == 201, again.text
    assert list(_owned(emulator, api)) == [new]


def test_whatsapp_on_the_sms_number_goes_with_it(api: Api, emulator: EmulatorServer) -> None:
    enable(api)
    number = _onboarded(api)
    sender = _whatsapp(api)
    sub = _config(api)["sid"]
    assert [s.sid for s in emulator.state.senders(sub)] == [sender["sid"]]

    refused = _offboard(api, channels=["sms"])
    assert_error(refused, 409, "WhatsApp", "both channels")

    done = _offboard(api)
    assert done.status_code == 200, done.text
    steps = [(s["step"], s["outcome"]) for s in done.json()["steps"]]
    assert steps[1:3] == [("whatsapp_sender", "deleted"), ("messaging_service", "removed")]
    assert emulator.state.senders(sub) == []
    assert number not in _owned(emulator, api)
    whatsapp = _store_status(api)["channels"]["whatsapp"]
    assert (whatsapp["sid"], whatsapp["status"]) == (None, "not_onboarded")


def test_whatsapp_alone_deletes_the_sender_and_releases_its_own_number(
    api: Api, emulator: EmulatorServer
) -> None:
    enable(api)
    complete_registration(api, emulator)  # the US store can send (A2P 10DLC)
    sms = _onboarded(api)
    dedicated = next(
        n["phone_number"]
        for n in api.get(f"/clienteling/stores/{STORE}/available-phone-numbers").json()
        if n["phone_number"] != sms
    )
    _whatsapp(api, whatsapp_phone_number=dedicated)
    assert set(_owned(emulator, api)) == {sms, dedicated}

    done = _offboard(api, channels=["whatsapp"])
    assert done.status_code == 200, done.text
    assert done.json()["released_numbers"] == [dedicated]
    assert done.json()["whatsapp_phone_number"] == dedicated
    assert set(_owned(emulator, api)) == {sms}
    assert sms in _members(emulator, api)
    assert emulator.state.senders(_config(api)["sid"]) == []
    store = _store_status(api)
    assert store["channels"]["sms"]["status"] == "onboarded"
    assert store["channels"]["whatsapp"]["status"] == "not_onboarded"

    # WhatsApp again, now on the SMS number.
    _whatsapp(api)


def test_nothing_to_offboard_is_a_conflict(api: Api) -> None:
    enable(api)
    put_store(api, STORE)
    assert_error(_offboard(api), 409, "nothing to offboard")
    assert_error(_offboard(api, store_id="nowhere"), 404)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"channels": ["fax"]}, "channels"),
        ({"channels": []}, "channels"),
        ({"release_number": "maybe"}, "release_number"),
        ({"release": False}, "release"),
    ],
)
def test_bad_bodies_name_the_field(api: Api, body: dict[str, Any], field: str) -> None:
    enable(api)
    _onboarded(api)
    assert_error(_offboard(api, **body), 400, field)


def test_an_onboarded_store_is_deleted_only_with_offboard(
    api: Api, emulator: EmulatorServer
) -> None:
    enable(api)
    number = _onboarded(api)

    refused = api.delete(f"/clienteling/stores/{STORE}")
    assert_error(refused, 409, f"POST /clienteling/stores/{STORE}/offboard", "offboard=true")
    assert number in _owned(emulator, api)

    deleted = api.delete(f"/clienteling/stores/{STORE}?offboard=true")
    assert deleted.status_code == 204, deleted.text
    assert _owned(emulator, api) == {}
    assert api.get(f"/clienteling/stores/{STORE}").status_code == 404
    assert api.delete(f"/clienteling/stores/{STORE}?offboard=true").status_code == 404


def test_a_store_keeping_a_number_is_not_deleted_without_offboard(
    api: Api, emulator: EmulatorServer
) -> None:
    enable(api)
    number = _onboarded(api)
    assert _offboard(api, release_number=False).status_code == 200
    assert_error(api.delete(f"/clienteling/stores/{STORE}"), 409, "keeps a number")
    assert api.delete(f"/clienteling/stores/{STORE}?offboard=true").status_code == 204
    assert number not in _owned(emulator, api)


def test_a_store_never_onboarded_is_deleted_with_or_without_offboard(api: Api) -> None:
    put_store(api, "a")
    put_store(api, "b")
    assert api.delete("/clienteling/stores/a").status_code == 204
    assert api.delete("/clienteling/stores/b?offboard=true").status_code == 204


def test_a_failed_release_blocks_onboarding_until_a_retry_or_sync_finishes_it(
    api: Api, service: Service, emulator: EmulatorServer
) -> None:
    enable(api)
    number = _onboarded(api)
    emulator.state.add_fault(
        method="DELETE", path=r"/IncomingPhoneNumbers/PN", kind="error", status=500, times=10
    )
    failed = _offboard(api)
    assert_error(failed, 502, f"Offboarding store '{STORE}'")
    blocked = api.post(f"/clienteling/stores/{STORE}/onboard", json={"phone_number": number})
    assert_error(blocked, 409, "being offboarded")
    assert_error(api.delete(f"/clienteling/stores/{STORE}"), 409)
    emulator.state.clear_faults()

    report = sync_all(service.runtime)
    assert report.failed == {}
    assert number not in _owned(emulator, api)
    repeated = _offboard(api)
    assert repeated.status_code == 200
    assert repeated.json()["status"] == "offboarded"
    assert repeated.json()["last_error"] is None
