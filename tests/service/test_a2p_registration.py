"""US A2P 10DLC: the business profile and the registration workflow, through the API against
the emulator (its reviews moved by its clock and its reviewer controls)."""

from __future__ import annotations

import io
from typing import Any

import pytest
from pydantic import ValidationError
from sqlalchemy import select

from clienteling_setup.a2p.models import BusinessProfile
from clienteling_setup.config import TwilioSettings
from clienteling_setup.sync import SyncReport, sync_tenant
from tests.conftest import Service
from tests.service.a2p_helpers import (
    business_profile,
    complete_registration,
    pass_reviews,
    put_business_profile,
    stage,
    start_registration,
)
from tests.service.helpers import enable
from tests.service.test_secrets import captured_logs as service_logs
from tests.support import Api, assert_error
from twilio_emulator import EmulatorServer
from twilio_emulator.isv import primary_customer_profile_sid

SECONDARY = "RNdfbf3fae0e1107f8aded0e7cead80bf5"
A2P_PROFILE = "RNb0d4771c2c98518d916a3d4cd70a8f8b"


def _subaccount(api: Api) -> str:
    return str(api.get("/clienteling/configuration").json()["twilio"]["sid"])


def _twilio(emulator: EmulatorServer, api: Api) -> dict[str, list[Any]]:
    """What the tenant's subaccount holds in Twilio, A2P-wise."""
    state, account = emulator.state, _subaccount(api)
    with state.lock:
        return {
            "profiles": [p for p in state.customer_profiles(account)],
            "products": [
                p for p in state.trust_products(account) if p.regulation_sid == A2P_PROFILE
            ],
            "brands": state.brands(account),
            "campaigns": state.campaigns(account),
            "end_users": state.end_users(account),
            "addresses": [a for a in state.addresses(account) if "a2p" in a.friendly_name],
        }


def _registration(api: Api) -> dict[str, Any]:
    response = api.get("/clienteling/a2p-registration")
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


logs = service_logs  # the service's log lines (a fixture)


# -- the business profile ----------------------------------------------------------------------
def test_business_profile_round_trip_with_the_website_from_the_ecom_link(api: Api) -> None:
    enable(api, "https://www.dodici.example")
    assert_error(api.get("/clienteling/business-profile"), 404, "PUT /clienteling/business-profile")
    created = api.put("/clienteling/business-profile", json=business_profile())
    assert created.status_code == 201, created.text
    profile = api.get("/clienteling/business-profile").json()
    assert profile["legal_name"] == "Dodici Retail Inc"
    assert profile["website"] == "https://www.dodici.example"
    assert profile["registration_number"] == "12-3456789"
    assert profile["authorized_representative"]["email"] == "ada@dodici.example"
    assert profile["version"] == 1
    same = api.put("/clienteling/business-profile", json=business_profile())
    assert same.status_code == 200
    assert same.json()["version"] == 1  # nothing changed
    changed = put_business_profile(api, website="https://retail.dodici.example")
    assert changed["version"] == 2
    assert changed["website"] == "https://retail.dodici.example"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"legal_name": None}, "legal_name"),
        ({"registration_number": "123"}, "registration_number"),
        ({"company_type": "public"}, "stock_exchange and stock_ticker"),
        ({"industry": "SHOES"}, "industry"),
        ({"regions_of_operation": []}, "regions_of_operation"),
        ({"website": "dodici.example"}, "website"),
        ({"authorized_representative": {"first_name": "Ada"}}, "authorized_representative"),
        ({"nickname": "Dodici"}, "nickname"),
    ],
)
def test_business_profile_is_validated_with_400s_naming_the_field(
    api: Api, change: dict[str, Any], field: str
) -> None:
    enable(api)
    body = {k: v for k, v in business_profile(**change).items() if v is not None}
    assert_error(api.put("/clienteling/business-profile", json=body), 400, field)


def test_public_company_needs_its_exchange_and_ticker(api: Api) -> None:
    enable(api)
    put_business_profile(api, company_type="public", stock_exchange="NYSE", stock_ticker="DDC")
    assert api.get("/clienteling/business-profile").json()["stock_ticker"] == "DDC"


def test_sensitive_fields_are_encrypted_at_rest_and_never_logged(
    api: Api, service: Service, logs: io.StringIO
) -> None:
    enable(api)
    put_business_profile(api)
    with service.runtime.sessions() as session:
        row = session.scalars(
            select(BusinessProfile).where(BusinessProfile.tenant_id == api.tenant)
        ).one()
        stored = f"{row.details} {row.secrets_encrypted}"
        assert row.secrets_encrypted.startswith("gAAAAA")  # a Fernet token
    logged = logs.getvalue()
    assert '"logger": "clienteling_setup.access"' in logged  # not vacuous
    for secret in ("12-3456789", "ada@dodici.example", "+12025550143"):
        assert secret not in stored
        assert secret not in logged


# -- the registration --------------------------------------------------------------------------
def test_registration_needs_the_business_profile(api: Api) -> None:
    enable(api)
    assert _registration(api)["action"] == "submit_business_profile"
    assert_error(
        api.post("/clienteling/a2p-registration"), 400, "PUT /clienteling/business-profile"
    )


def test_registration_succeeds_stage_by_stage(api: Api, emulator: EmulatorServer) -> None:
    enable(api, "https://www.dodici.example")
    api.put("/clienteling/opt-in-template", json={"body": "Reply YES to hear from your advisor."})
    put_business_profile(api)

    started = start_registration(api)
    assert started["status"] == "awaiting_review"
    assert started["action"] == "await_brand_review"
    assert stage(started, "customer_profile")["twilio_status"] == "pending-review"
    assert stage(started, "trust_product")["twilio_status"] == "pending-review"
    assert stage(started, "brand")["twilio_status"] == "PENDING"
    assert started["campaigns"] == []

    pass_reviews(emulator, "brand")
    resumed = start_registration(api)
    assert stage(resumed, "brand")["twilio_status"] == "APPROVED"
    assert resumed["action"] == "await_campaign_review"
    (campaign,) = resumed["campaigns"]
    assert campaign["twilio_status"] == "IN_PROGRESS"
    assert campaign["use_case"] == "CUSTOMER_CARE"
    assert campaign["sender_group_id"] is None

    pass_reviews(emulator, "campaign")
    done = start_registration(api)
    assert done["status"] == "registered"
    assert done["action"] is None
    assert done["campaigns"][0]["twilio_status"] == "VERIFIED"

    twilio = _twilio(emulator, api)
    (profile,) = twilio["profiles"]
    assert profile.regulation_sid == SECONDARY
    assert len(twilio["products"]) == 1
    (brand,) = twilio["brands"]
    assert brand.skip_automatic_sec_vet is False  # a standard brand, vetted
    assert brand.identity_status == "VETTED_VERIFIED"
    (sent,) = twilio["campaigns"]
    assert "Reply YES to hear from your advisor." in sent.message_flow
    assert all("Dodici Retail Inc" in s for s in sent.message_samples)
    assert any("https://www.dodici.example" in s for s in sent.message_samples)
    assert sent.opt_out_keywords[0] == "STOP"
    assert sent.opt_in_keywords == ["START"]
    business = next(u for u in twilio["end_users"] if u.type.startswith("customer_profile"))
    assert business.attributes["website_url"] == "https://www.dodici.example"
    assert business.attributes["business_registration_number"] == "12-3456789"


def test_a_low_volume_profile_registers_a_low_volume_brand(
    api: Api, emulator: EmulatorServer
) -> None:
    enable(api)
    put_business_profile(api, low_volume=True)
    registration = start_registration(api)
    assert registration["low_volume"] is True
    (brand,) = _twilio(emulator, api)["brands"]
    assert brand.skip_automatic_sec_vet is True


def test_overridden_samples_and_use_case_are_sent(api: Api, emulator: EmulatorServer) -> None:
    enable(api)
    samples = ["Hi Ada, your alterations are ready.", "Hi Ada, your order shipped today."]
    put_business_profile(api, campaign={"use_case": "MIXED", "message_samples": samples})
    complete_registration(api, emulator)
    (campaign,) = _twilio(emulator, api)["campaigns"]
    assert campaign.message_samples == samples
    assert campaign.usecase == "MIXED"


def test_rejected_customer_profile_shows_its_reason_and_is_resubmitted_after_a_fix(
    api: Api, emulator: EmulatorServer
) -> None:
    enable(api)
    put_business_profile(api)
    started = start_registration(api)
    sid = stage(started, "customer_profile")["sid"]
    emulator.state.set_customer_profile_status(
        sid, "twilio-rejected", "The legal name does not match the EIN."
    )
    rejected = start_registration(api)  # nothing changed: read, not resubmitted
    assert stage(rejected, "customer_profile")["twilio_status"] == "twilio-rejected"
    assert stage(rejected, "customer_profile")["failure_reason"] == (
        "The legal name does not match the EIN."
    )
    assert rejected["action"] == "submit_business_profile"
    assert rejected["status"] == "action_required"

    put_business_profile(api, legal_name="Dodici Retail Incorporated")
    fixed = start_registration(api)
    assert stage(fixed, "customer_profile")["twilio_status"] == "pending-review"
    assert stage(fixed, "customer_profile")["sid"] == sid
    business = next(
        u for u in _twilio(emulator, api)["end_users"] if u.type.startswith("customer_profile")
    )
    assert business.attributes["business_name"] == "Dodici Retail Incorporated"
    assert len(_twilio(emulator, api)["profiles"]) == 1


def test_rejected_brand_shows_its_reason_and_fix_rejected_brand_then_resubmits(
    api: Api, emulator: EmulatorServer
) -> None:
    enable(api)
    put_business_profile(api)
    started = start_registration(api)
    brand_sid = stage(started, "brand")["sid"]
    emulator.state.set_brand_status(brand_sid, "FAILED", "TCR could not verify the EIN.")
    failed = start_registration(api)
    assert stage(failed, "brand")["twilio_status"] == "FAILED"
    assert stage(failed, "brand")["failure_reason"] == "TCR could not verify the EIN."
    assert failed["action"] == "fix_rejected_brand"
    assert _registration(api)["action"] == "fix_rejected_brand"

    put_business_profile(api, registration_number="98-7654321")
    resubmitted = start_registration(api)
    assert stage(resubmitted, "brand")["twilio_status"] == "PENDING"
    assert stage(resubmitted, "brand")["sid"] == brand_sid
    pass_reviews(emulator, "brand")
    assert stage(start_registration(api), "brand")["twilio_status"] == "APPROVED"
    assert len(_twilio(emulator, api)["brands"]) == 1


def test_rejected_campaign_shows_its_errors_and_is_updated_after_a_fix(
    api: Api, emulator: EmulatorServer
) -> None:
    enable(api)
    put_business_profile(api)
    start_registration(api)
    pass_reviews(emulator, "brand")
    (campaign,) = start_registration(api)["campaigns"]
    emulator.state.set_campaign_status(campaign["sid"], "FAILED")
    failed = start_registration(api)
    assert failed["action"] == "fix_rejected_campaign"
    (errors,) = failed["campaigns"][0]["errors"]
    assert errors.startswith("30896 (MESSAGE_FLOW)")

    description = "Dodici store associates answer their clients' questions about orders."
    put_business_profile(api, campaign={"description": description})
    updated = start_registration(api)
    assert updated["campaigns"][0]["twilio_status"] == "IN_PROGRESS"
    pass_reviews(emulator, "campaign")
    assert start_registration(api)["status"] == "registered"
    (sent,) = _twilio(emulator, api)["campaigns"]
    assert sent.description == description


def test_reconciliation_follows_the_reviews_and_registers_each_sender_group(
    api: Api, service: Service, emulator: EmulatorServer
) -> None:
    enable(api)
    put_business_profile(api)
    start_registration(api)
    pass_reviews(emulator, "brand")
    sync_tenant(service.runtime, api.tenant, SyncReport())
    registration = _registration(api)
    assert stage(registration, "brand")["twilio_status"] == "APPROVED"
    assert len(registration["campaigns"]) == 1
    pass_reviews(emulator, "campaign")
    sync_tenant(service.runtime, api.tenant, SyncReport())
    assert _registration(api)["status"] == "registered"

    created = api.put("/clienteling/sender-groups/fifth-ave", json={"name": "Fifth Avenue"})
    assert created.status_code == 201, created.text
    assert _registration(api)["status"] == "registered"  # not yet looked at
    sync_tenant(service.runtime, api.tenant, SyncReport())
    campaigns = {c["sender_group_id"]: c for c in _registration(api)["campaigns"]}
    assert set(campaigns) == {None, "fifth-ave"}
    assert (
        campaigns["fifth-ave"]["messaging_service_sid"] == created.json()["messaging_service_sid"]
    )
    pass_reviews(emulator, "campaign")
    sync_tenant(service.runtime, api.tenant, SyncReport())
    assert _registration(api)["status"] == "registered"
    assert len(_twilio(emulator, api)["campaigns"]) == 2


def test_a_finished_registration_costs_no_twilio_call_to_reconcile(
    api: Api, service: Service, emulator: EmulatorServer
) -> None:
    enable(api)
    complete_registration(api, emulator)
    emulator.state.clear_requests()
    sync_tenant(service.runtime, api.tenant, SyncReport())
    a2p_paths = ("/v1/a2p/", "/Compliance/Usa2p", "/v1/CustomerProfiles", "/v1/EndUsers")
    assert not [r for r in emulator.state.requests if r.path.startswith(a2p_paths)]


CREATES = [
    r"/Addresses\.json$",
    r"/v1/EndUsers$",
    r"/v1/SupportingDocuments$",
    r"/v1/CustomerProfiles$",
    r"/v1/CustomerProfiles/BU\w+/EntityAssignments$",
    r"/v1/CustomerProfiles/BU\w+$",
    r"/v1/TrustProducts$",
    r"/v1/TrustProducts/BU\w+/EntityAssignments$",
    r"/v1/TrustProducts/BU\w+$",
    r"/v1/a2p/BrandRegistrations$",
    r"/Compliance/Usa2p$",
]


@pytest.mark.parametrize("path", CREATES)
def test_an_answer_lost_after_twilio_acted_leaves_one_of_each(
    api: Api, emulator: EmulatorServer, path: str
) -> None:
    """Twilio acts, then the answer is lost (the crash between a create and its record): the
    retry adopts what was made; the tenant ends with one customer profile, one trust product,
    one brand and one campaign per Messaging Service."""
    enable(api)
    put_business_profile(api)
    if path.endswith("Usa2p$"):
        start_registration(api)
        pass_reviews(emulator, "brand")
    emulator.state.add_fault(method="POST", path=path, kind="after_apply", status=500)
    failed = api.post("/clienteling/a2p-registration")
    assert failed.status_code in (202, 502), failed.text
    start_registration(api)
    pass_reviews(emulator, "brand")
    start_registration(api)
    pass_reviews(emulator, "campaign")
    assert start_registration(api)["status"] == "registered"
    twilio = _twilio(emulator, api)
    assert len(twilio["profiles"]) == 1
    assert len(twilio["products"]) == 1
    assert len(twilio["brands"]) == 1
    assert len(twilio["campaigns"]) == 1
    assert len(twilio["end_users"]) == 3
    assert len(twilio["addresses"]) == 1


# -- the ISV's primary customer profile ----------------------------------------------------------
def _assigned_to(emulator: EmulatorServer, parent: str) -> list[str]:
    state = emulator.state
    with state.lock:
        return [i.object_sid for i in state.entity_assignments.values() if i.parent_sid == parent]


def test_the_isv_primary_customer_profile_is_assigned_once(
    api: Api, emulator: EmulatorServer, service: Service
) -> None:
    primary = service.runtime.primary_customer_profile_sid
    assert primary == primary_customer_profile_sid(emulator.state.master_account_sid)
    enable(api)
    put_business_profile(api)
    profile = stage(start_registration(api), "customer_profile")["sid"]
    put_business_profile(api, legal_name="Dodici Retail Incorporated")  # a resubmission
    start_registration(api)
    complete_registration(api, emulator)
    assert _assigned_to(emulator, profile).count(primary) == 1


def test_a_lost_answer_to_the_primary_profile_assignment_is_adopted(
    api: Api, emulator: EmulatorServer, service: Service
) -> None:
    """Each of the four assignments is applied by Twilio and its answer lost, one per POST
    (the primary profile's last): the next POST lists what is assigned and goes on."""
    primary = service.runtime.primary_customer_profile_sid
    enable(api)
    put_business_profile(api)
    for _ in range(4):
        emulator.state.add_fault(
            method="POST",
            path=r"/v1/CustomerProfiles/BU\w+/EntityAssignments$",
            kind="after_apply",
            status=500,
        )
        assert api.post("/clienteling/a2p-registration").status_code == 502
    started = start_registration(api)
    assert stage(started, "customer_profile")["twilio_status"] == "pending-review"
    assigned = _assigned_to(emulator, stage(started, "customer_profile")["sid"])
    assert len(assigned) == 4
    assert assigned[-1] == primary


def test_without_an_approved_primary_profile_the_evaluation_fails_naming_it(
    api: Api, emulator: EmulatorServer, service: Service
) -> None:
    primary = service.runtime.primary_customer_profile_sid
    assert primary is not None
    enable(api)
    put_business_profile(api)
    emulator.state.set_customer_profile_status(primary, "draft")  # the ISV's is not approved
    try:
        failed = start_registration(api)
    finally:
        emulator.state.set_customer_profile_status(primary, "twilio-approved")
    profile = stage(failed, "customer_profile")
    assert profile["twilio_status"] == "noncompliant"
    assert "primary_customer_profile" in profile["failure_reason"]
    assert "Primary Customer Profile" in profile["failure_reason"]
    assert stage(failed, "brand")["sid"] is None
    fixed = start_registration(api)
    assert stage(fixed, "customer_profile")["twilio_status"] == "pending-review"


def test_without_the_primary_profile_setting_the_registration_answers_503_naming_it(
    api: Api, emulator: EmulatorServer, service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    enable(api)
    put_business_profile(api)
    monkeypatch.setattr(service.runtime, "primary_customer_profile_sid", None)
    emulator.state.clear_requests()
    assert_error(
        api.post("/clienteling/a2p-registration"),
        503,
        "CLIENTELING_TWILIO__PRIMARY_CUSTOMER_PROFILE_SID",
    )
    assert emulator.state.requests == []  # nothing sent to Twilio
    assert _registration(api)["stages"] == []  # nothing started


@pytest.mark.parametrize("value", ["BU123", "RN" + "a" * 32, "BU" + "g" * 32])
def test_the_primary_profile_setting_is_validated(value: str) -> None:
    with pytest.raises(ValidationError, match="primary_customer_profile_sid"):
        TwilioSettings(primary_customer_profile_sid=value)
    assert TwilioSettings(primary_customer_profile_sid="BU" + "aF" * 16)
