"""Derivation of a country's onboarding status and actions, on plain objects."""

from __future__ import annotations

import dataclasses

import pytest

from clienteling_setup.compliance.actions import (
    ACTION_ORDER,
    BundleFacts,
    ComplianceItem,
    CountryFacts,
    CountryStatus,
    DocumentFacts,
    TrustProductFacts,
    derive_country_status,
    ordered,
)
from clienteling_setup.compliance.rules import CountryRule, load_rules, merge_regulations

DOC = DocumentFacts(
    sid="RDaaaa",
    name="Handelsregisterauszug",
    status="approved",
    created_at="2024-01-02T10:00:00Z",
    updated_at="2024-01-03T10:00:00Z",
)
NOT_REQUIRED = ComplianceItem(required=False, status="not_required", id=None)
MISSING = ComplianceItem(required=True, status="missing", id=None)
APPROVED_A2P = TrustProductFacts(status="twilio-approved", sid="BUtrust")


def facts(country: str = "DE", **changes: object) -> CountryFacts:
    """A country that is ready apart from what ``changes`` says (bundle approved, all onboarded)."""
    base = CountryFacts(
        country_code=country,
        stores=2,
        onboarded_stores=2,
        clienteling_enabled=True,
        twilio_connected=True,
        bundle=BundleFacts(status="twilio-approved", sid="BUbundle", documents=[DOC]),
        trust_product=None,
        opt_in_exists=True,
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def actions(f: CountryFacts) -> list[str]:
    return derive_country_status(f).actions


# --- whole entries -------------------------------------------------------------------------------


def test_ready_country_has_no_actions_and_full_bundle_item() -> None:
    assert derive_country_status(facts()) == CountryStatus(
        country_code="DE",
        stores=2,
        number_availability_supported=True,
        regulatory_bundle=ComplianceItem(
            required=True, status="twilio-approved", id="BUbundle", uploads=[DOC]
        ),
        trusted_product=NOT_REQUIRED,
        actions=[],
    )


def test_us_needs_trust_product_and_no_bundle() -> None:
    status = derive_country_status(facts("US", bundle=None))
    assert status == CountryStatus(
        country_code="US",
        stores=2,
        number_availability_supported=True,
        regulatory_bundle=NOT_REQUIRED,
        trusted_product=MISSING,
        actions=["register_trust_product"],
    )


def test_unknown_country_entry() -> None:
    assert derive_country_status(facts("ZZ", bundle=None)) == CountryStatus(
        country_code="ZZ",
        stores=2,
        number_availability_supported=False,
        regulatory_bundle=NOT_REQUIRED,
        trusted_product=NOT_REQUIRED,
        actions=["country_not_supported"],
    )


def test_country_code_is_normalised() -> None:
    assert derive_country_status(facts("de")).country_code == "DE"


# --- one test per action -------------------------------------------------------------------------


def test_enable_clienteling_alone_when_not_enabled() -> None:
    f = facts(clienteling_enabled=False, twilio_connected=False, bundle=None, opt_in_exists=False)
    status = derive_country_status(f)
    assert status.actions == ["enable_clienteling"]
    assert status.regulatory_bundle == MISSING


def test_fix_twilio_connection_alone_when_subaccount_not_connected() -> None:
    assert actions(facts(twilio_connected=False, bundle=None)) == ["fix_twilio_connection"]


@pytest.mark.parametrize("country", ["JP", "SG", "AE", "ZZ"])
def test_country_not_supported_alone(country: str) -> None:
    f = facts(country, clienteling_enabled=False, bundle=None, opt_in_exists=False)
    assert actions(f) == ["country_not_supported"]


def test_unsupported_country_still_shows_an_existing_bundle() -> None:
    bundle = BundleFacts(status="draft", sid="BUjp")
    status = derive_country_status(facts("JP", bundle=bundle))
    assert status.regulatory_bundle == ComplianceItem(required=False, status="draft", id="BUjp")
    assert status.actions == ["country_not_supported"]


def test_create_regulatory_bundle_when_missing() -> None:
    status = derive_country_status(facts(bundle=None))
    assert status.regulatory_bundle == MISSING
    assert status.actions == ["create_regulatory_bundle"]


def test_upload_supporting_documents_for_draft_bundle() -> None:
    assert actions(facts(bundle=BundleFacts(status="draft", sid="BU1"))) == [
        "upload_supporting_documents"
    ]


@pytest.mark.parametrize("document_status", ["rejected", "expired"])
def test_upload_supporting_documents_for_approved_bundle_with_bad_document(
    document_status: str,
) -> None:
    bad = dataclasses.replace(DOC, status=document_status)
    bundle = BundleFacts(status="twilio-approved", sid="BU1", documents=[DOC, bad])
    # The bundle is still approved, so stores can still be onboarded meanwhile.
    assert actions(facts(bundle=bundle, onboarded_stores=1)) == [
        "upload_supporting_documents",
        "onboard_stores",
    ]


@pytest.mark.parametrize("status", ["pending-review", "in-review"])
def test_await_bundle_review(status: str) -> None:
    assert actions(facts(bundle=BundleFacts(status=status, sid="BU1"), onboarded_stores=0)) == [
        "await_bundle_review"
    ]


def test_fix_rejected_bundle_carries_the_reason() -> None:
    bundle = BundleFacts(
        status="twilio-rejected",
        sid="BU1",
        failure_reason="Proof of address is older than 3 months",
        documents=[dataclasses.replace(DOC, status="rejected")],
    )
    status = derive_country_status(facts(bundle=bundle))
    assert status.actions == ["fix_rejected_bundle"]
    assert status.regulatory_bundle == ComplianceItem(
        required=True,
        status="twilio-rejected",
        id="BU1",
        uploads=[dataclasses.replace(DOC, status="rejected")],
        failure_reason="Proof of address is older than 3 months",
    )


def test_register_trust_product_when_missing() -> None:
    assert actions(facts("US", bundle=None)) == ["register_trust_product"]


def test_register_trust_product_when_draft() -> None:
    trust = TrustProductFacts(status="draft", sid="BUtrust")
    assert actions(facts("US", bundle=None, trust_product=trust)) == ["register_trust_product"]


@pytest.mark.parametrize("status", ["pending-review", "in-review"])
def test_await_trust_product_review(status: str) -> None:
    trust = TrustProductFacts(status=status, sid="BUtrust")
    assert actions(facts("US", bundle=None, trust_product=trust)) == ["await_trust_product_review"]


def test_fix_rejected_trust_product_carries_the_reason() -> None:
    trust = TrustProductFacts(status="twilio-rejected", sid="BUtrust", failure_reason="EIN")
    status = derive_country_status(facts("US", bundle=None, trust_product=trust))
    assert status.actions == ["fix_rejected_trust_product"]
    assert status.trusted_product == ComplianceItem(
        required=True, status="twilio-rejected", id="BUtrust", failure_reason="EIN"
    )


def test_create_opt_in_template_when_missing() -> None:
    assert actions(facts(opt_in_exists=False)) == ["create_opt_in_template"]


def test_onboard_stores_when_bundle_approved_and_stores_left() -> None:
    assert actions(facts(onboarded_stores=1)) == ["onboard_stores"]


def test_onboard_stores_with_provisionally_approved_bundle() -> None:
    bundle = BundleFacts(status="provisionally-approved", sid="BU1")
    assert actions(facts(bundle=bundle, onboarded_stores=0)) == ["onboard_stores"]


def test_onboard_stores_in_us_does_not_wait_for_trust_product() -> None:
    assert actions(facts("US", bundle=None, onboarded_stores=0)) == [
        "register_trust_product",
        "onboard_stores",
    ]


def test_no_onboard_stores_while_bundle_not_approved() -> None:
    bundle = BundleFacts(status="in-review", sid="BU1")
    assert "onboard_stores" not in actions(facts(bundle=bundle, onboarded_stores=0))


def test_no_onboard_stores_when_all_onboarded() -> None:
    assert actions(facts("US", bundle=None, trust_product=APPROVED_A2P)) == []


def test_unknown_bundle_status_gives_no_action_and_blocks_onboarding() -> None:
    bundle = BundleFacts(status="something-new", sid="BU1")
    assert actions(facts(bundle=bundle, onboarded_stores=0)) == []


# --- combinations, order, rules refresh ----------------------------------------------------------


def test_actions_follow_the_stable_order() -> None:
    f = facts("US", bundle=None, opt_in_exists=False, onboarded_stores=0)
    assert actions(f) == ["register_trust_product", "create_opt_in_template", "onboard_stores"]


def test_ordered_deduplicates_into_action_order() -> None:
    assert ordered(reversed(ACTION_ORDER)) == list(ACTION_ORDER)
    assert ordered(["onboard_stores", "enable_clienteling", "onboard_stores"]) == [
        "enable_clienteling",
        "onboard_stores",
    ]


def test_rules_refreshed_from_regulations_drop_the_bundle_requirement() -> None:
    rules: dict[str, CountryRule] = dict(load_rules())
    rules["DE"] = merge_regulations(rules["DE"], [])
    status = derive_country_status(facts(bundle=None, onboarded_stores=0), rules)
    assert status.regulatory_bundle == NOT_REQUIRED
    assert status.actions == ["onboard_stores"]
