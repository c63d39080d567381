"""Twilio callbacks: a missing, wrong, or replayed-for-another-URL signature is 403 and changes
nothing. Every webhook the service documents in /openapi.json is tried, so callbacks added
later are covered without touching this file."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import MetaData, select

from clienteling_setup.providers.twilio.webhooks import compute_signature
from tests.conftest import Service
from tests.service.helpers import available_number, enable, put_store
from tests.support import Api, assert_error
from twilio_emulator import EmulatorServer

WEBHOOK_PREFIX = "/clienteling/webhooks/"


def _database(service: Service) -> dict[str, list[tuple[Any, ...]]]:
    metadata = MetaData()
    metadata.reflect(service.runtime.engine)
    with service.runtime.engine.connect() as conn:
        return {
            name: sorted(tuple(map(repr, row)) for row in conn.execute(select(table)))
            for name, table in metadata.tables.items()
            if name != "leases"
        }


def _callback_params(api: Api, emulator: EmulatorServer, number: str) -> dict[str, str]:
    """Parameters that would change state if a callback carrying them were accepted."""
    config = api.get("/clienteling/configuration").json()
    sub = config["twilio"]["sid"]
    bundle = emulator.state.bundles(sub)[0]
    return {
        "AccountSid": sub,
        "To": number,
        "From": "+12125550199",
        "CallSid": "CA" + "1" * 32,
        "BundleSid": bundle.sid,
        "Status": "twilio-rejected",
        "FailureReason": "forged",
        "SenderSid": "XE" + "1" * 32,
        "SenderId": f"whatsapp:{number}",
        "ChannelStatus": "OFFLINE",
    }


def test_callbacks_with_bad_signatures_are_403_and_change_nothing(
    api: Api, service: Service, emulator: EmulatorServer
) -> None:
    enable(api)
    put_store(api, "us-nyc")
    number = available_number(api, "us-nyc")
    assert (
        api.post("/clienteling/stores/us-nyc/onboard", json={"phone_number": number}).status_code
        == 201
    )
    paths = sorted(
        path
        for path, item in api.client.get("/openapi.json").json()["paths"].items()
        if path.startswith(WEBHOOK_PREFIX) and "post" in item
    )
    assert "/clienteling/webhooks/twilio/voice" in paths
    params = _callback_params(api, emulator, number)
    sub = params["AccountSid"]
    account = emulator.state.account(sub)
    assert account is not None
    token = account.auth_token
    before = _database(service)
    emulator.state.clear_requests()
    client = httpx.Client(base_url=service.base_url, timeout=30)
    for path in paths:
        url = f"{service.base_url}{path}"
        other = next((p for p in paths if p != path), path + "?replayed=1")
        attempts = {
            "missing": None,
            "wrong": compute_signature("0" * 32, url, params),
            "replayed from another URL": compute_signature(
                token, f"{service.base_url}{other}", params
            ),
            "replayed from another host": compute_signature(
                token, f"https://evil.example{path}", params
            ),
            "parameters changed": compute_signature(
                token, url, {**params, "Status": "twilio-approved"}
            ),
        }
        for case, signature in attempts.items():
            headers = {"X-Twilio-Signature": signature} if signature is not None else {}
            response = client.post(path, data=params, headers=headers)
            body = assert_error(response, 403, "X-Twilio-Signature")
            assert body["message"], (path, case)
        assert _database(service) == before, f"{path}: a refused callback changed the database"
        assert emulator.state.requests == [], f"{path}: a refused callback called Twilio"
    client.close()
    # Control: the same parameters, signed for the right URL, are not refused, so each 403
    # above was the signature's doing.
    for path in paths:
        signature = compute_signature(token, f"{service.base_url}{path}", params)
        response = httpx.post(
            f"{service.base_url}{path}", data=params, headers={"X-Twilio-Signature": signature}
        )
        assert response.status_code != 403, (path, response.text)
