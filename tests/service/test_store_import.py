"""The store import (what `clienteling-setup stores import` runs): chunked upserts in one
transaction, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from clienteling_setup import errors
from clienteling_setup.stores.schemas import StoreImportRow
from clienteling_setup.stores.service import IMPORT_CHUNK, import_stores
from tests.conftest import Service
from tests.service.helpers import available_number, enable, put_store
from tests.support import Api


def _rows(count: int, name: str = "Store", country: str = "DE") -> list[StoreImportRow]:
    return [
        StoreImportRow(id=f"s-{i:05d}", name=f"{name} {i}", country_code=country)
        for i in range(count)
    ]


def _stores(api: Api) -> dict[str, dict[str, object]]:
    found: dict[str, dict[str, object]] = {}
    cursor = None
    while True:
        params: dict[str, object] = {"limit": 1000, **({"cursor": cursor} if cursor else {})}
        page = api.get("/clienteling/stores", params=params).json()
        found.update({s["id"]: s for s in page["items"]})
        cursor = page["next_cursor"]
        if cursor is None:
            return found


def test_import_inserts_then_replaces_across_chunks(api: Api, service: Service) -> None:
    uows = service.runtime.uows
    total = 2 * IMPORT_CHUNK + 500
    assert import_stores(uows, "acme", _rows(total)) == total
    first = _stores(api)
    assert len(first) == total
    assert first["s-02499"]["name"] == "Store 2499"

    # Again, with one store renamed and one moved: only those two change.
    rows = _rows(total)
    rows[7] = StoreImportRow(id="s-00007", name="Renamed", country_code="DE", locality="Köln")
    rows[2100] = StoreImportRow(id="s-02100", name="Store 2100", country_code="FR")
    assert import_stores(uows, "acme", rows) == total
    second = _stores(api)
    assert (second["s-00007"]["name"], second["s-00007"]["locality"]) == ("Renamed", "Köln")
    assert second["s-02100"]["country_code"] == "FR"
    changed = {k for k in second if second[k]["updated_at"] != first[k]["updated_at"]}
    assert changed == {"s-00007", "s-02100"}
    assert all(second[k]["created_at"] == first[k]["created_at"] for k in second)


def test_import_is_all_or_nothing_past_the_first_chunk(api: Api, service: Service) -> None:
    put_store(api, "us-nyc")

    def rows() -> Iterator[StoreImportRow]:
        yield from _rows(IMPORT_CHUNK + 200)
        raise ValueError("line 1201: bad row")

    with pytest.raises(ValueError, match="line 1201"):
        import_stores(service.runtime.uows, "acme", rows())
    assert set(_stores(api)) == {"us-nyc"}


def test_import_cannot_move_an_onboarded_store_to_another_country(
    api: Api, service: Service
) -> None:
    enable(api)
    put_store(api, "us-nyc")
    put_store(api, "us-bos", name="Boston", phone=None)
    number = available_number(api, "us-nyc")
    onboard = api.post("/clienteling/stores/us-nyc/onboard", json={"phone_number": number})
    assert onboard.status_code == 201, onboard.text
    rows = [
        *_rows(IMPORT_CHUNK + 10),
        StoreImportRow(id="us-bos", name="Boston", country_code="CA"),  # not onboarded: moves
        StoreImportRow(id="us-nyc", name="Fifth Avenue", country_code="CA"),
    ]

    with pytest.raises(errors.Conflict, match="'us-nyc' is onboarded with a number of US"):
        import_stores(service.runtime.uows, "acme", rows)
    stores = _stores(api)
    assert set(stores) == {"us-nyc", "us-bos"}  # nothing of the import was written
    assert (stores["us-nyc"]["country_code"], stores["us-bos"]["country_code"]) == ("US", "US")

    assert import_stores(service.runtime.uows, "acme", rows[:-1]) == IMPORT_CHUNK + 11
    assert _stores(api)["us-bos"]["country_code"] == "CA"
    # The onboarded store may still be renamed in its own country.
    renamed = StoreImportRow(id="us-nyc", name="Fifth Avenue", country_code="US")
    assert import_stores(service.runtime.uows, "acme", [renamed]) == 1
    assert _stores(api)["us-nyc"]["name"] == "Fifth Avenue"


def test_import_stays_in_its_tenant(api: Api, service: Service) -> None:
    import_stores(service.runtime.uows, "other", _rows(3))
    assert _stores(api) == {}
