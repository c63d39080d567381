from __future__ import annotations

from typing import Any

from tests.support import Api

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


def enable(api: Api, ecom_link: str = "https://www.dodici.example") -> dict[str, Any]:
    response = api.post("/clienteling/configuration", json={"ecom_link": ecom_link})
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def available_number(api: Api, store_id: str) -> str:
    response = api.get(f"/clienteling/stores/{store_id}/available-phone-numbers")
    assert response.status_code == 200, response.text
    numbers = response.json()
    assert numbers, "the emulator offered no numbers"
    return str(numbers[0]["phone_number"])
