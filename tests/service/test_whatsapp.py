"""Onboarding stores to WhatsApp: validation, registration, updates, dedicated numbers, status
callbacks and reconciliation, through real HTTP against the Twilio emulator."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from clienteling_setup.providers.messaging import AccountCredentials, SenderProfile
from clienteling_setup.providers.twilio.webhooks import compute_signature
from clienteling_setup.sync import sync_all
from tests.conftest import Service
from tests.service.helpers import available_number, enable, put_store
from tests.support import Api, assert_error
from twilio_emulator import EmulatorServer

WABA = "1234567890"
CALLBACK_PATH = "/clienteling/webhooks/twilio/whatsapp-sender-status"
PROFILE = {
    "profile_name": "Dodici Fifth Avenue",
    "profile_email": "fifth@dodici.example",
    "profile_website": "https://www.dodici.example/fifth",
    "profile_picture": "https://cdn.dodici.example/logo.png",
    "profile_description": "Giovanna Dodici is a super cool fashion brand.",
    "profile_about": "Open Mon-Sat, 10:00-20:00.",
    "profile_address": "767 Fifth Avenue, New York",
}


def _onboard(api: Api, store_id: str = "us-nyc", **body: Any) -> Any:
    return api.post(f"/clienteling/stores/{store_id}/whatsapp/onboard", json=body)


def _sub(api: Api) -> str:
    return str(api.get("/clienteling/configuration").json()["twilio"]["sid"])


def _senders(emulator: EmulatorServer, api: Api) -> list[Any]:
    return list(emulator.state.senders(_sub(api)))


def _channel(api: Api, store_id: str = "us-nyc") -> dict[str, Any]:
    status = api.get("/clienteling/onboarding-status").json()
    store = next(s for s in status["stores"] if s["id"] == store_id)
    return dict(store["channels"]["whatsapp"])


def _sms_onboard(api: Api, store_id: str, **body: Any) -> str:
    number = available_number(api, store_id)
    response = api.post(
        f"/clienteling/stores/{store_id}/onboard", json={"phone_number": number, **body}
    )
    assert response.status_code == 201, response.text
    return number


@pytest.fixture
def sms_store(api: Api) -> str:
    """A US store onboarded for SMS; returns its SMS number."""
    enable(api)
    put_store(api, "us-nyc")
    return _sms_onboard(api, "us-nyc")


def _other_number(api: Api, store_id: str, *taken: str) -> str:
    numbers = api.get(f"/clienteling/stores/{store_id}/available-phone-numbers").json()
    return str(next(n["phone_number"] for n in numbers if n["phone_number"] not in taken))


def _wait_for_callbacks(emulator: EmulatorServer, count: int) -> None:
    deadline = time.monotonic() + 10
    while len(emulator.state.callbacks) < count:
        assert time.monotonic() < deadline, "the emulator sent no callback"
        time.sleep(0.05)


# -- registration ------------------------------------------------------------------------------


def test_onboard_registers_the_sms_number_as_a_sender(
    api: Api, service: Service, emulator: EmulatorServer, sms_store: str
) -> None:
    response = _onboard(api, waba_id=WABA, **PROFILE)

    assert response.status_code == 202, response.text
    body = response.json()
    assert body["store_id"] == "us-nyc"
    assert body["sid"].startswith("XE")
    assert body["status"] == "creating"
    assert body["sender_id"] == f"whatsapp:{sms_store}"
    assert body["phone_number"] == sms_store
    assert body["waba_id"] == WABA
    assert body["quality_rating"] is None
    assert body["messaging_limit"] is None
    assert body["offline_reasons"] == []
    assert body["profile"]["name"] == PROFILE["profile_name"]
    (sender,) = _senders(emulator, api)
    assert sender.sid == body["sid"]
    assert sender.sender_id == f"whatsapp:{sms_store}"
    assert sender.configuration["waba_id"] == WABA
    assert sender.webhook["status_callback_url"] == service.base_url + CALLBACK_PATH
    assert sender.profile["name"] == PROFILE["profile_name"]
    assert sender.profile["about"] == PROFILE["profile_about"]
    assert sender.profile["address"] == PROFILE["profile_address"]
    assert sender.profile["description"] == PROFILE["profile_description"]
    assert sender.profile["logo_url"] == PROFILE["profile_picture"]
    assert [e["email"] for e in sender.profile["emails"]] == [PROFILE["profile_email"]]
    assert [w["website"] for w in sender.profile["websites"]] == [PROFILE["profile_website"]]
    channel = _channel(api)
    assert channel["sid"] == body["sid"]
    assert channel["status"] == "creating"
    assert channel["waba"] == WABA
    assert channel["phone_number"] == sms_store


def test_status_follows_the_senders_callbacks(
    api: Api, emulator: EmulatorServer, sms_store: str
) -> None:
    sid = _onboard(api, waba_id=WABA, profile_name="Dodici").json()["sid"]

    callbacks = emulator.state.advance_clock(30)

    assert [c.status_code for c in callbacks] == [204]
    assert _channel(api) == {
        "sid": sid,
        "status": "online",
        "waba": WABA,
        "quality_rating": "UNKNOWN",
        "messaging_limit": "1K Customers/24hr",
        "offline_reasons": [],
        "phone_number": sms_store,
        "last_error": None,
    }
    emulator.state.set_sender_properties(sid, quality_rating="HIGH", messaging_limit="10K")
    channel = _channel(api)
    assert (channel["quality_rating"], channel["messaging_limit"]) == ("HIGH", "10K")


def test_a_store_without_a_sender_is_not_onboarded(api: Api, sms_store: str) -> None:
    assert _channel(api) == {
        "sid": None,
        "status": "not_onboarded",
        "waba": None,
        "quality_rating": None,
        "messaging_limit": None,
        "offline_reasons": [],
        "phone_number": None,
        "last_error": None,
    }


def test_repeat_updates_the_profile_of_the_one_sender(
    api: Api, emulator: EmulatorServer, sms_store: str
) -> None:
    first = _onboard(api, waba_id=WABA, profile_name="Dodici")
    emulator.state.advance_clock(30)

    again = _onboard(api, profile_name="Dodici Fifth", profile_about="New hours")

    assert first.status_code == 202
    assert again.status_code == 200, again.text
    body = again.json()
    assert body["sid"] == first.json()["sid"]
    assert body["status"] == "online:updating"
    assert body["profile"]["name"] == "Dodici Fifth"
    (sender,) = _senders(emulator, api)
    assert sender.profile["name"] == "Dodici Fifth"
    assert sender.profile["about"] == "New hours"
    _wait_for_callbacks(emulator, 2)  # ONLINE, then ONLINE:UPDATING (sent in the background)
    emulator.state.advance_clock(30)
    assert _channel(api)["status"] == "online"
    assert len(_senders(emulator, api)) == 1


def test_repeat_with_another_waba_or_number_is_409(
    api: Api, emulator: EmulatorServer, sms_store: str
) -> None:
    _onboard(api, waba_id=WABA, profile_name="Dodici")
    assert_error(
        _onboard(api, waba_id="99999999", profile_name="Dodici"), 409, "1234567890", "waba_id"
    )
    other = _other_number(api, "us-nyc", sms_store)
    assert_error(
        _onboard(api, profile_name="Dodici", whatsapp_phone_number=other),
        409,
        "already registered",
        sms_store,
    )
    assert len(_senders(emulator, api)) == 1


# -- reading the registration -----------------------------------------------------------------


def _registration(api: Api, store_id: str = "us-nyc") -> Any:
    return api.get(f"/clienteling/stores/{store_id}/whatsapp")


def test_the_registration_reads_back_every_profile_field(
    api: Api, emulator: EmulatorServer, sms_store: str
) -> None:
    sid = _onboard(api, waba_id=WABA, **PROFILE).json()["sid"]
    emulator.state.advance_clock(30)

    response = _registration(api)

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["store_id"] == "us-nyc"
    assert body["sid"] == sid
    assert body["status"] == "online"
    assert body["waba_id"] == WABA
    assert body["phone_number"] == sms_store
    assert body["sender_id"] == f"whatsapp:{sms_store}"
    assert body["quality_rating"] == "UNKNOWN"
    assert body["messaging_limit"] == "1K Customers/24hr"
    assert body["offline_reasons"] == []
    assert body["last_error"] is None
    assert body["profile"] == {
        "name": PROFILE["profile_name"],
        "email": PROFILE["profile_email"],
        "website": PROFILE["profile_website"],
        "picture": PROFILE["profile_picture"],
        "description": PROFILE["profile_description"],
        "about": PROFILE["profile_about"],
        "address": PROFILE["profile_address"],
    }


def test_the_registration_follows_a_profile_update(
    api: Api, emulator: EmulatorServer, sms_store: str
) -> None:
    _onboard(api, waba_id=WABA, **PROFILE)
    emulator.state.advance_clock(30)
    _onboard(api, profile_name="Dodici Fifth", profile_about="New hours")

    profile = _registration(api).json()["profile"]

    assert (profile["name"], profile["about"]) == ("Dodici Fifth", "New hours")


def test_an_offline_registration_reads_its_reasons(
    api: Api, emulator: EmulatorServer, sms_store: str
) -> None:
    emulator.state.mark_waba_bad(WABA, "WhatsApp Business Account is disabled")
    _onboard(api, waba_id=WABA, profile_name="D")
    emulator.state.advance_clock(30)

    body = _registration(api).json()

    assert body["status"] == "offline"
    assert body["offline_reasons"] == ["63112: WhatsApp Business Account is disabled"]


def test_a_failed_registration_reads_its_last_error(
    api: Api, emulator: EmulatorServer, sms_store: str
) -> None:
    emulator.state.add_fault(
        method="POST", path=r"/v2/Channels/Senders$", kind="error", status=500, times=None
    )
    failed = _onboard(api, waba_id=WABA, **PROFILE)
    assert failed.status_code == 502, failed.text

    body = _registration(api).json()

    assert body["sid"] is None
    assert body["profile"]["name"] == PROFILE["profile_name"]
    assert body["last_error"]["request_id"] == failed.json()["request_id"]
    assert body["last_error"]["message"]
    assert body["last_error"]["at"]


def test_a_store_without_registration_is_404_saying_how_to_register(
    api: Api, sms_store: str
) -> None:
    assert_error(
        _registration(api),
        404,
        "no WhatsApp registration",
        "/clienteling/stores/us-nyc/whatsapp/onboard",
    )


def test_reading_the_registration_of_an_unknown_store_is_404(api: Api) -> None:
    enable(api)
    assert_error(_registration(api, "nope"), 404, "nope")


def test_the_registration_read_is_documented(api: Api) -> None:
    spec = api.client.get("/openapi.json").json()
    operation = spec["paths"]["/clienteling/stores/{store_id}/whatsapp"]["get"]
    assert "Beyond the reference" in operation["description"]
    assert {"401", "403", "404"} <= set(operation["responses"])
    schemas = spec["components"]["schemas"]
    registration = schemas["WhatsAppRegistrationRead"]["properties"]
    for field in ("quality_rating", "messaging_limit", "offline_reasons", "last_error"):
        assert registration[field]["description"], field
    profile = schemas["WhatsAppProfileRead"]["properties"]
    assert all(profile[f]["description"] for f in profile)


# -- rules -------------------------------------------------------------------------------------


def test_sms_first(api: Api, emulator: EmulatorServer) -> None:
    enable(api)
    put_store(api, "us-nyc")
    response = _onboard(api, waba_id=WABA, profile_name="Dodici")
    assert_error(response, 400, "not onboarded for SMS", "POST /clienteling/stores/us-nyc/onboard")
    assert emulator.state.senders() == []


def test_not_enabled_is_400(api: Api) -> None:
    put_store(api, "us-nyc")
    assert_error(
        _onboard(api, waba_id=WABA, profile_name="D"), 400, "POST /clienteling/configuration"
    )


def test_unknown_store_is_404(api: Api) -> None:
    enable(api)
    assert_error(_onboard(api, "nope", waba_id=WABA, profile_name="D"), 404, "nope")


@pytest.mark.parametrize(
    ("body", "fragments"),
    [
        ({"waba_id": WABA}, ("'profile_name' is required",)),
        ({"waba_id": WABA, "profile_name": "   "}, ("profile_name must not be blank",)),
        ({"waba_id": WABA, "profile_name": "D", "profile_email": "nope"}, ("profile_email",)),
        (
            {"waba_id": WABA, "profile_name": "D", "profile_email": "a@b@c.example"},
            ("profile_email", "not a valid email"),
        ),
        (
            {"waba_id": WABA, "profile_name": "D", "profile_website": "http://dodici.example"},
            ("profile_website", "https://"),
        ),
        (
            {"waba_id": WABA, "profile_name": "D", "profile_website": "www.dodici.example"},
            ("profile_website", "absolute URL"),
        ),
        (
            {"waba_id": WABA, "profile_name": "D", "profile_picture": "/logo.png"},
            ("profile_picture", "absolute URL"),
        ),
        (
            {"waba_id": WABA, "profile_name": "D", "profile_picture": "http://cdn.example/a.png"},
            ("profile_picture", "https://", "profile-picture-upload-url"),
        ),
        (
            {"waba_id": WABA, "profile_name": "D", "profile_picture": "ftp://cdn.example/a.png"},
            ("profile_picture",),
        ),
        ({"waba_id": "WABA-1", "profile_name": "D"}, ("waba_id",)),
        ({"waba_id": WABA, "profile_name": "D", "profile_about": "a" * 140}, ("profile_about",)),
        (
            {"waba_id": WABA, "profile_name": "D", "whatsapp_phone_number": "2125550100"},
            ("whatsapp_phone_number",),
        ),
        (
            {"waba_id": WABA, "profile_name": "D", "whatsapp_phone_number": "+1212555"},
            ("whatsapp_phone_number",),
        ),
        (
            {
                "waba_id": WABA,
                "profile_name": "D",
                "whatsapp_phone_number": "+12125550100",
                "bundle_sid": "BU" + "a" * 32,
            },
            ("bundle_sid and address_sid go together", "address_sid is missing"),
        ),
        (
            {
                "waba_id": WABA,
                "profile_name": "D",
                "bundle_sid": "BU" + "a" * 32,
                "address_sid": "AD" + "a" * 32,
            },
            ("whatsapp_phone_number",),
        ),
        ({"waba_id": WABA, "profile_name": "D", "profile_nmae": "x"}, ("profile_nmae",)),
    ],
)
def test_validation(
    api: Api, emulator: EmulatorServer, body: dict[str, Any], fragments: Any
) -> None:
    # Body rules answer before the store is even looked up (this one does not exist).
    assert_error(_onboard(api, **body), 400, *fragments)
    assert emulator.state.senders() == []


@pytest.mark.parametrize(
    ("body", "fragments"),
    [
        (
            {"waba_id": WABA, "profile_name": "D", "whatsapp_phone_number": "+4930901820"},
            ("whatsapp_phone_number", "not of the store's country US"),
        ),
        ({"profile_name": "D"}, ("'waba_id' is required", "not in a sender group")),
    ],
)
def test_validation_against_the_store(
    api: Api, emulator: EmulatorServer, sms_store: str, body: dict[str, Any], fragments: Any
) -> None:
    assert_error(_onboard(api, **body), 400, *fragments)
    assert emulator.state.senders() == []
    assert _channel(api)["status"] == "not_onboarded"


def test_validation_comes_before_the_unknown_store(api: Api) -> None:
    enable(api)
    assert_error(_onboard(api, "nope", waba_id=WABA, profile_name=" "), 400, "profile_name")


def test_a_picture_on_the_embedded_storage_may_be_plain_http(
    api: Api, service: Service, emulator: EmulatorServer, sms_store: str
) -> None:
    upload = api.post(
        "/clienteling/whatsapp/profile-picture-upload-url", json={"file_name": "logo.png"}
    ).json()
    assert upload["public_url"].startswith("http://")

    response = _onboard(api, waba_id=WABA, profile_name="D", profile_picture=upload["public_url"])

    assert response.status_code == 202, response.text
    assert _senders(emulator, api)[0].profile["logo_url"] == upload["public_url"]


# -- sender groups -----------------------------------------------------------------------------


def _group_store(api: Api, waba_id: str | None) -> None:
    enable(api)
    group: dict[str, Any] = {"name": "Shared"} | ({"waba_id": waba_id} if waba_id else {})
    assert api.put("/clienteling/sender-groups/shared", json=group).status_code == 201
    put_store(api, "us-nyc")
    _sms_onboard(api, "us-nyc", kind="join_existing_group", sender_group_id="shared")


def test_the_waba_of_the_sender_group_is_inherited(api: Api, emulator: EmulatorServer) -> None:
    _group_store(api, "5550001111")

    response = _onboard(api, profile_name="Dodici")

    assert response.status_code == 202, response.text
    assert response.json()["waba_id"] == "5550001111"
    assert _senders(emulator, api)[0].configuration["waba_id"] == "5550001111"
    assert _channel(api)["waba"] == "5550001111"


def test_a_waba_sent_wins_over_the_groups(api: Api, emulator: EmulatorServer) -> None:
    _group_store(api, "5550001111")
    assert _onboard(api, waba_id=WABA, profile_name="Dodici").json()["waba_id"] == WABA
    assert _senders(emulator, api)[0].configuration["waba_id"] == WABA


def test_a_group_without_waba_needs_one_sent(api: Api, emulator: EmulatorServer) -> None:
    _group_store(api, None)
    assert_error(
        _onboard(api, profile_name="Dodici"),
        400,
        "'waba_id' is required",
        "sender group 'shared'",
        "PUT /clienteling/sender-groups/shared",
    )
    assert emulator.state.senders() == []


# -- dedicated numbers -------------------------------------------------------------------------


def _owned(emulator: EmulatorServer, api: Api) -> dict[str, Any]:
    return {n.phone_number: n for n in emulator.state.owned_numbers(_sub(api))}


def test_a_dedicated_number_is_bought_once_and_registered(
    api: Api, emulator: EmulatorServer, sms_store: str
) -> None:
    dedicated = _other_number(api, "us-nyc", sms_store)

    response = _onboard(api, waba_id=WABA, profile_name="D", whatsapp_phone_number=dedicated)

    assert response.status_code == 202, response.text
    body = response.json()
    assert body["phone_number"] == dedicated
    assert body["sender_id"] == f"whatsapp:{dedicated}"
    owned = _owned(emulator, api)
    assert set(owned) == {sms_store, dedicated}
    assert owned[dedicated].friendly_name == "clienteling:acme:store:us-nyc:whatsapp"
    assert body["phone_number_sid"] == owned[dedicated].sid
    assert [s.sender_id for s in _senders(emulator, api)] == [f"whatsapp:{dedicated}"]
    assert _channel(api)["phone_number"] == dedicated
    # Calls to it reach the store like calls to its SMS number.
    voice_app = api.get("/clienteling/configuration").json()["twilio"]["call_forwarding"]["sid"]
    assert owned[dedicated].voice_application_sid == voice_app

    again = _onboard(api, profile_name="D2", whatsapp_phone_number=dedicated)
    assert again.status_code == 200, again.text
    assert len(_owned(emulator, api)) == 2
    assert len(_senders(emulator, api)) == 1
    # Without whatsapp_phone_number a repeat keeps the registered number.
    assert _onboard(api, profile_name="D3").json()["phone_number"] == dedicated


@pytest.mark.parametrize("status", [500, 0], ids=["error-after-apply", "dropped-after-apply"])
def test_a_purchase_failing_after_twilio_applied_it_is_finished_by_the_retry(
    api: Api, emulator: EmulatorServer, sms_store: str, status: int
) -> None:
    dedicated = _other_number(api, "us-nyc", sms_store)
    emulator.state.add_fault(
        method="POST", path=r"/IncomingPhoneNumbers\.json$", kind="after_apply", status=status
    )
    first = _onboard(api, waba_id=WABA, profile_name="D", whatsapp_phone_number=dedicated)
    assert first.status_code in (202, 502, 503), first.text
    emulator.state.clear_faults()

    retry = _onboard(api, waba_id=WABA, profile_name="D", whatsapp_phone_number=dedicated)

    assert retry.status_code in (200, 202), retry.text
    purchases = [
        r
        for r in emulator.state.requests
        if r.method == "POST" and r.path.endswith("/IncomingPhoneNumbers.json")
    ]
    assert len(purchases) == 2  # the SMS number and the dedicated one: none bought twice
    assert set(_owned(emulator, api)) == {sms_store, dedicated}
    assert [s.sender_id for s in _senders(emulator, api)] == [f"whatsapp:{dedicated}"]


def test_a_sender_creation_failing_after_twilio_applied_it_is_adopted(
    api: Api, emulator: EmulatorServer, sms_store: str
) -> None:
    emulator.state.add_fault(
        method="POST", path=r"/v2/Channels/Senders$", kind="after_apply", status=500
    )
    first = _onboard(api, waba_id=WABA, profile_name="D")
    emulator.state.clear_faults()
    retry = _onboard(api, waba_id=WABA, profile_name="D")

    assert first.status_code in (202, 502, 503), first.text
    assert retry.status_code in (200, 202), retry.text
    (sender,) = _senders(emulator, api)
    assert retry.json()["sid"] == sender.sid
    assert _channel(api)["sid"] == sender.sid


def test_a_sender_twilio_has_but_we_never_recorded_is_adopted(
    api: Api, service: Service, emulator: EmulatorServer, sms_store: str
) -> None:
    # An earlier attempt created the sender, then crashed before recording it.
    emulator.state.add_fault(
        method="POST", path=r"/v2/Channels/Senders$", kind="error", status=500, times=None
    )
    assert _onboard(api, waba_id=WABA, profile_name="D").status_code == 502
    emulator.state.clear_faults()
    assert _channel(api)["status"] == "pending"
    sub = _sub(api)
    account = AccountCredentials(sub, emulator.state.accounts[sub].auth_token)
    created = service.runtime.gateway.create_sender(
        account,
        sender_id=f"whatsapp:{sms_store}",
        waba_id=WABA,
        profile=SenderProfile(name="D"),
        status_callback_url=service.base_url + CALLBACK_PATH,
    )

    sync_all(service.runtime)

    assert _channel(api)["sid"] == created.sid
    assert _channel(api)["status"] == "creating"
    assert _onboard(api, profile_name="D").status_code == 200
    assert len(_senders(emulator, api)) == 1


def test_a_dedicated_number_of_another_store_is_409(
    api: Api, emulator: EmulatorServer, sms_store: str
) -> None:
    put_store(api, "us-bos", name="Boston", region="MA", locality="Boston", postal_code="02116")
    boston = _sms_onboard(api, "us-bos")
    response = _onboard(api, waba_id=WABA, profile_name="D", whatsapp_phone_number=boston)
    assert_error(response, 409, boston, "'us-bos'")
    assert emulator.state.senders() == []


def test_the_sms_number_sent_as_whatsapp_number_is_not_bought_again(
    api: Api, emulator: EmulatorServer, sms_store: str
) -> None:
    response = _onboard(api, waba_id=WABA, profile_name="D", whatsapp_phone_number=sms_store)
    assert response.status_code == 202, response.text
    assert set(_owned(emulator, api)) == {sms_store}


def test_a_number_taken_meanwhile_is_400_and_frees_the_store(
    api: Api, emulator: EmulatorServer, sms_store: str
) -> None:
    dedicated = _other_number(api, "us-nyc", sms_store)
    emulator.state.make_number_unavailable(dedicated)

    response = _onboard(api, waba_id=WABA, profile_name="D", whatsapp_phone_number=dedicated)

    assert_error(response, 400, "no longer available")
    assert _channel(api)["status"] == "not_onboarded"
    other = _other_number(api, "us-nyc", sms_store, dedicated)
    retry = _onboard(api, waba_id=WABA, profile_name="D", whatsapp_phone_number=other)
    assert retry.status_code == 202, retry.text


def _de_store(api: Api) -> tuple[str, dict[str, Any]]:
    enable(api)
    put_store(api, "de-ber")
    bundles = api.get("/clienteling/stores/de-ber/regulatory-bundles").json()
    bundle = next(b for b in bundles if b["status"] == "twilio-approved")
    terms = {"bundle_sid": bundle["sid"], "address_sid": bundle["address_sid"]}
    return _sms_onboard(api, "de-ber", **terms), terms


def test_a_dedicated_number_in_a_bundle_country_needs_a_bundle(
    api: Api, emulator: EmulatorServer
) -> None:
    sms, terms = _de_store(api)
    dedicated = _other_number(api, "de-ber", sms)

    missing = _onboard(
        api, "de-ber", waba_id=WABA, profile_name="D", whatsapp_phone_number=dedicated
    )
    assert_error(missing, 400, "regulatory bundle", "/clienteling/stores/de-ber/regulatory-bundles")
    assert set(_owned(emulator, api)) == {sms}

    response = _onboard(
        api, "de-ber", waba_id=WABA, profile_name="D", whatsapp_phone_number=dedicated, **terms
    )
    assert response.status_code == 202, response.text
    assert _owned(emulator, api)[dedicated].bundle_sid == terms["bundle_sid"]


# -- status callbacks --------------------------------------------------------------------------


def _callback(
    api: Api, service: Service, emulator: EmulatorServer, params: dict[str, str], **kw: Any
) -> Any:
    token = emulator.state.accounts[params["AccountSid"]].auth_token
    signature = kw.pop(
        "signature", compute_signature(token, service.base_url + CALLBACK_PATH, params)
    )
    headers = {} if signature is None else {"X-Twilio-Signature": signature}
    return api.client.post(CALLBACK_PATH, data=params, headers=headers)


def _offline_params(api: Api, sid: str, number: str) -> dict[str, str]:
    return {
        "AccountSid": _sub(api),
        "SenderSid": sid,
        "SenderId": f"whatsapp:{number}",
        "Status": "OFFLINE",
        "WabaId": WABA,
        "QualityRating": "LOW",
        "MessagingLimit": "250 Customers/24hr",
        "OfflineReasons": json.dumps(
            [{"code": "63112", "message": "WhatsApp Business Account is disabled"}]
        ),
    }


def test_a_signed_callback_is_recorded(
    api: Api, service: Service, emulator: EmulatorServer, sms_store: str
) -> None:
    sid = _onboard(api, waba_id=WABA, profile_name="D").json()["sid"]

    response = _callback(api, service, emulator, _offline_params(api, sid, sms_store))

    assert response.status_code == 204, response.text
    channel = _channel(api)
    assert channel["status"] == "offline"
    assert channel["quality_rating"] == "LOW"
    assert channel["messaging_limit"] == "250 Customers/24hr"
    assert channel["offline_reasons"] == ["63112: WhatsApp Business Account is disabled"]


@pytest.mark.parametrize("signature", [None, "", "bm90IGEgc2lnbmF0dXJl"])
def test_a_callback_without_a_valid_signature_is_403_and_changes_nothing(
    api: Api, service: Service, emulator: EmulatorServer, sms_store: str, signature: str | None
) -> None:
    sid = _onboard(api, waba_id=WABA, profile_name="D").json()["sid"]

    response = _callback(
        api, service, emulator, _offline_params(api, sid, sms_store), signature=signature
    )

    assert_error(response, 403, "X-Twilio-Signature")
    assert _channel(api)["status"] == "creating"


def test_a_callback_signed_for_other_params_is_403(
    api: Api, service: Service, emulator: EmulatorServer, sms_store: str
) -> None:
    sid = _onboard(api, waba_id=WABA, profile_name="D").json()["sid"]
    params = _offline_params(api, sid, sms_store)
    token = emulator.state.accounts[params["AccountSid"]].auth_token
    signed = compute_signature(token, service.base_url + CALLBACK_PATH, {**params, "Status": "X"})

    assert_error(_callback(api, service, emulator, params, signature=signed), 403)
    assert _channel(api)["status"] == "creating"


def test_an_offline_waba_is_shown_with_its_reason(
    api: Api, emulator: EmulatorServer, sms_store: str
) -> None:
    emulator.state.mark_waba_bad(WABA, "WhatsApp Business Account is disabled")
    _onboard(api, waba_id=WABA, profile_name="D")

    emulator.state.advance_clock(30)

    channel = _channel(api)
    assert channel["status"] == "offline"
    assert channel["offline_reasons"] == ["63112: WhatsApp Business Account is disabled"]


def test_reconciliation_repairs_a_lost_callback(
    api: Api, service: Service, emulator: EmulatorServer, sms_store: str
) -> None:
    sid = _onboard(api, waba_id=WABA, profile_name="D").json()["sid"]
    emulator.state.drop_callbacks = True
    lost = emulator.state.advance_clock(30)
    assert [c.status_code for c in lost] == [None]  # recorded as lost, never sent
    assert _channel(api)["status"] == "creating"

    report = sync_all(service.runtime)

    assert "acme" in report.done, report.lines()
    channel = _channel(api)
    assert (channel["sid"], channel["status"], channel["quality_rating"]) == (
        sid,
        "online",
        "UNKNOWN",
    )
