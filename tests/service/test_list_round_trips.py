"""Lists cost one Twilio list call on a miss, not one call per item, and nothing when cached."""

from __future__ import annotations

from sqlalchemy import delete

from clienteling_setup.compliance.models import BundleRecord
from clienteling_setup.sync import sync_all
from tests.conftest import Service
from tests.service.helpers import enable, put_store
from tests.support import Api
from twilio_emulator import EmulatorServer


def _addresses_in_twilio(emulator: EmulatorServer, bundle_sids: list[str]) -> dict[str, str]:
    state = emulator.state
    with state.lock:
        return {
            item.parent_sid: item.object_sid
            for item in state.item_assignments.values()
            if item.parent_sid in bundle_sids and item.object_sid.startswith("AD")
        }


def test_bundles_list_takes_addresses_from_the_read_model(
    api: Api, service: Service, emulator: EmulatorServer
) -> None:
    enable(api)
    put_store(api, "de-ber")
    sync_all(service.runtime, only="acme")  # the read model now knows each bundle's address
    service.runtime.list_cache.invalidate(lambda _key: True)
    emulator.state.clear_requests()

    response = api.get("/clienteling/stores/de-ber/regulatory-bundles")

    assert response.status_code == 200, response.text
    bundles = response.json()
    assert len(bundles) >= 2
    sids = [b["sid"] for b in bundles]
    assert {b["sid"]: b["address_sid"] for b in bundles} == _addresses_in_twilio(emulator, sids)
    paths = [r.path for r in emulator.state.requests]
    assert not [p for p in paths if "ItemAssignments" in p], paths
    assert len([p for p in paths if p.endswith("/RegulatoryCompliance/Bundles")]) == 1, paths

    emulator.state.clear_requests()
    assert api.get("/clienteling/stores/de-ber/regulatory-bundles").json() == bundles
    assert emulator.state.requests == []


def test_bundles_list_asks_twilio_for_an_address_the_read_model_lacks(
    api: Api, service: Service, emulator: EmulatorServer
) -> None:
    enable(api)
    put_store(api, "de-ber")
    with service.runtime.sessions.begin() as session:  # a read model that knows no bundle yet
        session.execute(delete(BundleRecord))
    service.runtime.list_cache.invalidate(lambda _key: True)
    emulator.state.clear_requests()

    bundles = api.get("/clienteling/stores/de-ber/regulatory-bundles").json()

    sids = [b["sid"] for b in bundles]
    assert {b["sid"]: b["address_sid"] for b in bundles} == _addresses_in_twilio(emulator, sids)
    assert len([r for r in emulator.state.requests if "ItemAssignments" in r.path]) == len(sids)
