"""Acceptance 6: Twilio calls the voice webhook for a clienteling number; a call signed with the
tenant subaccount's token for the public URL is answered with TwiML that dials the store's own
phone (a polite message when it has none); anything else is 403 and nothing happens."""

from __future__ import annotations

import uuid
import xml.etree.ElementTree as ET
from typing import Any

import httpx
import pytest

from clienteling_setup.providers.twilio.webhooks import compute_signature
from tests.conftest import Service
from tests.service.helpers import STORES, available_number, enable, put_store
from tests.support import Api, assert_error
from twilio_emulator import EmulatorServer

PATH = "/clienteling/webhooks/twilio/voice"
CALLER = "+15005550006"


@pytest.fixture
def tenant(api: Api, emulator: EmulatorServer) -> dict[str, str]:
    """Clienteling enabled: the subaccount SID and its auth token (Twilio signs with it)."""
    sub = enable(api)["twilio"]["sid"]
    account = emulator.state.account(sub)
    assert account is not None
    return {"sid": sub, "token": account.auth_token}


def onboard(api: Api, store_id: str) -> str:
    number = available_number(api, store_id)
    response = api.post(f"/clienteling/stores/{store_id}/onboard", json={"phone_number": number})
    assert response.status_code == 201, response.text
    return number


def call(account_sid: str, to: str) -> dict[str, str]:
    """The form Twilio posts when a call to `to` arrives."""
    return {
        "AccountSid": account_sid,
        "CallSid": "CA" + uuid.uuid4().hex,
        "From": CALLER,
        "To": to,
        "CallStatus": "ringing",
        "Direction": "inbound",
    }


def post(api: Api, form: dict[str, str], signature: str | None) -> httpx.Response:
    headers = {"X-Twilio-Signature": signature} if signature is not None else {}
    return api.client.post(PATH, data=form, headers=headers)


def twiml(response: httpx.Response) -> ET.Element:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/xml")
    root = ET.fromstring(response.text)
    assert root.tag == "Response"
    return root


def test_the_voice_app_points_at_the_webhook(
    api: Api, emulator: EmulatorServer, service: Service, tenant: dict[str, str]
) -> None:
    forwarding = api.get("/clienteling/configuration").json()["twilio"]["call_forwarding"]
    app = next(a for a in emulator.state.applications(tenant["sid"]) if a.sid == forwarding["sid"])
    assert app.voice_url == service.runtime.public_base_url + PATH
    assert app.voice_method == "POST"


def test_a_signed_call_dials_the_store_phone(
    api: Api, service: Service, tenant: dict[str, str]
) -> None:
    put_store(api, "us-nyc")
    number = onboard(api, "us-nyc")
    form = call(tenant["sid"], number)
    signature = compute_signature(tenant["token"], service.runtime.public_base_url + PATH, form)
    root = twiml(post(api, form, signature))
    assert [(child.tag, child.text) for child in root] == [("Dial", STORES["us-nyc"]["phone"])]


def test_a_store_without_a_phone_gets_a_polite_message(
    api: Api, service: Service, tenant: dict[str, str]
) -> None:
    put_store(api, "us-nyc", phone=None)
    number = onboard(api, "us-nyc")
    form = call(tenant["sid"], number)
    signature = compute_signature(tenant["token"], service.runtime.public_base_url + PATH, form)
    root = twiml(post(api, form, signature))
    assert [child.tag for child in root] == ["Say"]
    said = root[0].text or ""
    assert STORES["us-nyc"]["name"] in said
    assert "text message" in said
    assert root.find("Dial") is None


def _forbidden(response: httpx.Response) -> None:
    assert_error(response, 403, "X-Twilio-Signature")
    assert "<Dial" not in response.text


@pytest.mark.parametrize(
    "case",
    [
        "missing",
        "empty",
        "garbage",
        "other-url",
        "other-host",
        "other-token",
        "tampered-to",
        "unknown-account",
    ],
)
def test_a_call_not_signed_by_twilio_for_this_url_is_403(
    api: Api, emulator: EmulatorServer, service: Service, tenant: dict[str, str], case: str
) -> None:
    put_store(api, "us-nyc")
    number = onboard(api, "us-nyc")
    url = service.runtime.public_base_url + PATH
    form = call(tenant["sid"], number)
    signed: dict[str, Any] = {"form": form, "url": url, "token": tenant["token"]}
    if case == "other-url":
        signed["url"] = service.runtime.public_base_url + "/clienteling/webhooks/twilio/status"
    elif case == "other-host":
        signed["url"] = "https://attacker.example" + PATH
    elif case == "other-token":
        signed["token"] = "0" * 32
    elif case == "unknown-account":
        form["AccountSid"] = "AC" + "f" * 32
        signed["form"] = form
    signature = compute_signature(signed["token"], signed["url"], signed["form"])
    if case == "tampered-to":
        form = {**form, "To": "+12125550199"}  # signed for the store's number, sent for another
    header = {"missing": None, "empty": "", "garbage": "not-a-signature"}.get(case, signature)
    requests_before = len(emulator.state.requests)
    _forbidden(post(api, form, header))
    assert len(emulator.state.requests) == requests_before  # nothing happened in Twilio


def test_a_call_to_the_dedicated_whatsapp_number_dials_the_store_phone(
    api: Api, service: Service, tenant: dict[str, str]
) -> None:
    put_store(api, "us-nyc")
    sms_number = onboard(api, "us-nyc")
    numbers = api.get("/clienteling/stores/us-nyc/available-phone-numbers").json()
    dedicated = next(n["phone_number"] for n in numbers if n["phone_number"] != sms_number)
    registered = api.post(
        "/clienteling/stores/us-nyc/whatsapp/onboard",
        json={"waba_id": "1234567890", "profile_name": "D", "whatsapp_phone_number": dedicated},
    )
    assert registered.status_code == 202, registered.text
    form = call(tenant["sid"], dedicated)
    signature = compute_signature(tenant["token"], service.runtime.public_base_url + PATH, form)
    dial = twiml(post(api, form, signature)).find("Dial")
    assert dial is not None
    assert (dial.text or "").strip() == STORES["us-nyc"]["phone"]
