"""The status document against its declared model, so the published schema cannot drift.

The endpoint serialises plain data with orjson (fast at 10,000 stores) and declares
`OnboardingStatus` only as its documented `response_model`, which FastAPI never applies to a
raw response. These tests hold the two together: real documents (before enabling, and a tenant
with stores in several countries, SMS numbers, a WhatsApp sender, bundles at several steps and
trust products) validate against the model in strict mode and carry exactly its keys at every
level, and `/openapi.json` publishes that model for the endpoint's 200 response.
"""

from __future__ import annotations

import copy
import time
from typing import Any, get_args

from pydantic import BaseModel

from clienteling_setup.status.schemas import DisablingStatus, OnboardingStatus
from clienteling_setup.sync import SyncReport, sync_tenant
from tests.conftest import Service
from tests.service.a2p_helpers import complete_registration
from tests.service.compliance_helpers import emulator_bundle
from tests.service.helpers import available_number, buy_by_hand, enable, put_store
from tests.support import Api
from twilio_emulator import EmulatorServer

STATUS_PATH = "/clienteling/onboarding-status"


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    """The models a field's annotation holds: `X`, `X | None`, `list[X]`."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [model for arg in get_args(annotation) for model in _models_in(arg)]


def _every_model(model: type[BaseModel]) -> set[type[BaseModel]]:
    found = {model}
    for field in model.model_fields.values():
        for inner in _models_in(field.annotation):
            if inner not in found:
                found |= _every_model(inner)
    return found


def _key_drift(
    value: Any, model: type[BaseModel], path: str, seen: set[type[BaseModel]]
) -> list[str]:
    """Every key of `value` the model does not declare, and every field it lacks, at every
    level (pydantic ignores extra keys and fills defaults, so validation alone misses both).
    `seen` collects the models an object was actually checked against."""
    if value is None:
        return []
    if isinstance(value, list):
        return [
            problem
            for index, item in enumerate(value)
            for problem in _key_drift(item, model, f"{path}[{index}]", seen)
        ]
    assert isinstance(value, dict), f"{path}: {value!r} is not an object ({model.__name__})"
    seen.add(model)
    fields = model.model_fields
    problems = [f"{path}.{key}: not a field of {model.__name__}" for key in value.keys() - fields]
    problems += [f"{path}.{name}: missing ({model.__name__})" for name in fields.keys() - value]
    for name, field in fields.items():
        for inner in _models_in(field.annotation):
            if name in value:
                problems += _key_drift(value[name], inner, f"{path}.{name}", seen)
    return sorted(problems)


def _status(api: Api) -> tuple[bytes, dict[str, Any]]:
    response = api.get(STATUS_PATH)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    return response.content, response.json()


def _assert_matches_the_model(api: Api) -> tuple[dict[str, Any], set[type[BaseModel]]]:
    raw, doc = _status(api)
    OnboardingStatus.model_validate_json(raw, strict=True)
    seen: set[type[BaseModel]] = set()
    assert _key_drift(doc, OnboardingStatus, "$", seen) == []
    return doc, seen


def test_a_tenant_before_enabling_matches_the_model(api: Api) -> None:
    doc, _ = _assert_matches_the_model(api)  # no configuration, no stores
    assert doc["countries"] == []
    assert doc["stores"] == []

    put_store(api, "us-nyc")
    put_store(api, "de-ber")
    put_store(api, "jp-tyo")
    doc, seen = _assert_matches_the_model(api)
    assert doc["onboarded"] is False
    assert doc["twilio"]["sid"] is None
    assert [c["country_code"] for c in doc["countries"]] == ["DE", "JP", "US"]
    assert {c["actions"][0] for c in doc["countries"]} == {
        "enable_clienteling",
        "country_not_supported",
    }
    assert OnboardingStatus in seen


def test_a_tenant_with_stores_senders_and_bundles_matches_the_model(
    api: Api, service: Service, emulator: EmulatorServer
) -> None:
    for store_id in ("us-nyc", "de-ber", "jp-tyo"):
        put_store(api, store_id)
    put_store(api, "us-bos", name="Dodici Newbury Street", region="MA", postal_code="02116")
    france = {"name": "Dodici Rivoli", "country_code": "FR", "locality": "Paris"}
    assert api.put("/clienteling/stores/fr-par", json=france).status_code == 201
    account = enable(api)["twilio"]["sid"]  # enabling synchronises the seeded bundles
    assert api.put("/clienteling/opt-in-template", json={"body": "Reply YES"}).status_code == 201

    # US: an SMS number, then a WhatsApp sender on it that Meta brings online.
    number = available_number(api, "us-nyc")
    sms = api.post("/clienteling/stores/us-nyc/onboard", json={"phone_number": number})
    assert sms.status_code == 201, sms.text
    whatsapp = api.post(
        "/clienteling/stores/us-nyc/whatsapp/onboard",
        json={"waba_id": "1234567890", "profile_name": "Dodici Fifth Avenue"},
    )
    assert whatsapp.status_code == 202, whatsapp.text
    assert [c.status_code for c in emulator.state.advance_clock(30)] == [204]
    complete_registration(api, emulator)  # the US store can send (A2P 10DLC)
    # DE: onboarded with its approved bundle.
    bundle = emulator_bundle(emulator, account, "DE", "mobile", "twilio-approved")
    listed = api.get("/clienteling/stores/de-ber/regulatory-bundles").json()
    address_sid = next(b["address_sid"] for b in listed if b["sid"] == bundle.sid)
    de = api.post(
        "/clienteling/stores/de-ber/onboard",
        json={
            "phone_number": available_number(api, "de-ber"),
            "bundle_sid": bundle.sid,
            "address_sid": address_sid,
        },
    )
    assert de.status_code == 201, de.text

    # FR: every bundle rejected, one with Twilio's reason; picked up by reconciliation.
    for fr in emulator.state.bundles(account):
        if fr.iso_country == "FR" and fr.status != "twilio-rejected":
            emulator.state.set_bundle_status(account, fr.sid, "twilio-rejected", "Blurry scan.")
    # A number bought by hand in Twilio: an orphan, with its monthly cost, after the sync.
    offered = api.get("/clienteling/stores/us-bos/available-phone-numbers").json()
    buy_by_hand(api, emulator, next(n["phone_number"] for n in offered))
    report = SyncReport()
    sync_tenant(service.runtime, "acme", report)
    assert report.done == ["acme"], report
    # US: a store stuck pending after Twilio failed its purchase (its number and the error).
    stuck = available_number(api, "us-bos")
    emulator.state.add_fault(
        method="POST", path=r"/IncomingPhoneNumbers\.json$", kind="error", status=503
    )
    failed = api.post("/clienteling/stores/us-bos/onboard", json={"phone_number": stuck})
    assert failed.status_code == 503, failed.text
    # A bulk onboarding job (of a store onboarded already: it buys nothing).
    job = api.post("/clienteling/onboarding-jobs", json={"store_ids": ["us-nyc"]})
    assert job.status_code == 202, job.text
    deadline = time.monotonic() + 30  # finished: its progress no longer moves between reads
    while api.get(job.headers["Location"]).json()["status"] != "finished":
        assert time.monotonic() < deadline
        time.sleep(0.05)

    doc, seen = _assert_matches_the_model(api)
    # With the disabling below, the documents exercise every model of the schema, so every
    # level is compared.
    assert seen | {DisablingStatus} == _every_model(OnboardingStatus)
    assert doc["onboarded"] is True
    assert isinstance(doc["onboarded_at"], str)
    countries = {c["country_code"]: c for c in doc["countries"]}
    assert set(countries) == {"DE", "FR", "JP", "US"}
    assert countries["DE"]["regulatory_bundle"]["uploads"]
    assert countries["FR"]["regulatory_bundle"]["status"] == "twilio-rejected"
    assert countries["FR"]["regulatory_bundle"]["failure_reason"]
    assert countries["US"]["trusted_product"]["status"] == "twilio-approved"
    assert (doc["numbers"]["orphans"], doc["actions"]) == (1, ["release_orphan_numbers"])
    stores = {s["id"]: s for s in doc["stores"]}
    assert stores["us-nyc"]["channels"]["whatsapp"]["status"] == "online"
    assert stores["us-bos"]["phone_number"] is None
    assert stores["us-bos"]["channels"]["sms"]["pending_phone_number"] == stuck
    assert (
        stores["us-bos"]["channels"]["sms"]["last_error"]["request_id"]
        == (failed.json()["request_id"])
    )
    # Served again, from the status cache: the same bytes up to the keys read fresh on each
    # call (the job's progress, the reconciliation's lag), so the same verdict.
    fresh = b',"onboarding_job":'
    first, again = _status(api)[0], api.get(STATUS_PATH).content
    assert first.rsplit(fresh, 1)[0] == again.rsplit(fresh, 1)[0]

    # Disabled: the extra `disabling` key, beyond the reference's.
    body = {"confirm_tenant": "acme"}
    assert api.request("DELETE", "/clienteling/configuration", json=body).status_code == 202
    deadline = time.monotonic() + 60
    while (doc := _status(api)[1])["disabling"]["status"] != "disabled":
        assert time.monotonic() < deadline, doc["disabling"]
        time.sleep(0.1)
    doc, seen = _assert_matches_the_model(api)
    assert DisablingStatus in seen
    assert doc["twilio"]["sid"] is None


def test_the_key_comparison_sees_an_extra_and_a_missing_key(api: Api) -> None:
    """The check above would catch drift: a key the model lacks, or a field left out."""
    put_store(api, "us-nyc")
    _, doc = _status(api)
    drifted = copy.deepcopy(doc)
    drifted["stores"][0]["channels"]["whatsapp"]["display_name"] = "Dodici"
    del drifted["twilio"]["call_forwarding"]["name"]
    assert _key_drift(drifted, OnboardingStatus, "$", set()) == [
        "$.stores[0].channels.whatsapp.display_name: not a field of WhatsAppChannel",
        "$.twilio.call_forwarding.name: missing (CallForwarding)",
    ]


def test_openapi_publishes_the_model_for_the_200_response(api: Api) -> None:
    spec = api.client.get("/openapi.json").json()
    operation = spec["paths"][STATUS_PATH]["get"]
    schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert schema == {"$ref": "#/components/schemas/OnboardingStatus"}
    # What is published under those names is the model itself, nested models included: the
    # same properties, each of the same schema, and every one required (the document always
    # carries every key, null when unknown).
    expected = OnboardingStatus.model_json_schema(
        ref_template="#/components/schemas/{model}", mode="serialization"
    )
    definitions = {**expected.pop("$defs"), "OnboardingStatus": expected}
    published = spec["components"]["schemas"]
    assert {m.__name__ for m in _every_model(OnboardingStatus)} == set(definitions)
    for name, definition in definitions.items():
        properties = {
            field: {k: v for k, v in prop.items() if k != "default"}
            for field, prop in definition["properties"].items()
        }
        assert published[name]["properties"] == properties, name
        assert set(published[name]["required"]) == set(properties), name
