"""One registry of claimed numbers per tenant, across channels: an SMS onboarding and a
WhatsApp registration racing for one number, or two stores racing for one dedicated WhatsApp
number, leave it on one store; the loser is told who holds it and succeeds with another."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from tests.service.helpers import enable, put_store
from tests.support import Api
from twilio_emulator import EmulatorServer

WABA = "123456789012345"
LATENCY = 0.05  # every Twilio call: widens the window between a check and a purchase


def _sub(api: Api) -> str:
    return str(api.get("/clienteling/configuration").json()["twilio"]["sid"])


def _free_numbers(emulator: EmulatorServer, count: int) -> list[str]:
    return [n.phone_number for n in emulator.state.pool("US", "local")[:count]]


def _sms(store_id: str, number: str) -> tuple[str, dict[str, Any]]:
    return f"/clienteling/stores/{store_id}/onboard", {"phone_number": number}


def _whatsapp(store_id: str, number: str) -> tuple[str, dict[str, Any]]:
    body = {"waba_id": WABA, "profile_name": "Dodici", "whatsapp_phone_number": number}
    return f"/clienteling/stores/{store_id}/whatsapp/onboard", body


def _post(api: Api, request: tuple[str, dict[str, Any]]) -> httpx.Response:
    return api.post(request[0], json=request[1])


def _race(
    api: Api, first: tuple[str, dict[str, Any]], second: tuple[str, dict[str, Any]]
) -> tuple[httpx.Response, httpx.Response]:
    """Send `first`, then `second` a moment later, while Twilio answers slowly."""
    results: list[httpx.Response | None] = [None, None]

    def send(i: int, request: tuple[str, dict[str, Any]]) -> Callable[[], None]:
        def run() -> None:
            with httpx.Client(base_url=api.base_url, headers=api.headers(), timeout=60) as c:
                results[i] = c.post(request[0], json=request[1])

        return run

    threads = [threading.Thread(target=send(i, r)) for i, r in enumerate((first, second))]
    threads[0].start()
    time.sleep(0.01)
    threads[1].start()
    for thread in threads:
        thread.join(timeout=60)
    done = [r for r in results if r is not None]
    assert len(done) == 2, results
    return done[0], done[1]


def _owners(emulator: EmulatorServer, sub: str, number: str) -> list[str]:
    return [n.friendly_name for n in emulator.state.owned_numbers(sub) if n.phone_number == number]


@pytest.fixture
def two_stores(api: Api, emulator: EmulatorServer) -> dict[str, str]:
    """Stores a (not onboarded) and b (onboarded for SMS); the numbers they may want."""
    enable(api)
    put_store(api, "a")
    put_store(api, "b")
    b_sms, contested, spare_a, spare_b = _free_numbers(emulator, 4)
    response = _post(api, _sms("b", b_sms))
    assert response.status_code == 201, response.text
    return {"contested": contested, "spare_a": spare_a, "spare_b": spare_b}


@pytest.mark.parametrize("order", ["sms first", "whatsapp first"])
def test_sms_and_whatsapp_racing_for_one_number_leave_it_on_one_store(
    api: Api, emulator: EmulatorServer, two_stores: dict[str, str], order: str
) -> None:
    contested = two_stores["contested"]
    sms, whatsapp = _sms("a", contested), _whatsapp("b", contested)
    emulator.state.latency = LATENCY
    try:
        if order == "sms first":
            sms_answer, wa_answer = _race(api, sms, whatsapp)
        else:
            wa_answer, sms_answer = _race(api, whatsapp, sms)
    finally:
        emulator.state.latency = 0
    statuses = (sms_answer.status_code, wa_answer.status_code)
    assert statuses in ((201, 409), (409, 202)), (sms_answer.text, wa_answer.text)
    sub = _sub(api)
    owners = _owners(emulator, sub, contested)
    if statuses == (201, 409):
        assert owners == ["clienteling:acme:store:a"]
        loser = wa_answer.json()
        assert f"{contested} is already claimed by store 'a'" in loser["message"], loser
        retry = _post(api, _whatsapp("b", two_stores["spare_b"]))
        assert retry.status_code == 202, retry.text
    else:
        assert owners == ["clienteling:acme:store:b:whatsapp"]
        loser = sms_answer.json()
        assert f"{contested} is already claimed by store 'b' (whatsapp)" in loser["message"]
        retry = _post(api, _sms("a", two_stores["spare_a"]))
        assert retry.status_code == 201, retry.text
    assert set(loser) == {"request_id", "message"}
    stores = {s["id"]: s for s in api.get("/clienteling/onboarding-status").json()["stores"]}
    assert (stores["a"]["phone_number"] == contested) == (statuses == (201, 409))
    senders = [s.sender_id for s in emulator.state.senders(sub)]
    assert senders.count(f"whatsapp:{contested}") == (1 if statuses == (409, 202) else 0)


def test_two_stores_racing_for_one_dedicated_whatsapp_number(
    api: Api, emulator: EmulatorServer
) -> None:
    enable(api)
    put_store(api, "a")
    put_store(api, "b")
    a_sms, b_sms, contested, spare = _free_numbers(emulator, 4)
    for store_id, number in (("a", a_sms), ("b", b_sms)):
        response = _post(api, _sms(store_id, number))
        assert response.status_code == 201, response.text
    emulator.state.latency = LATENCY
    try:
        first, second = _race(api, _whatsapp("a", contested), _whatsapp("b", contested))
    finally:
        emulator.state.latency = 0
    answers = {"a": first, "b": second}
    winners = [s for s, r in answers.items() if r.status_code == 202]
    losers = [s for s, r in answers.items() if r.status_code == 409]
    assert (len(winners), len(losers)) == (1, 1), (first.text, second.text)
    winner, loser = winners[0], losers[0]
    message = answers[loser].json()["message"]
    assert f"{contested} is already claimed by store '{winner}' (whatsapp)" in message
    sub = _sub(api)
    assert _owners(emulator, sub, contested) == [f"clienteling:acme:store:{winner}:whatsapp"]
    # The loser kept nothing: a retry with another number, or with none, is not stuck on 409.
    retry = _post(api, _whatsapp(loser, spare))
    assert retry.status_code == 202, retry.text
    senders = sorted(s.sender_id for s in emulator.state.senders(sub))
    assert senders == sorted([f"whatsapp:{contested}", f"whatsapp:{spare}"])


def test_numbers_of_either_channel_are_refused_to_other_stores(
    api: Api, emulator: EmulatorServer
) -> None:
    enable(api)
    put_store(api, "a")
    sms_number, wa_number = _free_numbers(emulator, 2)
    assert _post(api, _sms("a", sms_number)).status_code == 201
    assert _post(api, _whatsapp("a", wa_number)).status_code == 202
    # Neither number can be claimed by another store now, whatever the channel.
    put_store(api, "b")
    for path, body in (_sms("b", wa_number), _sms("b", sms_number)):
        refused = api.post(path, json=body)
        assert refused.status_code == 409, refused.text
        assert "store 'a'" in refused.json()["message"]
