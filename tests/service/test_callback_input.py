"""Signed WhatsApp sender status callbacks that are hostile or stale: 4xx, and the sender's
recorded status stays the newest one, on SQLite and PostgreSQL.

Signed with the subaccount's token, as Twilio signs them, so that what is tested is what the
service does with a callback it cannot refuse for its signature."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from clienteling_setup.providers.twilio.webhooks import compute_signature
from tests.conftest import Service
from tests.service.helpers import available_number, enable, put_store
from tests.support import Api, assert_error
from twilio_emulator import EmulatorServer

CALLBACK_PATH = "/clienteling/webhooks/twilio/whatsapp-sender-status"
WABA = "1234567890"


def _channel(api: Api) -> dict[str, Any]:
    status = api.get("/clienteling/onboarding-status").json()
    store = next(s for s in status["stores"] if s["id"] == "us-nyc")
    return dict(store["channels"]["whatsapp"])


@pytest.fixture
def sender(api: Api) -> dict[str, str]:
    """A US store registered with WhatsApp: the fields every callback of its sender carries."""
    enable(api)
    put_store(api, "us-nyc")
    number = available_number(api, "us-nyc")
    sms = api.post("/clienteling/stores/us-nyc/onboard", json={"phone_number": number})
    assert sms.status_code == 201, sms.text
    registered = api.post(
        "/clienteling/stores/us-nyc/whatsapp/onboard", json={"waba_id": WABA, "profile_name": "D"}
    )
    assert registered.status_code == 202, registered.text
    account = api.get("/clienteling/configuration").json()["twilio"]["sid"]
    return {
        "AccountSid": account,
        "SenderSid": registered.json()["sid"],
        "SenderId": f"whatsapp:{number}",
    }


def _send(url: str, params: dict[str, str], signature: str) -> httpx.Response:
    return httpx.post(url, data=params, headers={"X-Twilio-Signature": signature}, timeout=30)


def _post(service: Service, emulator: EmulatorServer, params: dict[str, str]) -> httpx.Response:
    """`params` signed with the subaccount's token, as Twilio signs its callbacks."""
    token = emulator.state.accounts[params["AccountSid"]].auth_token
    url = service.base_url + CALLBACK_PATH
    return _send(url, params, compute_signature(token, url, params))


HOSTILE = {
    "nested OfflineReasons": ("OfflineReasons", "[" * 2000 + "]" * 2000),
    "deeper than a reason": ("OfflineReasons", json.dumps([{"code": [[["63112"]]]}])),
    "huge OfflineReasons": ("OfflineReasons", json.dumps(["reason"] * 20_000)),
    "many reasons": ("OfflineReasons", json.dumps([{"code": str(i)} for i in range(21)])),
    "Status over 40 characters": ("Status", "ONLINE" * 7),
    "unknown Status": ("Status", "ASLEEP"),
    "NUL in Status": ("Status", "ONLINE\x00"),
    "QualityRating over 20 characters": ("QualityRating", "H" * 21),
    "MessagingLimit over 40 characters": ("MessagingLimit", "1" * 41),
    "control character in QualityRating": ("QualityRating", "HIGH\x1b[2J"),
    "malformed SenderSid": ("SenderSid", "XE' OR 1=1 --"),
    "malformed Timestamp": ("Timestamp", "yesterday"),
    "Timestamp without a zone": ("Timestamp", "2026-12-01T10:00:00"),
}


@pytest.mark.parametrize(("field", "value"), HOSTILE.values(), ids=HOSTILE.keys())
def test_a_hostile_signed_callback_is_400_and_changes_nothing(
    api: Api,
    service: Service,
    emulator: EmulatorServer,
    sender: dict[str, str],
    field: str,
    value: str,
) -> None:
    params = {**sender, "Status": "OFFLINE", "QualityRating": "LOW", field: value}

    response = _post(service, emulator, params)

    assert_error(response, 400, field)
    channel = _channel(api)
    assert (channel["status"], channel["quality_rating"]) == ("creating", None)


def test_reasons_at_the_bounds_are_recorded(
    api: Api, service: Service, emulator: EmulatorServer, sender: dict[str, str]
) -> None:
    reasons = [{"code": str(63100 + i), "message": "m", "more_info": "u"} for i in range(20)]
    params = {**sender, "Status": "OFFLINE", "OfflineReasons": json.dumps(reasons)}

    assert _post(service, emulator, params).status_code == 204

    assert _channel(api)["offline_reasons"] == [f"{63100 + i}: m" for i in range(20)]


def test_an_older_timestamp_never_overwrites_a_newer_status(
    api: Api, service: Service, emulator: EmulatorServer, sender: dict[str, str]
) -> None:
    newer = {**sender, "Status": "OFFLINE", "Timestamp": "2026-12-01T10:00:05Z"}
    older = {**sender, "Status": "ONLINE", "Timestamp": "2026-12-01T10:00:04Z"}
    assert _post(service, emulator, newer).status_code == 204

    assert_error(_post(service, emulator, older), 409, "older")

    assert _channel(api)["status"] == "offline"
    # A later one applies, whatever its status.
    later = {**older, "Timestamp": "2026-12-01T10:00:06Z"}
    assert _post(service, emulator, later).status_code == 204
    assert _channel(api)["status"] == "online"


def test_without_a_timestamp_a_status_never_goes_back_in_the_senders_life(
    api: Api, service: Service, emulator: EmulatorServer, sender: dict[str, str]
) -> None:
    assert _post(service, emulator, {**sender, "Status": "ONLINE"}).status_code == 204

    assert_error(_post(service, emulator, {**sender, "Status": "CREATING"}), 409, "older")
    assert _channel(api)["status"] == "online"
    # Between live statuses, the later arrival wins.
    assert _post(service, emulator, {**sender, "Status": "OFFLINE"}).status_code == 204
    assert _channel(api)["status"] == "offline"


def test_a_replayed_twilio_callback_keeps_the_newer_status(
    api: Api, service: Service, emulator: EmulatorServer, sender: dict[str, str]
) -> None:
    (online,) = emulator.state.advance_clock(30)  # CREATING -> ONLINE, delivered
    emulator.state.advance_clock(10)
    emulator.state.set_sender_status(sender["SenderSid"], "OFFLINE")
    assert _channel(api)["status"] == "offline"
    assert online.params["Status"] == "ONLINE"

    # Twilio sends the first callback again, with its own (older) Timestamp and signature.
    replay = _send(online.url, online.params, online.signature)

    assert_error(replay, 409, "older")
    assert _channel(api)["status"] == "offline"


@pytest.mark.parametrize(
    ("value", "fragment"),
    [("a\x00b", "U+0000"), ("x" * 8193, "at most 8192")],
    ids=["nul", "over-long"],
)
def test_every_callback_refuses_a_signed_field_the_database_cannot_hold(
    api: Api, service: Service, emulator: EmulatorServer, value: str, fragment: str
) -> None:
    enable(api)
    account = api.get("/clienteling/configuration").json()["twilio"]["sid"]
    token = emulator.state.accounts[account].auth_token
    webhooks = [p for p in api.client.get("/openapi.json").json()["paths"] if "/webhooks/" in p]
    assert len(webhooks) >= 3
    for path in webhooks:
        params = {"AccountSid": account, "To": "+12125550123", "Note": value}
        url = service.base_url + path
        response = _send(url, params, compute_signature(token, url, params))
        assert_error(response, 400, "'Note'", fragment)


def test_a_bundle_callback_for_no_bundle_sid_is_400_and_asks_twilio_nothing(
    api: Api, service: Service, emulator: EmulatorServer
) -> None:
    enable(api)
    account = api.get("/clienteling/configuration").json()["twilio"]["sid"]
    token = emulator.state.accounts[account].auth_token
    emulator.state.clear_requests()
    url = service.base_url + "/clienteling/webhooks/twilio/bundle-status"
    params = {"AccountSid": account, "BundleSid": "BU" + "0" * 500, "Status": "twilio-approved"}

    assert_error(_send(url, params, compute_signature(token, url, params)), 400, "BundleSid")
    assert emulator.state.requests == []
