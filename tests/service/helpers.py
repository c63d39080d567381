from __future__ import annotations

import time
from typing import Any

import httpx

from tests.support import Api
from twilio_emulator import EmulatorServer

STORES: dict[str, dict[str, Any]] = {
    "us-nyc": {
        "name": "Dodici Fifth Avenue",
        "country_code": "US",
        "region": "NY",
        "locality": "New York",
        "postal_code": "10022",
        "phone": "+12125550123",
    },
    "de-ber": {
        "name": "Dodici Potsdamer Platz",
        "country_code": "DE",
        "region": "BE",
        "locality": "Berlin",
        "postal_code": "10785",
        "phone": "+4930901820",
    },
    "jp-tyo": {"name": "Dodici Ginza", "country_code": "JP", "locality": "Tokyo"},
}


def put_store(api: Api, store_id: str, **overrides: Any) -> dict[str, Any]:
    body = {**STORES.get(store_id, STORES["us-nyc"]), **overrides}
    response = api.put(f"/clienteling/stores/{store_id}", json=body)
    assert response.status_code in (200, 201), response.text
    return response.json()  # type: ignore[no-any-return]


def enable(
    api: Api, ecom_link: str = "https://www.dodici.example", *, wait_for_read: bool = True
) -> dict[str, Any]:
    """Enable clienteling; then, unless told not to, wait (as a client would, on the status)
    for the first read of the tenant's bundles and trust products, which enabling leaves to
    the background."""
    response = api.post("/clienteling/configuration", json={"ecom_link": ecom_link})
    assert response.status_code == 201, response.text
    if wait_for_read:
        wait_for_first_read(api)
    return response.json()  # type: ignore[no-any-return]


def wait_for_first_read(api: Api, timeout: float = 30.0) -> dict[str, Any]:
    """The status once it says the tenant's Twilio state was read (`reconciliation`)."""
    deadline = time.monotonic() + timeout
    while True:
        status = api.get("/clienteling/onboarding-status")
        assert status.status_code == 200, status.text
        document: dict[str, Any] = status.json()
        if document["reconciliation"]["last_succeeded_at"] is not None:
            return document
        assert time.monotonic() < deadline, "the first compliance read never finished"
        time.sleep(0.05)


def available_number(api: Api, store_id: str) -> str:
    response = api.get(f"/clienteling/stores/{store_id}/available-phone-numbers")
    assert response.status_code == 200, response.text
    numbers = response.json()
    assert numbers, "the emulator offered no numbers"
    return str(numbers[0]["phone_number"])


def buy_by_hand(api: Api, emulator: EmulatorServer, number: str) -> dict[str, Any]:
    """Buy `number` for the tenant's subaccount straight in Twilio (as in the Console, with a
    friendly name of the person's choosing): the service takes no part. Twilio's answer."""
    sub = api.get("/clienteling/configuration").json()["twilio"]["sid"]
    account = emulator.state.account(sub)
    assert account is not None
    bought = httpx.post(
        f"{emulator.base_url}/api/2010-04-01/Accounts/{sub}/IncomingPhoneNumbers.json",
        data={"PhoneNumber": number, "FriendlyName": "front desk"},
        auth=(sub, account.auth_token),
        timeout=30,
    )
    assert bought.status_code == 201, bought.text
    return bought.json()  # type: ignore[no-any-return]


def numbers_of(status: dict[str, Any]) -> tuple[int, int, tuple[str, str] | None, list[str]]:
    """From an onboarding status document: the numbers owned, the orphans, their monthly cost
    (amount, currency) and the retailer's own actions."""
    numbers = status["numbers"]
    cost = numbers["orphan_monthly_cost"]
    money = (cost["amount"], cost["currency"]) if cost is not None else None
    return numbers["owned"], numbers["orphans"], money, status["actions"]
