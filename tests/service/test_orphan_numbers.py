"""Issue 14, acceptance 5: orphan numbers. A number bought straight in Twilio for the tenant's
subaccount shows up as an orphan in the status after a sync (with its monthly cost and the
action `release_orphan_numbers`); `POST /clienteling/numbers/{sid}/release` releases it once
and the ledger records it. A number a store claims, or an attempt in progress holds, is never
an orphan, and releasing one is 409."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from clienteling_setup.ledger.models import NUMBER_RELEASED, LedgerEntry
from clienteling_setup.onboarding.service import SMS_ONBOARDING
from clienteling_setup.sync import sync_all
from tests.conftest import Service
from tests.service.helpers import (
    available_number,
    buy_by_hand,
    enable,
    numbers_of,
    put_store,
)
from tests.support import Api, assert_error
from twilio_emulator import EmulatorServer
from twilio_emulator.api_pricing import MONTHLY_PRICES

STORE = "us-nyc"


def _subaccount(api: Api) -> str:
    return str(api.get("/clienteling/configuration").json()["twilio"]["sid"])


def _owned(emulator: EmulatorServer, api: Api) -> dict[str, str]:
    """Phone number -> SID of every number the subaccount owns, as Twilio sees it."""
    return {n.phone_number: n.sid for n in emulator.state.owned_numbers(_subaccount(api))}


def _buy_by_hand(api: Api, emulator: EmulatorServer, number: str) -> str:
    return str(buy_by_hand(api, emulator, number)["sid"])


def _onboarded(api: Api, store_id: str = STORE) -> str:
    number = available_number(api, store_id)
    response = api.post(f"/clienteling/stores/{store_id}/onboard", json={"phone_number": number})
    assert response.status_code == 201, response.text
    return number


@pytest.fixture
def store_number(api: Api) -> str:
    """Clienteling enabled and the store onboarded: its number."""
    enable(api)
    put_store(api, STORE)
    return _onboarded(api)


def _status(api: Api) -> dict[str, Any]:
    response = api.get("/clienteling/onboarding-status")
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def _sync(service: Service) -> None:
    report = sync_all(service.runtime, only="acme")
    assert report.done == ["acme"], report.lines()


def _releases(service: Service, sid: str) -> list[LedgerEntry]:
    with service.runtime.uows.of("acme") as uow:
        entries = uow.ledger.page(after=None, limit=1000, actions=(NUMBER_RELEASED,))
    return [e for e in entries if e.sid == sid]


def _a_second_number(api: Api, taken: str) -> str:
    numbers = api.get(f"/clienteling/stores/{STORE}/available-phone-numbers").json()
    return next(str(n["phone_number"]) for n in numbers if n["phone_number"] != taken)


def test_a_number_bought_by_hand_is_an_orphan_after_a_sync_and_released_once(
    api: Api, service: Service, emulator: EmulatorServer, store_number: str
) -> None:
    orphan_number = _a_second_number(api, store_number)
    sid = _buy_by_hand(api, emulator, orphan_number)

    before = _status(api)
    assert numbers_of(before) == (0, 0, None, [])

    _sync(service)
    status = _status(api)
    price = MONTHLY_PRICES["US"]["local"]
    assert status["numbers"] == {
        "owned": 2,
        "orphans": 1,
        "orphan_monthly_cost": {"amount": price, "currency": "USD"},
    }
    assert status["actions"] == ["release_orphan_numbers"]

    released = api.post(f"/clienteling/numbers/{sid}/release")
    assert released.status_code == 200, released.text
    body = released.json()
    assert {k: body[k] for k in ("number_sid", "phone_number", "country_code", "status")} == {
        "number_sid": sid,
        "phone_number": orphan_number,
        "country_code": "US",
        "status": "released",
    }
    assert body["monthly_price"] == {"amount": price, "currency": "USD"}
    assert body["requested_by"] == "cli"  # the test token's subject
    assert orphan_number not in _owned(emulator, api)
    assert store_number in _owned(emulator, api)

    (entry,) = _releases(service, sid)
    assert (entry.phone_number, entry.store_id, entry.actor, entry.reason) == (
        orphan_number,
        None,
        "cli",
        "orphan",
    )
    assert entry.request_id == released.headers["X-Request-ID"]
    assert (entry.monthly_price, entry.price_unit) == (price, "USD")

    again = api.post(f"/clienteling/numbers/{sid}/release")
    assert again.status_code == 200, again.text
    assert again.json() == body
    assert len(_releases(service, sid)) == 1

    after = _status(api)
    assert numbers_of(after) == (1, 0, None, [])
    _sync(service)
    assert _status(api)["numbers"]["owned"] == 1


def test_a_number_a_store_claims_is_never_an_orphan_and_releasing_it_is_409(
    api: Api, service: Service, emulator: EmulatorServer, store_number: str
) -> None:
    number = store_number
    _sync(service)
    status = _status(api)
    assert numbers_of(status) == (1, 0, None, [])

    sid = _owned(emulator, api)[number]
    assert_error(api.post(f"/clienteling/numbers/{sid}/release"), 409, "store 'us-nyc'")
    assert number in _owned(emulator, api)
    assert _releases(service, sid) == []
    # The store still onboards (its claim was never touched).
    again = api.post(f"/clienteling/stores/{STORE}/onboard", json={"phone_number": number})
    assert again.status_code == 200, again.text


def test_a_number_an_onboarding_bought_but_has_not_recorded_is_not_an_orphan(
    api: Api, service: Service, emulator: EmulatorServer
) -> None:
    """The race: the onboarding claimed the number, Twilio sold it, and the request has not
    recorded the purchase yet (its answer was lost and the look-up failed) when the sync lists
    the account. The attempt is still in progress (it holds the store's lease, as the request
    that retries would), so the sync cannot finish it: the status must not call the number an
    orphan and releasing it must be refused."""
    enable(api)
    put_store(api, STORE)
    number = available_number(api, STORE)
    emulator.state.add_fault(
        method="POST", path=r"/IncomingPhoneNumbers\.json$", kind="after_apply", status=500
    )
    emulator.state.add_fault(
        method="GET", path=r"/IncomingPhoneNumbers\.json$", kind="error", status=400, times=None
    )
    failed = api.post(f"/clienteling/stores/{STORE}/onboard", json={"phone_number": number})
    assert failed.status_code >= 400, failed.text
    emulator.state.clear_faults()
    assert number in _owned(emulator, api)
    sid = _owned(emulator, api)[number]
    with service.runtime.uows.of("acme") as uow:
        row = uow.onboardings.get(STORE)
        assert row is not None
        assert row.number_sid is None  # bought, not recorded

    uows = service.runtime.uows
    with SMS_ONBOARDING.exclusive(uows, "acme", STORE):  # the attempt, still in progress
        _sync(service)
        status = _status(api)
        assert numbers_of(status) == (1, 0, None, [])
        assert_error(api.post(f"/clienteling/numbers/{sid}/release"), 409, "store 'us-nyc'")

    retry = api.post(f"/clienteling/stores/{STORE}/onboard", json={"phone_number": number})
    assert retry.status_code == 201, retry.text
    assert list(_owned(emulator, api)) == [number]
    assert _status(api)["numbers"]["orphans"] == 0


@pytest.mark.parametrize(
    ("sid", "status", "fragment"),
    [
        ("PN123", 400, "number_sid"),
        ("XX" + "0" * 32, 400, "number_sid"),
        ("PN" + "0" * 32, 404, "owns no number"),
    ],
)
def test_release_refuses_a_malformed_or_unknown_sid(
    api: Api, sid: str, status: int, fragment: str
) -> None:
    enable(api)
    assert_error(api.post(f"/clienteling/numbers/{sid}/release"), status, fragment)


def test_a_number_released_by_an_offboarding_is_no_orphan_before_the_next_listing(
    api: Api, service: Service, emulator: EmulatorServer
) -> None:
    """The listing is older than the offboarding's release: the ledger's release keeps the
    number out of the owned numbers and the orphans until the next sync forgets it."""
    enable(api)
    put_store(api, STORE)
    _onboarded(api)
    _sync(service)
    offboarded = api.post(f"/clienteling/stores/{STORE}/offboard", json={})
    assert offboarded.status_code == 200, offboarded.text
    assert _status(api)["numbers"] == {"owned": 0, "orphans": 0, "orphan_monthly_cost": None}


def test_an_orphan_a_store_adopts_leaves_the_status_at_once(
    api: Api, service: Service, emulator: EmulatorServer
) -> None:
    """The count is decided when the status is read: the cached document moves with it, with
    no sync in between."""
    enable(api)
    put_store(api, STORE)
    number = available_number(api, STORE)
    _buy_by_hand(api, emulator, number)
    _sync(service)
    assert _status(api)["numbers"]["orphans"] == 1
    assert _status(api)["numbers"]["orphans"] == 1  # served from the cache
    adopted = api.post(
        f"/clienteling/stores/{STORE}/onboard",
        json={"phone_number": number, "phone_number_already_purchased": True},
    )
    assert adopted.status_code == 201, adopted.text
    status = _status(api)
    assert numbers_of(status) == (1, 0, None, [])


def test_concurrent_releases_of_one_orphan_release_it_once(
    api: Api, service: Service, emulator: EmulatorServer
) -> None:
    enable(api)
    put_store(api, STORE)
    sid = _buy_by_hand(api, emulator, available_number(api, STORE))
    _sync(service)
    # Twilio is slow to answer the release, so the requests overlap.
    emulator.state.add_fault(
        method="DELETE", path=r"/IncomingPhoneNumbers/", kind="latency", delay=0.5, times=None
    )
    with ThreadPoolExecutor(max_workers=3) as pool:
        answers = list(pool.map(lambda _: api.post(f"/clienteling/numbers/{sid}/release"), "abc"))
    assert [a.status_code for a in answers] == [200, 200, 200], [a.text for a in answers]
    assert len({a.text for a in answers}) == 1
    deletes = [r for r in emulator.state.requests if r.method == "DELETE" and sid in r.path]
    assert len(deletes) == 1
    assert len(_releases(service, sid)) == 1


def test_a_release_racing_a_store_that_adopts_the_number_lets_only_one_win(
    api: Api, service: Service, emulator: EmulatorServer
) -> None:
    """Both want the orphan at once; the registry's key decides. Either the number is released
    and the store is not onboarded with it, or the store has it and the release is refused:
    never a store recording a released number."""
    enable(api)
    put_store(api, STORE)
    number = available_number(api, STORE)
    sid = _buy_by_hand(api, emulator, number)
    _sync(service)
    emulator.state.add_fault(method=None, path=r"/IncomingPhoneNumbers", kind="latency", delay=0.3)

    def release() -> httpx.Response:
        return api.post(f"/clienteling/numbers/{sid}/release")

    def adopt() -> httpx.Response:
        body = {"phone_number": number, "phone_number_already_purchased": True}
        return api.post(f"/clienteling/stores/{STORE}/onboard", json=body)

    with ThreadPoolExecutor(max_workers=2) as pool:
        released, adopted = (f.result() for f in [pool.submit(release), pool.submit(adopt)])
    store = next(s for s in _status(api)["stores"] if s["id"] == STORE)
    if released.status_code == 200:
        assert adopted.status_code in (400, 409), adopted.text
        assert number not in _owned(emulator, api)
        assert store["phone_number"] is None
        assert len(_releases(service, sid)) == 1
    else:
        assert_error(released, 409, "store 'us-nyc'")
        assert adopted.status_code == 201, adopted.text
        assert number in _owned(emulator, api)
        assert store["phone_number"] == number
        assert _releases(service, sid) == []


def test_a_number_an_offboarding_kept_for_its_store_is_not_an_orphan(
    api: Api, service: Service, emulator: EmulatorServer, store_number: str
) -> None:
    number = store_number
    kept = api.post(f"/clienteling/stores/{STORE}/offboard", json={"release_number": False})
    assert kept.status_code == 200, kept.text
    _sync(service)
    assert numbers_of(_status(api)) == (1, 0, None, [])
    sid = _owned(emulator, api)[number]
    assert_error(api.post(f"/clienteling/numbers/{sid}/release"), 409, "store 'us-nyc'")
    assert number in _owned(emulator, api)


def test_a_dedicated_whatsapp_number_is_not_an_orphan(
    api: Api, service: Service, emulator: EmulatorServer, store_number: str
) -> None:
    sms_number = store_number
    dedicated = _a_second_number(api, sms_number)
    registered = api.post(
        f"/clienteling/stores/{STORE}/whatsapp/onboard",
        json={
            "waba_id": "123456789012",
            "profile_name": "Dodici",
            "whatsapp_phone_number": dedicated,
        },
    )
    assert registered.status_code == 202, registered.text
    _sync(service)
    assert numbers_of(_status(api)) == (2, 0, None, [])
    sid = _owned(emulator, api)[dedicated]
    assert_error(api.post(f"/clienteling/numbers/{sid}/release"), 409, "(whatsapp)")
