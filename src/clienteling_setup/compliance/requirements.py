"""Country requirements as the write side and the status view ask them.

The packaged rules table is the default; a country whose bundle requirement `sync` refreshed
from Twilio's Regulations API (the ``country_requirements`` table) uses the refreshed answer,
as long as it was asked for the table's current SMS number type. Reads only the database,
through `RequirementRepository`.
"""

from __future__ import annotations

from collections.abc import Mapping

import phonenumbers
from phonenumbers import PhoneNumberType

from clienteling_setup import errors
from clienteling_setup.compliance.models import CountryRequirement
from clienteling_setup.compliance.repository import RequirementRepository
from clienteling_setup.compliance.rules import (
    CountryRule,
    load_rules,
    rule_for,
    with_bundle_required,
)
from clienteling_setup.providers.messaging import NumberType


def _refreshed(rule: CountryRule, row: CountryRequirement | None) -> CountryRule:
    if row is None or row.number_type != rule.sms_number_type:
        return rule
    return with_bundle_required(rule, row.bundle_required)


def effective_rules(requirements: RequirementRepository | None) -> Mapping[str, CountryRule]:
    """The rules table with every refreshed bundle requirement applied (the packaged table
    alone when `requirements` is None)."""
    if requirements is None:
        return load_rules()
    rules = dict(load_rules())
    for row in requirements.all():
        rule = rules.get(row.country_code)
        if rule is not None:
            rules[row.country_code] = _refreshed(rule, row)
    return rules


def effective_rule(
    requirements: RequirementRepository | None, country_code: str
) -> CountryRule | None:
    """One country's rule, refreshed when `requirements` is given and holds a refreshed row."""
    rule = rule_for(country_code)
    if rule is None or requirements is None:
        return rule
    return _refreshed(rule, requirements.get(rule.country_code))


def require_supported(country_code: str) -> CountryRule:
    rule = rule_for(country_code)
    if rule is None or not rule.sms_supported:
        raise errors.BadRequest(
            f"Clienteling numbers are not supported in {country_code}: Twilio offers no "
            "SMS-capable number type there for businesses. See the country's actions in "
            "GET /clienteling/onboarding-status."
        )
    return rule


def bundle_required(country_code: str, requirements: RequirementRepository | None = None) -> bool:
    """Whether buying a number there needs a regulatory bundle (the refreshed answer when
    `requirements` is given, else the packaged table)."""
    rule = effective_rule(requirements, country_code)
    return rule is not None and rule.bundle_required


def sms_number_type(country_code: str) -> str:
    return require_supported(country_code).sms_number_type or "local"


def priced_as(phone_number: str) -> tuple[str, NumberType]:
    """The country and number type Twilio prices `phone_number` (E.164) as: toll-free when
    its numbering plan says so, else the country's SMS number type (what the service offers
    and buys there)."""
    parsed = phonenumbers.parse(phone_number, None)
    country = phonenumbers.region_code_for_number(parsed) or ""
    if phonenumbers.number_type(parsed) == PhoneNumberType.TOLL_FREE:
        return country, "toll-free"
    rule = rule_for(country)
    return country, (rule.sms_number_type if rule is not None else None) or "local"
