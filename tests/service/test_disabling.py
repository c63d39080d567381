"""Disabling a retailer (`DELETE /clienteling/configuration`): everything taken down in
Twilio, the subaccount closed, progress in the status, resumed by sync after a failure, and
enabling again afterwards starting afresh."""

from __future__ import annotations

import time
from typing import Any

import httpx

from clienteling_setup.ledger.models import NUMBER_RELEASED
from clienteling_setup.sync import sync_all
from tests.conftest import Service
from tests.service.helpers import available_number, enable, put_store
from tests.support import Api, assert_error
from twilio_emulator import EmulatorServer

WABA = "123456789012345"


def _status(api: Api) -> dict[str, Any]:
    return api.get("/clienteling/onboarding-status").json()  # type: ignore[no-any-return]


def _disable(api: Api, confirm: str | None = None) -> httpx.Response:
    return api.request(
        "DELETE", "/clienteling/configuration", json={"confirm_tenant": confirm or api.tenant}
    )


def _wait_disabled(api: Api, timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        disabling = _status(api)["disabling"]
        if disabling is not None and disabling["status"] == "disabled":
            return disabling  # type: ignore[no-any-return]
        assert time.monotonic() < deadline, disabling
        time.sleep(0.1)


def _onboard(api: Api, store_id: str, exclude: set[str]) -> str:
    put_store(api, store_id)
    offered = api.get(f"/clienteling/stores/{store_id}/available-phone-numbers").json()
    number = next(n["phone_number"] for n in offered if n["phone_number"] not in exclude)
    response = api.post(f"/clienteling/stores/{store_id}/onboard", json={"phone_number": number})
    assert response.status_code == 201, response.text
    exclude.add(number)
    return number


def _retailer(api: Api, emulator: EmulatorServer) -> dict[str, Any]:
    """A tenant with a store on SMS, one on WhatsApp with its own number, one that kept its
    number, a sender group, and a number bought by hand in Twilio."""
    twilio = enable(api)["twilio"]
    used: set[str] = set()
    _onboard(api, "plain", used)
    _onboard(api, "whatsapp", used)
    offered = api.get("/clienteling/stores/whatsapp/available-phone-numbers").json()
    dedicated = next(n["phone_number"] for n in offered if n["phone_number"] not in used)
    used.add(dedicated)
    registered = api.post(
        "/clienteling/stores/whatsapp/whatsapp/onboard",
        json={"waba_id": WABA, "profile_name": "Dodici", "whatsapp_phone_number": dedicated},
    )
    assert registered.status_code == 202, registered.text
    _onboard(api, "kept", used)
    kept = api.post("/clienteling/stores/kept/offboard", json={"release_number": False})
    assert kept.status_code == 200, kept.text
    group = api.put("/clienteling/sender-groups/east", json={"name": "East"})
    assert group.status_code == 201, group.text
    by_hand = next(n for n in emulator.state.pool("US", "local") if n.phone_number not in used)
    account = emulator.state.account(twilio["sid"])
    assert account is not None
    bought = httpx.post(
        f"{emulator.base_url}/api/2010-04-01/Accounts/{account.sid}/IncomingPhoneNumbers.json",
        data={"PhoneNumber": by_hand.phone_number},
        auth=(account.sid, account.auth_token),
    )
    assert bought.status_code == 201, bought.text
    assert len(emulator.state.owned_numbers(account.sid)) == 5
    return twilio  # type: ignore[no-any-return]


def test_disabling_takes_everything_down_and_closes_the_subaccount(
    api: Api, service: Service, emulator: EmulatorServer
) -> None:
    twilio = _retailer(api, emulator)
    sub = twilio["sid"]

    first = _disable(api)
    assert first.status_code in (200, 202), first.text
    assert first.json()["stores_total"] == 3
    done = _wait_disabled(api)
    assert (done["stores_offboarded"], done["numbers_released"]) == (3, 5)
    assert done["stage"] == "subaccount_closed"
    assert done["last_error"] is None

    state = emulator.state
    account = state.account(sub)
    assert account is not None
    assert account.status == "closed"
    assert state.owned_numbers(sub) == []
    assert state.messaging_services(sub) == []
    assert state.applications(sub) == []
    assert state.senders(sub) == []

    status = _status(api)
    assert status["twilio"] == {
        "connected": False,
        "sid": None,
        "call_forwarding": {"sid": None, "name": None},
    }
    assert all(s["phone_number"] is None for s in status["stores"])
    assert_error(api.get("/clienteling/configuration"), 404)
    assert api.get("/clienteling/sender-groups").json() == []

    with service.runtime.uows.of(api.tenant) as uow:
        released = uow.ledger.page(after=None, limit=100, actions=(NUMBER_RELEASED,))
    assert len(released) == 5
    assert {e.request_id for e in released} == {first.headers["X-Request-ID"]}

    second = _disable(api)  # harmless: the finished disabling again
    assert second.status_code == 200
    body = second.json()
    assert (body["status"], body["stores_offboarded"], body["numbers_released"]) == (
        "disabled",
        3,
        5,
    )
    assert account.status == "closed"
    assert len(state.subaccounts()) == 1


def test_enabling_again_starts_afresh_with_a_new_subaccount(
    api: Api, emulator: EmulatorServer
) -> None:
    old = _retailer(api, emulator)
    assert _disable(api).status_code in (200, 202)
    _wait_disabled(api)

    new = enable(api)["twilio"]
    assert new["sid"] != old["sid"]
    assert new["messaging_service_sid"] != old["messaging_service_sid"]
    assert _status(api)["disabling"] is None
    number = available_number(api, "plain")
    response = api.post("/clienteling/stores/plain/onboard", json={"phone_number": number})
    assert response.status_code == 201, response.text
    assert [n.phone_number for n in emulator.state.owned_numbers(new["sid"])] == [number]


def test_a_disabling_that_stopped_is_resumed_by_sync_and_blocks_new_work_meanwhile(
    api: Api, service: Service, emulator: EmulatorServer
) -> None:
    twilio = enable(api)["twilio"]
    _onboard(api, "plain", set())
    put_store(api, "other")
    emulator.state.add_fault(
        method="DELETE", path=r"/v1/Services/MG[0-9a-f]+$", kind="error", status=500, times=50
    )
    assert _disable(api).status_code == 202
    deadline = time.monotonic() + 60
    while (disabling := _status(api)["disabling"])["last_error"] is None:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert disabling["status"] == "in_progress"
    assert disabling["stage"] == "groups_deleted"
    assert disabling["last_error"].startswith("ProviderFailure")

    number = available_number(api, "other")
    blocked = api.post("/clienteling/stores/other/onboard", json={"phone_number": number})
    assert_error(blocked, 409, "being disabled")
    assert_error(
        api.post("/clienteling/configuration", json={"ecom_link": "https://x.example"}),
        409,
        "being disabled",
    )

    emulator.state.clear_faults()
    report = sync_all(service.runtime, only=api.tenant)
    assert report.failed == {}
    done = _status(api)["disabling"]
    assert (done["status"], done["last_error"]) == ("disabled", None)
    account = emulator.state.account(twilio["sid"])
    assert account is not None
    assert account.status == "closed"
    assert emulator.state.messaging_services(twilio["sid"]) == []


def test_the_confirmation_must_repeat_the_tenant(api: Api) -> None:
    enable(api)
    assert_error(_disable(api, "someone-else"), 400, "must repeat", f'"{api.tenant}"')
    missing = api.request("DELETE", "/clienteling/configuration")
    assert_error(missing, 400, "'confirm_tenant' is required")
    extra = api.request(
        "DELETE", "/clienteling/configuration", json={"confirm_tenant": api.tenant, "now": 1}
    )
    assert_error(extra, 400, "now")
    assert api.get("/clienteling/configuration").status_code == 200


def test_disabling_a_tenant_never_enabled_is_not_found(api: Api) -> None:
    assert_error(_disable(api), 404, "not configured")
