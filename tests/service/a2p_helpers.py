"""The US A2P 10DLC registration done through the API and the emulator's review controls, for
tests that need a US store that can send (its Messaging Service has a VERIFIED campaign)."""

from __future__ import annotations

import copy
import time
from typing import Any

import httpx

from twilio_emulator import EmulatorServer, EmulatorState

#: The service's API as a test holds it: `tests.support.Api` or an `httpx.Client` on a
#: server process (both have get, put and post taking `json=`).
Client = Any

BUSINESS_PROFILE: dict[str, Any] = {
    "legal_name": "Dodici Retail Inc",
    "business_type": "Corporation",
    "industry": "RETAIL",
    "registration_number": "12-3456789",
    "registration_type": "EIN",
    "regions_of_operation": ["USA_AND_CANADA"],
    "address": {
        "street": "350 5th Ave",
        "city": "New York",
        "region": "NY",
        "postal_code": "10118",
        "country": "US",
    },
    "authorized_representative": {
        "first_name": "Ada",
        "last_name": "Lovelace",
        "title": "Head of Retail",
        "job_position": "VP",
        "email": "ada@dodici.example",
        "phone": "+12025550143",
    },
    "company_type": "private",
}


def business_profile(**overrides: Any) -> dict[str, Any]:
    return {**copy.deepcopy(BUSINESS_PROFILE), **overrides}


def put_business_profile(api: Client, **overrides: Any) -> dict[str, Any]:
    response = api.put("/clienteling/business-profile", json=business_profile(**overrides))
    assert response.status_code in (200, 201), response.text
    return response.json()  # type: ignore[no-any-return]


def start_registration(api: Client) -> dict[str, Any]:
    response = api.post("/clienteling/a2p-registration")
    assert response.status_code == 202, response.text
    return response.json()  # type: ignore[no-any-return]


def stage(registration: dict[str, Any], name: str) -> dict[str, Any]:
    return next(s for s in registration["stages"] if s["stage"] == name)


#: An emulator: in this process (the server or its state), or another's base URL (its admin
#: API under ``/_emulator``, e.g. the embedded default's).
Emulator = EmulatorServer | EmulatorState | str


def pass_reviews(emulator: Emulator, what: str = "brand") -> None:
    """Let Twilio's reviews end on the emulator clock: the bundles' and the brand's
    (`what="brand"`), or the campaigns' (`what="campaign"`)."""
    if isinstance(emulator, str):
        advanced = httpx.post(
            f"{emulator}/_emulator/clock/advance", json={"seconds": 1000}, timeout=30
        )
        assert advanced.status_code == 200, advanced.text
        return
    state = emulator.state if isinstance(emulator, EmulatorServer) else emulator
    if what == "brand":
        state.advance_clock(state.a2p_profile_review_seconds + state.brand_review_seconds)
    else:
        state.advance_clock(state.campaign_review_seconds)


def complete_registration(api: Client, emulator: Emulator | None) -> dict[str, Any]:
    """Business profile, registration, the reviews passed: every Messaging Service of the
    tenant has a VERIFIED campaign. The registration as the API then shows it. Without an
    emulator to drive (the embedded default's, whose clock runs in real time and whose reviews
    take seconds), the registration is resumed until its reviews are over."""
    if api.get("/clienteling/business-profile").status_code == 404:
        put_business_profile(api)
    if emulator is None:
        deadline = time.monotonic() + 90
        while True:
            registration = start_registration(api)
            if registration["status"] == "registered":
                return registration
            assert time.monotonic() < deadline, registration
            time.sleep(0.5)
    start_registration(api)
    pass_reviews(emulator, "brand")
    start_registration(api)  # resumes: the campaigns, now that the brand is approved
    pass_reviews(emulator, "campaign")
    registration = start_registration(api)
    assert registration["status"] == "registered", registration
    return registration
