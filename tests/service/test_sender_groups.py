"""Sender groups: stores sharing one Messaging Service. PUT creates (201, one Messaging Service
named for the group) or updates (200); GET, list, 404, validation; `join_existing_group`
onboarding puts the store's number in the group's Messaging Service."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Service
from tests.service.helpers import available_number, enable, put_store
from tests.support import Api, assert_error
from twilio_emulator import EmulatorServer

GROUP = {"name": "Shared EU", "waba_id": "123456789012345"}
FIELDS = {"id", "name", "waba_id", "messaging_service_sid", "created_at", "updated_at"}


def services_named(emulator: EmulatorServer, sub: str, name: str) -> list[Any]:
    return [s for s in emulator.state.messaging_services(sub) if s.friendly_name == name]


@pytest.fixture
def sub(api: Api) -> str:
    return str(enable(api)["twilio"]["sid"])


def test_put_creates_the_group_and_its_messaging_service(
    api: Api, emulator: EmulatorServer, sub: str
) -> None:
    response = api.put("/clienteling/sender-groups/shared-eu", json=GROUP)
    assert response.status_code == 201, response.text
    group = response.json()
    assert set(group) == FIELDS
    assert (group["id"], group["name"], group["waba_id"]) == (
        "shared-eu",
        "Shared EU",
        GROUP["waba_id"],
    )
    services = services_named(emulator, sub, "clienteling:acme:group:shared-eu")
    assert [s.sid for s in services] == [group["messaging_service_sid"]]
    assert api.get("/clienteling/sender-groups/shared-eu").json() == group


def test_put_again_updates_and_keeps_the_messaging_service(
    api: Api, emulator: EmulatorServer, sub: str
) -> None:
    created = api.put("/clienteling/sender-groups/shared-eu", json=GROUP).json()
    response = api.put("/clienteling/sender-groups/shared-eu", json={"name": "Europe"})
    assert response.status_code == 200, response.text
    updated = response.json()
    assert updated["name"] == "Europe"
    assert updated["waba_id"] is None
    assert updated["messaging_service_sid"] == created["messaging_service_sid"]
    assert updated["created_at"] == created["created_at"]
    assert len(services_named(emulator, sub, "clienteling:acme:group:shared-eu")) == 1
    assert api.get("/clienteling/sender-groups/shared-eu").json() == updated


def test_list_returns_every_group_of_the_tenant(api: Api, sub: str) -> None:
    assert api.get("/clienteling/sender-groups").json() == []
    b = api.put("/clienteling/sender-groups/us-east", json={"name": "US East"}).json()
    a = api.put("/clienteling/sender-groups/shared-eu", json=GROUP).json()
    response = api.get("/clienteling/sender-groups")
    assert response.status_code == 200
    assert response.json() == [a, b]


def test_unknown_group_is_404(api: Api, sub: str) -> None:
    assert_error(
        api.get("/clienteling/sender-groups/nope"),
        404,
        "Sender group 'nope' does not exist",
        "PUT /clienteling/sender-groups/nope",
    )


def test_another_tenant_does_not_see_the_group(api: Api, service: Service, sub: str) -> None:
    api.put("/clienteling/sender-groups/shared-eu", json=GROUP)
    other = api.headers("beta", service.token("beta"))
    assert_error(api.get("/clienteling/sender-groups/shared-eu", headers=other), 404)
    assert api.get("/clienteling/sender-groups", headers=other).json() == []


@pytest.mark.parametrize(
    ("body", "fragments"),
    [
        ({}, ("'name' is required",)),
        ({"name": ""}, ("name",)),
        ({"name": "   "}, ("name must not be blank",)),
        ({"name": "x" * 256}, ("name",)),
        ({"name": "EU", "waba_id": "abc"}, ("waba_id",)),
        ({"name": "EU", "wabaid": "123456"}, ("Unknown field(s): wabaid",)),
    ],
)
def test_validation(
    api: Api, emulator: EmulatorServer, sub: str, body: dict[str, Any], fragments: tuple[str, ...]
) -> None:
    assert_error(api.put("/clienteling/sender-groups/shared-eu", json=body), 400, *fragments)
    assert services_named(emulator, sub, "clienteling:acme:group:shared-eu") == []


def test_malformed_group_id_is_400(api: Api, sub: str) -> None:
    assert_error(api.put("/clienteling/sender-groups/-eu", json=GROUP), 400, "sender_group_id")


def test_tenant_not_enabled_is_400(api: Api, emulator: EmulatorServer) -> None:
    response = api.put("/clienteling/sender-groups/shared-eu", json=GROUP)
    assert_error(response, 400, "not enabled", "POST /clienteling/configuration")
    assert emulator.state.subaccounts() == []


def test_a_create_whose_answer_was_lost_is_adopted_not_repeated(
    api: Api, emulator: EmulatorServer, sub: str
) -> None:
    fault = emulator.state.add_fault(method="POST", path=r"/v1/Services$", kind="after_apply")
    first = api.put("/clienteling/sender-groups/shared-eu", json=GROUP)
    assert first.status_code == 201, first.text
    assert fault.hits == 1
    services = services_named(emulator, sub, "clienteling:acme:group:shared-eu")
    assert [s.sid for s in services] == [first.json()["messaging_service_sid"]]
    again = api.put("/clienteling/sender-groups/shared-eu", json=GROUP)
    assert again.status_code == 200, again.text
    assert again.json()["messaging_service_sid"] == first.json()["messaging_service_sid"]


def test_a_failed_create_leaves_no_group_and_the_retry_creates_one(
    api: Api, emulator: EmulatorServer, sub: str
) -> None:
    fault = emulator.state.add_fault(method="POST", path=r"/v1/Services$", status=500)
    first = api.put("/clienteling/sender-groups/shared-eu", json=GROUP)
    assert first.status_code == 502, first.text
    assert fault.hits >= 1
    assert_error(api.get("/clienteling/sender-groups/shared-eu"), 404)
    assert api.get("/clienteling/sender-groups").json() == []
    retry = api.put("/clienteling/sender-groups/shared-eu", json=GROUP)
    assert retry.status_code == 201, retry.text
    services = services_named(emulator, sub, "clienteling:acme:group:shared-eu")
    assert [s.sid for s in services] == [retry.json()["messaging_service_sid"]]


def test_join_existing_group_puts_the_number_in_the_groups_messaging_service(
    api: Api, emulator: EmulatorServer, sub: str
) -> None:
    group = api.put("/clienteling/sender-groups/shared-eu", json=GROUP).json()
    put_store(api, "us-nyc")
    number = available_number(api, "us-nyc")
    response = api.post(
        "/clienteling/stores/us-nyc/onboard",
        json={
            "phone_number": number,
            "kind": "join_existing_group",
            "sender_group_id": "shared-eu",
        },
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["kind"] == "join_existing_group"
    assert body["sender_group_id"] == "shared-eu"
    assert body["messaging_service_sid"] == group["messaging_service_sid"]
    owned = [n for n in emulator.state.owned_numbers(sub) if n.phone_number == number]
    assert len(owned) == 1
    in_group = emulator.state.messaging_service_numbers(group["messaging_service_sid"])
    assert [m.sid for m in in_group] == [owned[0].sid]
    tenant_service = api.get("/clienteling/configuration").json()["twilio"]["messaging_service_sid"]
    assert emulator.state.messaging_service_numbers(tenant_service) == []


def test_group_ids_sharing_a_long_prefix_never_share_a_messaging_service(
    api: Api, emulator: EmulatorServer, sub: str
) -> None:
    """Twilio's friendly names stop at 64 characters; the two ids differ only after that."""
    prefix = "region-" + "x" * 60
    first = api.put(f"/clienteling/sender-groups/{prefix}-1", json=GROUP)
    second = api.put(f"/clienteling/sender-groups/{prefix}-2", json=GROUP)
    assert (first.status_code, second.status_code) == (201, 201), (first.text, second.text)
    assert first.json()["messaging_service_sid"] != second.json()["messaging_service_sid"]
    names = [s.friendly_name for s in emulator.state.messaging_services(sub)]
    assert len(names) == len(set(names)) == 3  # the tenant's own and one per group
    assert all(len(name) <= 64 for name in names)
    again = api.put(f"/clienteling/sender-groups/{prefix}-1", json=GROUP)
    assert again.status_code == 200
    assert again.json()["messaging_service_sid"] == first.json()["messaging_service_sid"]
