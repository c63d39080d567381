"""The cached status document is rebuilt whenever anything it shows changed, from any writer."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import delete, update

from clienteling_setup.compliance.models import BundleRecord, CountryRequirement
from clienteling_setup.db.base import utcnow
from clienteling_setup.db.session import transaction
from clienteling_setup.status.cache import ENTRY_OVERHEAD, StatusCache
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


def test_concurrent_reads_after_a_change_build_once(api: Api, service: Service) -> None:
    """Eight clients read the status at once after a change: one request rebuilds the
    document, the others wait for it or find it cached, and all get the same document."""
    put_store(api, "us-nyc")
    _status(api)
    put_store(api, "us-nyc", name="Changed")
    before = service.runtime.status_cache.stats()

    with ThreadPoolExecutor(8) as pool:
        responses = list(pool.map(lambda _: api.get("/clienteling/onboarding-status"), range(8)))

    after = service.runtime.status_cache.stats()
    assert [r.status_code for r in responses] == [200] * 8
    assert {r.content for r in responses} == {responses[0].content}
    assert responses[0].json()["stores"][0]["name"] == "Changed"
    assert after.builds - before.builds == 1
    assert (after.hits + after.misses) - (before.hits + before.misses) == 8


def test_the_cache_is_bounded_by_bytes(api: Api, service: Service) -> None:
    """Least recently read out first once the documents outweigh the bound; a document
    larger than the bound is served but not kept."""
    size = 10_000
    cache = StatusCache(max_bytes=3 * (size + ENTRY_OVERHEAD))

    def read(tenant: str, weight: int = size) -> None:
        with service.runtime.uows.of(tenant) as uow:
            cache.get_or_build(StatusRepository(uow.session, tenant), lambda: b"x" * weight)

    for tenant in ("t1", "t2", "t3"):
        read(tenant)
    read("t1")  # t1 is now the most recently read; t2 the least
    read("t4")
    stats = cache.stats()
    assert (stats.entries, stats.bytes) == (3, 3 * (size + ENTRY_OVERHEAD))
    builds = stats.builds
    for tenant in ("t1", "t3", "t4"):
        read(tenant)
    assert cache.stats().builds == builds  # all three still cached
    read("t2")
    assert cache.stats().builds == builds + 1  # t2 was evicted
    read("t5", weight=4 * size)
    read("t5", weight=4 * size)
    assert cache.stats().builds == builds + 3  # too large to keep
    assert cache.stats().bytes <= cache.max_bytes


def test_metrics_show_the_status_cache(api: Api, service: Service) -> None:
    put_store(api, "us-nyc")

    def scrape() -> dict[str, float]:
        response = httpx.get(f"{service.base_url}/metrics")  # no credentials needed
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/plain")
        return {
            sample.name: sample.value
            for family in text_string_to_metric_families(response.text)
            for sample in family.samples
        }

    before = scrape()
    assert _status(api)["stores"][0]["id"] == "us-nyc"  # a miss: the store is new
    _status(api)  # a hit
    after = scrape()
    prefix = "clienteling_status_cache"
    assert after[f"{prefix}_misses_total"] == before[f"{prefix}_misses_total"] + 1
    assert after[f"{prefix}_hits_total"] == before[f"{prefix}_hits_total"] + 1
    assert after[f"{prefix}_builds_total"] == before[f"{prefix}_builds_total"] + 1
    assert after[f"{prefix}_entries"] >= 1
    assert 0 < after[f"{prefix}_bytes"] <= after[f"{prefix}_max_bytes"]
    assert after[f"{prefix}_max_bytes"] == service.runtime.settings.status_cache_bytes
    assert "/metrics" not in api.get("/openapi.json").json()["paths"]


def test_a_read_after_a_write_to_a_store_reuses_the_head_and_the_tail(
    api: Api, service: Service
) -> None:
    """Issue 16 item 5: while stores change (as during a bulk job), each read rebuilds the
    document but keeps its head (the tenant, Twilio, the countries) and its tail (the
    disabling, the account's numbers) when nothing they show changed; a change to what they
    show rebuilds them, at once."""
    enable(api)
    put_store(api, "us-nyc")
    put_store(api, "de-ber")
    _status(api)
    stats = service.runtime.status_cache.stats

    before = stats()
    put_store(api, "us-nyc", name="Renamed")
    names = {s["id"]: s["name"] for s in _status(api)["stores"]}  # type: ignore[attr-defined]
    assert names["us-nyc"] == "Renamed"
    assert (stats().builds - before.builds, stats().part_hits - before.part_hits) == (1, 2)

    before = stats()
    put_store(
        api, "fr-par", country_code="FR", phone=None
    )  # a new country: the head's counts change
    countries = [c["country_code"] for c in _status(api)["countries"]]  # type: ignore[attr-defined]
    assert countries == ["DE", "FR", "US"]
    assert (stats().builds - before.builds, stats().part_hits - before.part_hits) == (1, 1)

    before = stats()
    api.put("/clienteling/opt-in-template", json={"body": "Reply YES"})
    assert _status(api)["opt_in"]["exists"] is True  # type: ignore[index]
    assert (stats().builds - before.builds, stats().part_hits - before.part_hits) == (1, 0)
