"""The money ledger over the API (issue 14, acceptance 6): every purchase and release the test
makes appears exactly once, with its price and who asked; the CSV export parses back to the
JSON entries; filters and pages; bad parameters are 400s naming them; a tenant sees its own."""

from __future__ import annotations

import csv
import io
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from clienteling_setup.auth.tokens import issue_token
from tests.conftest import TEST_JWT_SECRET, Service
from tests.service.helpers import available_number, enable, put_store
from tests.support import Api, assert_error
from twilio_emulator import EmulatorServer

WABA = "123456789012345"
US = {"amount": "1.15", "currency": "USD"}
DE_MOBILE = {"amount": "12.00", "currency": "USD"}


def as_user(api: Api, subject: str) -> Api:
    """The same client with a token of `subject` (the ledger's actor)."""
    token = issue_token(
        TEST_JWT_SECRET,
        [api.tenant],
        issuer="clienteling-setup",
        audience="clienteling-setup",
        subject=subject,
    )
    return Api(api.base_url, token, api.tenant, api.client)


def ledger(api: Api, **params: Any) -> list[dict[str, Any]]:
    """Every entry, read page by page (`limit` small, so paging is exercised)."""
    entries: list[dict[str, Any]] = []
    cursor = None
    while True:
        query = {**params, "limit": 2, **({"cursor": cursor} if cursor else {})}
        response = api.get("/clienteling/ledger", params=query)
        assert response.status_code == 200, response.text
        page = response.json()
        assert len(page["items"]) <= 2
        entries += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return entries


def ledger_csv(api: Api, **params: Any) -> list[dict[str, str]]:
    response = api.get("/clienteling/ledger", params=params, headers={"Accept": "text/csv"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(response.text)))


def flattened(entry: dict[str, Any]) -> dict[str, str]:
    """A JSON entry as its CSV line reads (the price in two columns, null as empty)."""
    price = entry.get("monthly_price") or {}
    row = {k: v for k, v in entry.items() if k != "monthly_price"}
    row["monthly_price_amount"] = price.get("amount")
    row["monthly_price_currency"] = price.get("currency")
    return {k: "" if v is None else str(v) for k, v in row.items()}


def onboard(api: Api, store_id: str, **body: Any) -> httpx.Response:
    number = body.pop("phone_number", None) or available_number(api, store_id)
    response = api.post(
        f"/clienteling/stores/{store_id}/onboard", json={"phone_number": number, **body}
    )
    assert response.status_code == 201, response.text
    return response


def bundle_terms(api: Api, store_id: str) -> dict[str, str]:
    bundles = api.get(f"/clienteling/stores/{store_id}/regulatory-bundles").json()
    approved = next(b for b in bundles if b["status"] == "twilio-approved")
    return {"bundle_sid": approved["sid"], "address_sid": approved["address_sid"]}


def test_every_purchase_and_release_is_in_the_ledger_once_with_its_price(
    api: Api, emulator: EmulatorServer
) -> None:
    alice, bob = as_user(api, "alice@dodici.example"), as_user(api, "bob@dodici.example")
    enable(api)
    stores = {"us-1": "US", "us-2": "US", "us-3": "US", "de-ber": "DE"}
    for store_id in stores:
        put_store(api, store_id)

    bought: list[tuple[str, str, str, str, dict[str, str]]] = []  # store, number, who, req, $
    for store_id, user, terms in [
        ("us-1", alice, {}),
        ("us-2", alice, {}),
        ("us-3", bob, {}),
        ("de-ber", alice, bundle_terms(api, "de-ber")),
    ]:
        response = onboard(user, store_id, **terms)
        price = DE_MOBILE if stores[store_id] == "DE" else US
        who = "alice@dodici.example" if user is alice else "bob@dodici.example"
        number = response.json()["phone_number"]
        assert response.json()["monthly_price"] == price  # the onboarding answer says it too
        bought.append((store_id, number, who, response.headers["X-Request-ID"], price))
    # A dedicated WhatsApp number for us-3: a second purchase for the store.
    whatsapp_number = available_number(api, "us-3")
    response = bob.post(
        "/clienteling/stores/us-3/whatsapp/onboard",
        json={"waba_id": WABA, "profile_name": "Dodici", "whatsapp_phone_number": whatsapp_number},
    )
    assert response.status_code == 202, response.text
    bought.append(
        ("us-3", whatsapp_number, "bob@dodici.example", response.headers["X-Request-ID"], US)
    )

    released: list[tuple[str, str, str, str, dict[str, str]]] = []
    for store_id, body in [("us-1", {}), ("us-3", {}), ("us-2", {"release_number": False})]:
        response = bob.post(f"/clienteling/stores/{store_id}/offboard", json=body)
        assert response.status_code == 200, response.text
        if body.get("release_number", True):
            released += [
                (store, number, "bob@dodici.example", response.headers["X-Request-ID"], price)
                for store, number, _, _, price in bought
                if store == store_id
            ]
    # A repeated offboarding releases nothing more; onboarding us-2 again with the number it
    # kept buys nothing new (Twilio answers the purchase of an owned number as an update):
    # neither writes an entry.
    assert bob.post("/clienteling/stores/us-1/offboard", json={}).status_code == 200
    us2 = next(b for b in bought if b[0] == "us-2")
    again = alice.post("/clienteling/stores/us-2/onboard", json={"phone_number": us2[1]})
    assert again.status_code == 201, again.text

    entries = ledger(api)
    seen = [
        (
            e["action"],
            e["store_id"],
            e["phone_number"],
            e["actor"],
            e["request_id"],
            e["monthly_price"],
        )
        for e in entries
    ]
    expected = [("number_bought", *b) for b in bought] + [("number_released", *r) for r in released]
    assert sorted(seen, key=repr) == sorted(expected, key=repr)

    # Each entry names the number's SID as Twilio knows it: the purchase's and the release's
    # are the same SID; the numbers still owned are in the emulator under that SID.
    sids = {(e["action"], e["phone_number"]): e["number_sid"] for e in entries}
    for _, number, *_ in released:
        assert sids[("number_released", number)] == sids[("number_bought", number)]
    sub = api.get("/clienteling/configuration").json()["twilio"]["sid"]
    owned = {n.phone_number: n.sid for n in emulator.state.owned_numbers(sub)}
    assert owned == {
        number: sids[("number_bought", number)]
        for _, number, *_ in bought
        if ("number_released", number) not in sids
    }
    assert all(e["account_sid"] == sub for e in entries)
    # As many purchases as numbers Twilio sold.
    sold = {
        r.params["PhoneNumber"]
        for r in emulator.state.requests
        if r.method == "POST" and r.path.endswith("/IncomingPhoneNumbers.json") and r.status == 201
    }
    assert sold == {number for _, number, *_ in bought}

    # The CSV export is the same entries, field for field.
    assert ledger_csv(api) == [flattened(e) for e in entries]


def test_filters_and_pages(api: Api) -> None:
    enable(api)
    for store_id in ("us-1", "us-2"):
        put_store(api, store_id)
        onboard(api, store_id)
    assert api.post("/clienteling/stores/us-1/offboard", json={}).status_code == 200

    everything = ledger(api)
    assert [e["action"] for e in everything] == ["number_bought"] * 2 + ["number_released"]
    assert [(e["recorded_at"], e["entry_id"]) for e in everything] == sorted(
        (e["recorded_at"], e["entry_id"]) for e in everything
    )
    assert ledger(api, store_id="us-1") == [e for e in everything if e["store_id"] == "us-1"]
    assert ledger(api, action="number_released") == everything[2:]
    assert ledger(api, action=["number_bought", "number_released"]) == everything
    released_at = datetime.fromisoformat(everything[2]["recorded_at"])
    assert ledger(api, since=everything[2]["recorded_at"]) == everything[2:]
    assert ledger(api, until=everything[2]["recorded_at"]) == everything[:2]
    later = (released_at + timedelta(hours=1)).astimezone(UTC).replace(tzinfo=None)
    assert ledger(api, since=later.isoformat()) == []  # no offset: UTC
    assert ledger_csv(api, store_id="us-2") == [
        flattened(e) for e in everything if e["store_id"] == "us-2"
    ]
    first = api.get("/clienteling/ledger", params={"limit": 1}).json()
    rest = api.get("/clienteling/ledger", params={"cursor": first["next_cursor"]}).json()
    assert first["items"] + rest["items"] == everything
    assert rest["next_cursor"] is None
    # A CSV export resumes after a cursor too.
    assert ledger_csv(api, cursor=first["next_cursor"]) == [flattened(e) for e in everything[1:]]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"action": "number_rented"}, "action"),
        ({"since": "yesterday"}, "'since'"),
        ({"until": "2026-13-01T00:00:00Z"}, "'until'"),
        ({"since": "2026-12-02T00:00:00Z", "until": "2026-12-01T00:00:00Z"}, "'until'"),
        ({"cursor": "not-a-cursor"}, "'cursor'"),
        ({"cursor": "WzEsMl0"}, "'cursor'"),  # base64 of [1,2]: not a position
        ({"limit": 0}, "limit"),
        ({"limit": 1001}, "limit"),
    ],
)
def test_bad_parameters_are_400_naming_them(api: Api, params: dict[str, Any], field: str) -> None:
    for accept in ("application/json", "text/csv"):
        response = api.get("/clienteling/ledger", params=params, headers={"Accept": accept})
        assert_error(response, 400, field)


def test_a_tenant_sees_only_its_own_ledger(api: Api, service: Service) -> None:
    enable(api)
    put_store(api, "us-1")
    onboard(api, "us-1")
    assert len(ledger(api)) == 1
    other = Api(api.base_url, service.token("other"), "other", api.client)
    assert ledger(other) == []
    assert ledger_csv(other) == []


def test_a_repeated_or_concurrent_purchase_writes_one_entry(api: Api) -> None:
    enable(api)
    put_store(api, "us-1")
    number = available_number(api, "us-1")
    answers: list[int] = []

    def buy() -> None:
        with httpx.Client(base_url=api.base_url, timeout=60) as client:
            response = client.post(
                "/clienteling/stores/us-1/onboard",
                json={"phone_number": number},
                headers=api.headers(),
            )
            answers.append(response.status_code)

    threads = [threading.Thread(target=buy) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answers.count(201) == 1, answers
    assert set(answers) <= {200, 201, 409}, answers
    assert (
        api.post("/clienteling/stores/us-1/onboard", json={"phone_number": number}).status_code
        == 200
    )
    (entry,) = ledger(api)
    assert (entry["action"], entry["phone_number"], entry["monthly_price"]) == (
        "number_bought",
        number,
        US,
    )


def test_a_pricing_outage_leaves_the_price_unknown_and_buys_all_the_same(
    api: Api, emulator: EmulatorServer
) -> None:
    """Italy: no other service test asks its prices, so this server's gateway has none kept."""
    enable(api)
    it = {"country_code": "IT", "region": None, "locality": "Roma", "postal_code": None}
    put_store(api, "it-rom", name="Dodici Roma", phone=None, **it)
    outage = emulator.state.add_fault(
        method="GET", path=r"/pricing/v1/PhoneNumbers/Countries/IT", kind="error", status=503,
        times=None,
    )  # fmt: skip

    offer = api.get("/clienteling/stores/it-rom/available-phone-numbers")
    assert offer.status_code == 200, offer.text
    assert offer.json()
    assert all(n["monthly_price"] is None for n in offer.json())
    number = offer.json()[0]["phone_number"]
    response = onboard(api, "it-rom", phone_number=number, **bundle_terms(api, "it-rom"))

    assert response.json()["monthly_price"] is None
    assert outage.hits >= 1
    (entry,) = ledger(api)
    assert (entry["action"], entry["phone_number"], entry["monthly_price"]) == (
        "number_bought",
        number,
        None,
    )
    assert ledger_csv(api) == [flattened(entry)]
