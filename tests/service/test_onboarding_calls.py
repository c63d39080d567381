"""Issue #16, acceptance 1: one onboarding costs the same Twilio calls whatever the tenant's
size. Counted in the emulator's request log, one SMS and one WhatsApp onboarding in a tenant
with nothing in its Messaging Service, then again once 500 numbers (and 500 WhatsApp senders)
are there: equal counts, at most 2 for SMS (buy, add to the service) and 1 for WhatsApp
(create the sender) on the happy path."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from clienteling_setup.providers.messaging import AccountCredentials, SenderProfile
from clienteling_setup.providers.twilio import TwilioGateway
from tests.service.a2p_helpers import complete_registration
from tests.service.helpers import enable, put_store
from tests.support import Api
from twilio_emulator import EmulatorServer

EXISTING = 500
WABA = "123456789012"


@pytest.fixture
def big_pool(emulator: EmulatorServer) -> Iterator[None]:
    """Enough US numbers for 500 stores (the shared emulator sells about a hundred)."""
    before = emulator.state.pool_scale
    emulator.state.pool_scale = 8
    yield
    emulator.state.pool_scale = before


def fill_service(api: Api, emulator: EmulatorServer, count: int) -> None:
    """`count` more numbers in the tenant's Messaging Service, each with a WhatsApp sender,
    put there directly in Twilio (as earlier onboardings would have)."""
    twilio = api.get("/clienteling/configuration").json()["twilio"]
    account = emulator.state.account(twilio["sid"])
    assert account is not None
    tenant = AccountCredentials(account.sid, account.auth_token)
    gateway = TwilioGateway(
        emulator.state.master_account_sid,
        emulator.state.master_auth_token,
        base_url=emulator.base_url,
    )
    try:
        free = [n.phone_number for n in emulator.state.pool("US", "local")][:count]
        assert len(free) == count
        for phone in free:
            number = gateway.buy_number(tenant, phone, friendly_name=f"elsewhere {phone}")
            gateway.add_number_to_messaging_service(
                tenant, twilio["messaging_service_sid"], number.sid
            )
            gateway.create_sender(
                tenant,
                sender_id=f"whatsapp:{phone}",
                waba_id=WABA,
                profile=SenderProfile(name="Elsewhere"),
                status_callback_url="http://127.0.0.1:9/unused",
            )
    finally:
        gateway.close()
    assert len(emulator.state.messaging_service_numbers(twilio["messaging_service_sid"])) >= count


def twilio_calls(emulator: EmulatorServer) -> list[str]:
    """The calls on the tenant's account. The price list aside: one read per country every
    few minutes, the same whatever the tenant's size (the ledger records each purchase's
    price; `tests/integration/test_twilio_gateway.py::TestNumberPrices`)."""
    return [f"{r.method} {r.path}" for r in emulator.state.requests if r.host != "pricing"]


def onboard_both(api: Api, emulator: EmulatorServer, store_id: str) -> tuple[list[str], list[str]]:
    """The Twilio calls of the store's SMS onboarding, then of its WhatsApp onboarding."""
    put_store(api, store_id)
    # A number for sale now (the service's list of offers may be cached from before the fill).
    number = emulator.state.pool("US", "local")[0].phone_number
    emulator.state.clear_requests()
    sms = api.post(f"/clienteling/stores/{store_id}/onboard", json={"phone_number": number})
    assert sms.status_code == 201, sms.text
    sms_calls = twilio_calls(emulator)
    emulator.state.clear_requests()
    body: dict[str, Any] = {"waba_id": WABA, "profile_name": "Dodici"}
    whatsapp = api.post(f"/clienteling/stores/{store_id}/whatsapp/onboard", json=body)
    assert whatsapp.status_code == 202, whatsapp.text
    return sms_calls, twilio_calls(emulator)


@pytest.mark.usefixtures("big_pool")
def test_an_onboarding_costs_the_same_twilio_calls_at_0_and_500_existing_numbers(
    api: Api, emulator: EmulatorServer
) -> None:
    enable(api)
    complete_registration(api, emulator)  # the US stores can send (A2P 10DLC)
    small_sms, small_whatsapp = onboard_both(api, emulator, "first")
    fill_service(api, emulator, EXISTING)
    large_sms, large_whatsapp = onboard_both(api, emulator, "later")

    assert len(large_sms) == len(small_sms) <= 2
    assert len(large_whatsapp) == len(small_whatsapp) <= 1
    # What they are: the purchase (with everything set in it), the service, the sender.
    assert [call.rsplit("/", 1)[-1] for call in large_sms] == [
        "IncomingPhoneNumbers.json",
        "PhoneNumbers",
    ]
    assert large_whatsapp == ["POST /v2/Channels/Senders"]
    status = api.get("/clienteling/onboarding-status").json()
    channels = {s["id"]: s["channels"] for s in status["stores"]}
    assert channels["later"]["sms"]["status"] == "onboarded"
    assert channels["later"]["whatsapp"]["status"] != "not_onboarded"
