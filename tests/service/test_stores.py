"""The store directory over HTTP."""

from __future__ import annotations

import pytest

from tests.service.helpers import STORES, put_store
from tests.support import Api, assert_error


def test_put_creates_then_replaces(api: Api) -> None:
    created = api.put("/clienteling/stores/us-nyc", json=STORES["us-nyc"])
    assert created.status_code == 201
    assert created.json()["phone"] == "+12125550123"
    replaced = api.put("/clienteling/stores/us-nyc", json={**STORES["us-nyc"], "name": "New name"})
    assert replaced.status_code == 200
    fetched = api.get("/clienteling/stores/us-nyc").json()
    assert fetched["name"] == "New name"
    assert fetched["country_code"] == "US"


def test_country_code_is_normalised_and_validated(api: Api) -> None:
    assert put_store(api, "s1", country_code="de", phone=None)["country_code"] == "DE"
    response = api.put("/clienteling/stores/s2", json={"name": "X", "country_code": "XX"})
    assert_error(response, 400, "country_code", "ISO 3166-1 alpha-2")


@pytest.mark.parametrize(
    ("phone", "fragment"),
    [
        ("12125550123", "not an E.164"),
        ("+1212555", "not a valid phone number"),
        ("+4930901820", "not of the store's country US"),
    ],
)
def test_store_phone_must_be_valid_for_its_country(api: Api, phone: str, fragment: str) -> None:
    response = api.put(
        "/clienteling/stores/s1", json={"name": "X", "country_code": "US", "phone": phone}
    )
    assert_error(response, 400, "phone", fragment)


def test_unknown_store_fields_are_rejected(api: Api) -> None:
    response = api.put(
        "/clienteling/stores/s1", json={"name": "X", "country_code": "US", "zip": "10001"}
    )
    assert_error(response, 400, "Unknown field(s): zip")


def test_latitude_needs_longitude(api: Api) -> None:
    response = api.put(
        "/clienteling/stores/s1", json={"name": "X", "country_code": "US", "latitude": 40.7}
    )
    assert_error(response, 400, "latitude and longitude go together")


def test_bad_store_id_is_400(api: Api) -> None:
    response = api.put("/clienteling/stores/bad%20id", json={"name": "X", "country_code": "US"})
    assert_error(response, 400, "store_id")


def test_unknown_store_is_404_and_delete_removes(api: Api) -> None:
    assert_error(api.get("/clienteling/stores/nope"), 404, "nope")
    put_store(api, "us-nyc")
    assert api.delete("/clienteling/stores/us-nyc").status_code == 204
    assert_error(api.get("/clienteling/stores/us-nyc"), 404)
    assert_error(api.delete("/clienteling/stores/us-nyc"), 404)


def test_list_is_paginated_and_filtered(api: Api) -> None:
    for i in range(5):
        put_store(api, f"s{i}", phone=None, country_code="DE" if i % 2 else "US")
    first = api.get("/clienteling/stores", params={"limit": 2}).json()
    assert [s["id"] for s in first["items"]] == ["s0", "s1"]
    second = api.get(
        "/clienteling/stores", params={"limit": 2, "cursor": first["next_cursor"]}
    ).json()
    assert [s["id"] for s in second["items"]] == ["s2", "s3"]
    last = api.get(
        "/clienteling/stores", params={"limit": 2, "cursor": second["next_cursor"]}
    ).json()
    assert [s["id"] for s in last["items"]] == ["s4"]
    assert last["next_cursor"] is None
    german = api.get("/clienteling/stores", params={"country": "de"}).json()
    assert [s["id"] for s in german["items"]] == ["s1", "s3"]
    assert_error(api.get("/clienteling/stores", params={"limit": 0}), 400, "limit")
    assert_error(api.get("/clienteling/stores", params={"country": "ZZ"}), 400, "country")
