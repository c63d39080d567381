"""The four list operations: the reference's fields, 404, empty lists, bundle countries, cache."""

from __future__ import annotations

import phonenumbers

from tests.service.helpers import available_number, enable, put_store
from tests.support import Api, assert_error
from twilio_emulator import EmulatorServer

LISTS = ["available-phone-numbers", "addresses", "regulatory-bundles"]


def _twilio_calls(emulator: EmulatorServer, fragment: str) -> int:
    return sum(1 for r in emulator.state.requests if fragment in r.path)


def test_available_numbers_are_sms_numbers_of_the_store_country_near_it(api: Api) -> None:
    enable(api)
    put_store(api, "us-nyc")
    numbers = api.get("/clienteling/stores/us-nyc/available-phone-numbers").json()
    assert numbers
    for entry in numbers:
        assert {"phone_number", "locality", "region"} <= set(entry)
        parsed = phonenumbers.parse(entry["phone_number"])
        assert phonenumbers.is_valid_number(parsed)
        assert phonenumbers.region_code_for_number(parsed) == "US"
        assert entry["region"] == "NY"
        assert entry["number_type"] == "local"
        assert entry["monthly_price"] == {"amount": "1.15", "currency": "USD"}  # Twilio's


def test_a_mobile_country_lists_mobile_numbers(api: Api) -> None:
    enable(api)
    put_store(api, "de-ber")
    numbers = api.get("/clienteling/stores/de-ber/available-phone-numbers").json()
    assert numbers
    for entry in numbers:
        parsed = phonenumbers.parse(entry["phone_number"])
        assert phonenumbers.number_type(parsed) == phonenumbers.PhoneNumberType.MOBILE
        assert entry["number_type"] == "mobile"
        assert entry["monthly_price"] == {"amount": "12.00", "currency": "USD"}


def test_numbers_the_tenant_claimed_are_not_offered_again(api: Api) -> None:
    enable(api)
    put_store(api, "us-nyc")
    put_store(api, "us-2", name="Second")
    first = available_number(api, "us-nyc")
    assert (
        api.post("/clienteling/stores/us-nyc/onboard", json={"phone_number": first}).status_code
        == 201
    )
    offered = [
        n["phone_number"]
        for n in api.get("/clienteling/stores/us-2/available-phone-numbers").json()
    ]
    assert first not in offered


def test_a_number_twilio_refused_is_not_offered_again(api: Api, emulator: EmulatorServer) -> None:
    enable(api)
    put_store(api, "us-nyc")
    first_list = api.get("/clienteling/stores/us-nyc/available-phone-numbers").json()
    refused = first_list[0]["phone_number"]
    # Another Twilio customer buys it between the list and the purchase.
    emulator.state.make_number_unavailable(refused)

    answer = api.post("/clienteling/stores/us-nyc/onboard", json={"phone_number": refused})
    assert_error(answer, 400, "no longer available")

    searches = _twilio_calls(emulator, "AvailablePhoneNumbers")
    second_list = api.get("/clienteling/stores/us-nyc/available-phone-numbers").json()
    offered = [n["phone_number"] for n in second_list]
    assert refused not in offered
    # The rest of the cached answer is still offered, without asking Twilio again.
    assert offered == [n["phone_number"] for n in first_list[1:]]
    assert _twilio_calls(emulator, "AvailablePhoneNumbers") == searches


def test_addresses_and_bundles_are_those_of_the_store_country(api: Api) -> None:
    enable(api)
    put_store(api, "de-ber")
    addresses = api.get("/clienteling/stores/de-ber/addresses").json()
    assert addresses
    for address in addresses:
        assert set(address) == {
            "sid", "friendly_name", "street", "street_secondary", "city", "region",
            "postal_code", "iso_country",
        }  # fmt: skip
        assert address["iso_country"] == "DE"
    bundles = api.get("/clienteling/stores/de-ber/regulatory-bundles").json()
    assert bundles
    address_sids = {a["sid"] for a in addresses}
    for bundle in bundles:
        assert {"sid", "friendly_name", "address_sid"} <= set(bundle)
        assert bundle["iso_country"] == "DE"
        assert bundle["address_sid"] in address_sids


def test_a_country_without_bundles_lists_none(api: Api) -> None:
    enable(api)
    put_store(api, "us-nyc")
    assert api.get("/clienteling/stores/us-nyc/regulatory-bundles").json() == []


def test_trust_products_are_the_tenants(api: Api) -> None:
    enable(api)
    products = api.get("/clienteling/trust-products").json()
    assert products
    for product in products:
        assert product["sid"].startswith("BU")
        assert product["friendly_name"]


def test_unknown_store_is_404_for_each_list(api: Api) -> None:
    enable(api)
    for name in LISTS:
        assert_error(api.get(f"/clienteling/stores/nope/{name}"), 404, "nope")


def test_lists_before_enabling_say_what_to_do(api: Api) -> None:
    put_store(api, "us-nyc")
    for name in LISTS:
        assert_error(
            api.get(f"/clienteling/stores/us-nyc/{name}"), 400, "POST /clienteling/configuration"
        )
    assert_error(api.get("/clienteling/trust-products"), 400, "not enabled")


def test_two_list_requests_cost_one_twilio_call(api: Api, emulator: EmulatorServer) -> None:
    enable(api)
    put_store(api, "us-nyc")
    emulator.state.clear_requests()
    for _ in range(2):
        assert api.get("/clienteling/stores/us-nyc/available-phone-numbers").status_code == 200
        assert api.get("/clienteling/stores/us-nyc/addresses").status_code == 200
        assert api.get("/clienteling/trust-products").status_code == 200
    assert _twilio_calls(emulator, "/AvailablePhoneNumbers/") == 1
    assert _twilio_calls(emulator, "/Addresses") == 1
    assert _twilio_calls(emulator, "/TrustProducts") == 1


def test_twilio_failure_on_a_list_is_503_with_retry_after(
    api: Api, emulator: EmulatorServer
) -> None:
    enable(api)
    put_store(api, "us-nyc")
    emulator.state.add_fault(
        method="GET", path=r"/Addresses\.json", kind="error", status=503, retry_after=1, times=20
    )
    response = api.get("/clienteling/stores/us-nyc/addresses")
    assert_error(response, 503, "Twilio")
    assert int(response.headers["Retry-After"]) >= 1
