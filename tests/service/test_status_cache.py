"""The cached status document is rebuilt whenever anything it shows changed, from any writer."""

from __future__ import annotations

from sqlalchemy import delete, update

from clienteling_setup.compliance.models import BundleRecord, CountryRequirement
from clienteling_setup.db.base import utcnow
from clienteling_setup.db.session import transaction
from clienteling_setup.status.cache import StatusCache
from clienteling_setup.status.repository import StatusRepository
from clienteling_setup.stores.models import Store
from tests.conftest import Service
from tests.service.helpers import available_number, enable, put_store
from tests.support import Api


def _status(api: Api) -> dict[str, object]:
    response = api.get("/clienteling/onboarding-status")
    assert response.status_code == 200
    return response.json()  # type: ignore[no-any-return]


def test_every_kind_of_change_shows_at_once(api: Api, service: Service) -> None:
    put_store(api, "us-nyc")
    assert _status(api)["twilio"]["connected"] is False  # type: ignore[index]
    enable(api)
    assert _status(api)["twilio"]["connected"] is True  # type: ignore[index]
    put_store(api, "us-nyc", name="Renamed")
    assert _status(api)["stores"][0]["name"] == "Renamed"  # type: ignore[index]
    api.put("/clienteling/opt-in-template", json={"body": "Reply YES"})
    assert _status(api)["opt_in"]["exists"] is True  # type: ignore[index]
    number = available_number(api, "us-nyc")
    api.post("/clienteling/stores/us-nyc/onboard", json={"phone_number": number})
    assert _status(api)["stores"][0]["phone_number"] == number  # type: ignore[index]
    put_store(api, "de-ber")
    assert [c["country_code"] for c in _status(api)["countries"]] == ["DE", "US"]  # type: ignore[attr-defined]

    # Writers other than this process's API: another process, sync, a migration script.
    with transaction(service.runtime.sessions) as session:
        session.execute(update(Store).where(Store.id == "de-ber").values(name="Elsewhere"))
    names = {s["id"]: s["name"] for s in _status(api)["stores"]}  # type: ignore[attr-defined]
    assert names["de-ber"] == "Elsewhere"
    with transaction(service.runtime.sessions) as session:
        session.execute(delete(BundleRecord).where(BundleRecord.tenant_id == "acme"))
    germany = next(c for c in _status(api)["countries"] if c["country_code"] == "DE")  # type: ignore[attr-defined]
    assert germany["regulatory_bundle"]["status"] == "missing"
    with transaction(service.runtime.sessions) as session:
        session.merge(
            CountryRequirement(
                country_code="US", number_type="local", bundle_required=True, refreshed_at=utcnow()
            )
        )
    us = next(c for c in _status(api)["countries"] if c["country_code"] == "US")  # type: ignore[attr-defined]
    assert us["regulatory_bundle"]["required"] is True
    assert api.delete("/clienteling/stores/de-ber").status_code == 204
    assert [c["country_code"] for c in _status(api)["countries"]] == ["US"]  # type: ignore[attr-defined]


def test_an_unchanged_tenant_is_not_rebuilt(api: Api, service: Service) -> None:
    put_store(api, "us-nyc")
    cache = StatusCache()
    builds: list[int] = []

    def build() -> bytes:
        builds.append(1)
        return b"{}"

    for _ in range(3):
        with service.runtime.uows.of("acme") as uow:
            cache.get_or_build(StatusRepository(uow.session, "acme"), build)
    assert len(builds) == 1
    put_store(api, "us-nyc", name="Changed")
    with service.runtime.uows.of("acme") as uow:
        cache.get_or_build(StatusRepository(uow.session, "acme"), build)
    assert len(builds) == 2
