"""The onboarding status document: shape, onboarded_at, and zero Twilio calls."""

from __future__ import annotations

from typing import Any

from tests.service.a2p_helpers import complete_registration
from tests.service.helpers import available_number, enable, put_store
from tests.support import Api
from twilio_emulator import EmulatorServer

# Keys of the reference's sample document, level by level.
TOP = {"tenant", "onboarded", "onboarded_at", "twilio", "opt_in", "countries", "stores"}
#: Keys beyond the reference's: added beside them, never replacing one.
EXTRA = {"disabling", "onboarding_job", "reconciliation", "numbers", "actions"}
TWILIO = {"connected", "sid", "call_forwarding"}
COUNTRY = {
    "country_code",
    "stores",
    "number_availability",
    "regulatory_bundle",
    "trusted_product",
    "actions",
}
BUNDLE = {"required", "status", "bundle_id", "uploads"}
PRODUCT = {"required", "status", "product_id", "uploads"}
UPLOAD = {"sid", "name", "status", "created_at", "updated_at"}
STORE = {"id", "name", "country_code", "phone_number", "channels"}
SMS = {"status", "pending_phone_number", "last_error"}
# The reference's fields, plus the sender's offline reasons, registered number and last error.
WHATSAPP = {
    "last_error",
    "sid",
    "status",
    "waba",
    "quality_rating",
    "messaging_limit",
    "offline_reasons",
    "phone_number",
}


def _check_shape(doc: dict[str, Any]) -> None:
    assert set(doc) == TOP | EXTRA
    assert set(doc["twilio"]) == TWILIO
    assert set(doc["twilio"]["call_forwarding"]) == {"sid", "name"}
    assert set(doc["opt_in"]) == {"exists", "id", "body"}
    for country in doc["countries"]:
        assert set(country) == COUNTRY
        assert set(country["number_availability"]) == {"supported"}
        assert BUNDLE <= set(country["regulatory_bundle"])
        assert PRODUCT <= set(country["trusted_product"])
        for upload in (
            country["regulatory_bundle"]["uploads"] + country["trusted_product"]["uploads"]
        ):
            assert set(upload) == UPLOAD
    for store in doc["stores"]:
        assert set(store) == STORE
        assert set(store["channels"]) == {"sms", "whatsapp"}
        assert set(store["channels"]["sms"]) == SMS
        assert set(store["channels"]["whatsapp"]) == WHATSAPP


def test_status_before_enabling_is_200_with_nulls_and_actions(api: Api) -> None:
    put_store(api, "us-nyc")
    doc = api.get("/clienteling/onboarding-status").json()
    _check_shape(doc)
    assert doc["tenant"] == "acme"
    assert doc["onboarded"] is False
    assert doc["onboarded_at"] is None
    assert doc["twilio"] == {
        "connected": False,
        "sid": None,
        "call_forwarding": {"sid": None, "name": None},
    }
    assert doc["opt_in"] == {"exists": False, "id": None, "body": None}
    assert doc["countries"][0]["actions"] == ["enable_clienteling"]
    assert doc["stores"][0]["phone_number"] is None
    assert doc["stores"][0]["channels"]["sms"]["status"] == "not_onboarded"
    assert doc["stores"][0]["channels"]["whatsapp"]["status"] == "not_onboarded"


def test_onboarded_at_is_set_once_and_never_moves(api: Api, emulator: EmulatorServer) -> None:
    enable(api)
    put_store(api, "us-nyc")
    put_store(api, "us-2", name="Second")
    api.put("/clienteling/opt-in-template", json={"body": "Reply YES"})
    assert api.get("/clienteling/onboarding-status").json()["onboarded"] is False
    api.post(
        "/clienteling/stores/us-nyc/onboard", json={"phone_number": available_number(api, "us-nyc")}
    )
    # A US store sends once its Messaging Service has a verified A2P 10DLC campaign.
    assert api.get("/clienteling/onboarding-status").json()["onboarded"] is False
    complete_registration(api, emulator)
    doc = api.get("/clienteling/onboarding-status").json()
    _check_shape(doc)
    assert doc["onboarded"] is True
    first = doc["onboarded_at"]
    assert first is not None
    api.post(
        "/clienteling/stores/us-2/onboard", json={"phone_number": available_number(api, "us-2")}
    )
    api.put("/clienteling/opt-in-template", json={"body": "Reply START"})
    assert api.get("/clienteling/onboarding-status").json()["onboarded_at"] == first


def test_status_makes_no_twilio_calls(api: Api, emulator: EmulatorServer) -> None:
    enable(api)
    put_store(api, "us-nyc")
    put_store(api, "de-ber")
    emulator.state.clear_requests()
    for _ in range(3):
        assert api.get("/clienteling/onboarding-status").status_code == 200
    assert emulator.state.requests == []
