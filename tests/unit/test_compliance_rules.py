"""The country rules table and its helpers, on plain objects (no I/O but the packaged JSON)."""

from __future__ import annotations

import dataclasses
from importlib import resources

import phonenumbers
import pytest

from clienteling_setup import errors
from clienteling_setup.compliance.requirements import require_supported
from clienteling_setup.compliance.rules import (
    ADDRESS_REQUIREMENTS,
    CONFIDENCES,
    NUMBER_TYPES,
    TRUST_PRODUCT_KINDS,
    CountryRule,
    load_rules,
    merge_regulations,
    rule_for,
    source_urls,
)

REFERENCE_COUNTRIES = (
    "US CA GB DE FR IE NL BE ES IT AT PL NO FI CH SE DK PT AU NZ JP SG HK MX BR AE".split()
)
UNSUPPORTED = {"FR", "NZ", "JP", "SG", "MX", "BR", "AE"}


@dataclasses.dataclass(frozen=True)
class Regulation:
    iso_country: str
    number_type: str
    end_user_type: str


# --- table integrity ---------------------------------------------------------------------------


def test_table_is_package_data() -> None:
    assert resources.files("clienteling_setup.compliance").joinpath("countries.json").is_file()


def test_table_covers_every_reference_country() -> None:
    assert set(REFERENCE_COUNTRIES) <= set(load_rules())


@pytest.mark.parametrize("code", sorted(load_rules()))
def test_every_row_is_valid(code: str) -> None:
    rule = load_rules()[code]
    assert rule.country_code == code
    assert code in phonenumbers.SUPPORTED_REGIONS
    assert rule.sms_number_type is None or rule.sms_number_type in NUMBER_TYPES
    assert rule.address_required in ADDRESS_REQUIREMENTS
    assert rule.trust_product is None or rule.trust_product in TRUST_PRODUCT_KINDS
    assert rule.confidence in CONFIDENCES
    assert rule.notes.strip()
    assert rule.sources
    assert set(rule.sources) <= set(source_urls())
    if rule.bundle_required and rule.sms_supported:
        assert rule.bundle_number_type == rule.sms_number_type
    else:
        assert rule.bundle_number_type is None
    if not rule.sms_supported:
        assert rule.whatsapp is False  # WhatsApp reuses the store's SMS number


def test_load_rules_is_cached() -> None:
    assert load_rules() is load_rules()


# --- one test per rule -------------------------------------------------------------------------


def test_us_uses_local_numbers_without_bundle_and_needs_a2p_10dlc() -> None:
    rule = rule_for("US")
    assert rule is not None
    assert (rule.sms_number_type, rule.bundle_required, rule.address_required) == (
        "local",
        False,
        "none",
    )
    assert rule.trust_product == "us_a2p_10dlc"
    assert rule.trust_product_required is True


def test_ca_uses_local_numbers_without_bundle_or_trust_product() -> None:
    rule = rule_for("CA")
    assert rule is not None
    assert (rule.sms_number_type, rule.bundle_required, rule.trust_product) == (
        "local",
        False,
        None,
    )


@pytest.mark.parametrize("code", [c for c in REFERENCE_COUNTRIES if c not in {"US", "CA"}])
def test_countries_other_than_us_and_ca_require_a_bundle(code: str) -> None:
    rule = rule_for(code)
    assert rule is not None
    assert rule.bundle_required is True
    assert rule.trust_product is None


def test_gb_uses_mobile_numbers_with_mobile_bundle() -> None:
    rule = rule_for("GB")
    assert rule is not None
    assert (rule.sms_number_type, rule.bundle_number_type) == ("mobile", "mobile")


@pytest.mark.parametrize("code", sorted(UNSUPPORTED))
def test_countries_without_sms_numbers_are_unsupported(code: str) -> None:
    rule = rule_for(code)
    assert rule is not None
    assert rule.sms_number_type is None
    assert rule.sms_supported is False


@pytest.mark.parametrize("code", [c for c in REFERENCE_COUNTRIES if c not in UNSUPPORTED])
def test_countries_with_sms_numbers_are_supported(code: str) -> None:
    rule = rule_for(code)
    assert rule is not None
    assert rule.sms_supported is True


def test_country_not_in_table_is_unsupported() -> None:
    assert rule_for("ZZ") is None
    with pytest.raises(errors.BadRequest, match="not supported in ZZ"):
        require_supported("ZZ")


def test_rule_for_ignores_case_and_whitespace() -> None:
    assert rule_for(" gb ") == rule_for("GB")


def test_merge_regulations_none_keeps_the_table() -> None:
    rule = _rule(bundle_required=True)
    assert merge_regulations(rule, None) is rule


def test_merge_regulations_match_requires_a_bundle() -> None:
    rule = _rule(bundle_required=False)
    merged = merge_regulations(rule, [Regulation("de", "mobile", "business")])
    assert (merged.bundle_required, merged.bundle_number_type) == (True, "mobile")
    assert merged.sources == ("API", "RAPI")


def test_merge_regulations_empty_answer_means_no_bundle() -> None:
    merged = merge_regulations(_rule(bundle_required=True), [])
    assert (merged.bundle_required, merged.bundle_number_type) == (False, None)


def test_merge_regulations_ignores_other_types_countries_and_individuals() -> None:
    regulations = [
        Regulation("DE", "local", "business"),
        Regulation("AT", "mobile", "business"),
        Regulation("DE", "mobile", "individual"),
    ]
    merged = merge_regulations(_rule(bundle_required=True), regulations)
    assert (merged.bundle_required, merged.bundle_number_type) == (False, None)


def test_merge_regulations_leaves_unsupported_country_unchanged() -> None:
    rule = dataclasses.replace(_rule(bundle_required=True), sms_number_type=None)
    rule = dataclasses.replace(rule, bundle_number_type=None)
    assert merge_regulations(rule, []) is rule


def test_merge_regulations_does_not_repeat_the_source() -> None:
    rule = dataclasses.replace(_rule(bundle_required=False), sources=("RAPI",))
    merged = merge_regulations(rule, [Regulation("DE", "mobile", "business")])
    assert merged.sources == ("RAPI",)


def _rule(*, bundle_required: bool) -> CountryRule:
    return CountryRule(
        country_code="DE",
        sms_number_type="mobile",
        bundle_required=bundle_required,
        bundle_number_type="mobile" if bundle_required else None,
        address_required="any",
        trust_product=None,
        whatsapp=True,
        notes="test",
        sources=("API",),
        confidence="inferred",
    )
