"""Issue #17 (items 2 and 5): the status document says why a store is stuck (each channel's
last error and the number a pending onboarding holds), and it is cheap to poll (an entity tag
answered with 304 while nothing changed, gzip on the wire)."""

from __future__ import annotations

import gzip
from datetime import datetime
from typing import Any

import orjson

from clienteling_setup.status.repository import StatusRepository
from clienteling_setup.status.view import build_document, build_status
from clienteling_setup.stores.schemas import StoreImportRow
from clienteling_setup.stores.service import import_stores
from tests.conftest import Service
from tests.service.helpers import available_number, enable, put_store
from tests.support import Api
from twilio_emulator import EmulatorServer

STATUS = "/clienteling/onboarding-status"
PURCHASE = r"/IncomingPhoneNumbers\.json$"
SENDERS = r"/v2/Channels/Senders$"


def store_of(api: Api, store_id: str) -> dict[str, Any]:
    status = api.get(STATUS).json()
    return next(s for s in status["stores"] if s["id"] == store_id)


def assert_stored_entries_match_the_rows(api: Api, service: Service) -> None:
    """The stored entry of every store is what a build from the rows gives, byte for byte."""
    with service.runtime.uows.of(api.tenant) as uow:
        status = StatusRepository(uow.session, api.tenant)
        assembled = build_document(status, uow.requirements)
        assert assembled == orjson.dumps(build_status(status, uow.requirements))


def test_a_store_stuck_after_a_twilio_failure_shows_its_number_and_error(
    api: Api, service: Service, emulator: EmulatorServer
) -> None:
    enable(api)
    put_store(api, "us-nyc")
    put_store(api, "us-bos")
    number = available_number(api, "us-nyc")
    emulator.state.add_fault(method="POST", path=PURCHASE, kind="error", status=503)
    failed = api.post("/clienteling/stores/us-nyc/onboard", json={"phone_number": number})
    assert failed.status_code == 503, failed.text

    sms = store_of(api, "us-nyc")["channels"]["sms"]
    assert sms["status"] == "pending"
    assert sms["pending_phone_number"] == number
    error = sms["last_error"]
    assert error["request_id"] == failed.json()["request_id"]
    assert error["message"] == "ProviderUnavailable: Service Unavailable"
    assert datetime.fromisoformat(error["at"]).tzinfo is not None
    # A store never tried says nothing of either.
    untouched = store_of(api, "us-bos")["channels"]["sms"]
    assert untouched == {
        "status": "not_onboarded",
        "pending_phone_number": None,
        "last_error": None,
    }
    assert_stored_entries_match_the_rows(api, service)

    # The same request again finishes the job: the error and the pending number are gone (a US
    # store: its number is ready, its texts wait on the A2P 10DLC campaign).
    retry = api.post("/clienteling/stores/us-nyc/onboard", json={"phone_number": number})
    assert retry.status_code == 201, retry.text
    store = store_of(api, "us-nyc")
    assert store["phone_number"] == number
    assert store["channels"]["sms"] == {
        "status": "registration_pending",
        "pending_phone_number": None,
        "last_error": None,
    }
    assert_stored_entries_match_the_rows(api, service)


def test_a_whatsapp_registration_that_failed_shows_its_error(
    api: Api, service: Service, emulator: EmulatorServer
) -> None:
    enable(api)
    put_store(api, "us-nyc")
    number = available_number(api, "us-nyc")
    assert api.post("/clienteling/stores/us-nyc/onboard", json={"phone_number": number}).is_success
    emulator.state.add_fault(method="POST", path=SENDERS, kind="error", status=500, times=None)
    failed = api.post(
        "/clienteling/stores/us-nyc/whatsapp/onboard",
        json={"waba_id": "1234567890", "profile_name": "Dodici"},
    )
    assert failed.status_code == 502, failed.text
    whatsapp = store_of(api, "us-nyc")["channels"]["whatsapp"]
    assert whatsapp["sid"] is None
    assert whatsapp["phone_number"] == number
    assert whatsapp["last_error"]["request_id"] == failed.json()["request_id"]
    assert whatsapp["last_error"]["message"]
    assert_stored_entries_match_the_rows(api, service)

    emulator.state.clear_faults()
    retried = api.post(
        "/clienteling/stores/us-nyc/whatsapp/onboard",
        json={"waba_id": "1234567890", "profile_name": "Dodici"},
    )
    assert retried.status_code == 202, retried.text
    assert store_of(api, "us-nyc")["channels"]["whatsapp"]["last_error"] is None
    assert_stored_entries_match_the_rows(api, service)


def test_an_unchanged_status_is_answered_with_304_and_a_change_with_the_document(
    api: Api,
) -> None:
    put_store(api, "us-nyc")
    first = api.get(STATUS)
    assert first.status_code == 200
    tag = first.headers["ETag"]
    assert tag.startswith('W/"')
    assert first.headers["Cache-Control"] == "no-cache"

    again = api.get(STATUS, headers={"If-None-Match": tag})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["ETag"] == tag
    # A proxy may drop the weak prefix; a list of tags matches when one does.
    assert api.get(STATUS, headers={"If-None-Match": tag[2:]}).status_code == 304
    assert api.get(STATUS, headers={"If-None-Match": f'"other", {tag}'}).status_code == 304

    put_store(api, "us-bos")
    changed = api.get(STATUS, headers={"If-None-Match": tag})
    assert changed.status_code == 200
    assert changed.headers["ETag"] != tag
    assert {s["id"] for s in changed.json()["stores"]} == {"us-nyc", "us-bos"}
    assert api.get(STATUS, headers={"If-None-Match": 'W/"nothing"'}).status_code == 200


def test_the_status_is_gzip_compressed_on_the_wire_above_a_size(api: Api, service: Service) -> None:
    small = api.get(STATUS, headers={"Accept-Encoding": "gzip"})
    assert "content-encoding" not in small.headers  # a few hundred bytes: not worth it

    rows = [
        StoreImportRow(id=f"s{i:04d}", name=f"Store {i:04d}", country_code="US") for i in range(300)
    ]
    import_stores(service.runtime.uows, api.tenant, rows)
    raw = api.client.build_request(
        "GET", STATUS, headers={**api.headers(), "Accept-Encoding": "gzip"}
    )
    response = api.client.send(raw, stream=True)
    try:
        wire = b"".join(response.iter_raw())
    finally:
        response.close()
    assert response.headers["content-encoding"] == "gzip"
    document = orjson.loads(gzip.decompress(wire))
    assert len(document["stores"]) == 300
    assert len(wire) * 5 < len(gzip.decompress(wire))
