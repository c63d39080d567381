"""Country requirements as the write side asks them, answered from the rules table."""

from __future__ import annotations

from clienteling_setup import errors
from clienteling_setup.compliance.rules import CountryRule, rule_for


def require_supported(country_code: str) -> CountryRule:
    rule = rule_for(country_code)
    if rule is None or not rule.sms_supported:
        raise errors.BadRequest(
            f"Clienteling numbers are not supported in {country_code}: Twilio offers no "
            "SMS-capable number type there for businesses. See the country's actions in "
            "GET /clienteling/onboarding-status."
        )
    return rule


def bundle_required(country_code: str) -> bool:
    rule = rule_for(country_code)
    return rule is not None and rule.bundle_required


def sms_number_type(country_code: str) -> str:
    return require_supported(country_code).sms_number_type or "local"
