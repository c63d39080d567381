"""Country rules for clienteling SMS numbers, as data.

The table lives in the packaged ``countries.json`` (columns documented in ``docs/actions.md``).
This module only loads and validates it; nothing here does I/O besides reading that file.

A country missing from the table, or whose ``sms_number_type`` is null, is unsupported: the
service buys no numbers there. Bundle requirements can be refreshed from Twilio's Regulations
API with :func:`merge_regulations`; the table stays the default when no such data is available.
"""

from __future__ import annotations

import dataclasses
import functools
import json
from collections.abc import Iterable, Mapping
from importlib import resources
from types import MappingProxyType
from typing import Any, Final, Literal, Protocol, get_args

NumberType = Literal["local", "mobile", "national", "toll-free"]
AddressRequirement = Literal["none", "any", "local", "foreign"]
TrustProductKind = Literal["us_a2p_10dlc", "toll_free_verification"]
Confidence = Literal["sourced", "inferred"]

NUMBER_TYPES: Final[frozenset[str]] = frozenset(get_args(NumberType))
ADDRESS_REQUIREMENTS: Final[frozenset[str]] = frozenset(get_args(AddressRequirement))
TRUST_PRODUCT_KINDS: Final[frozenset[str]] = frozenset(get_args(TrustProductKind))
CONFIDENCES: Final[frozenset[str]] = frozenset(get_args(Confidence))

#: The end-user type the service registers bundles for (retailers are businesses).
END_USER_TYPE: Final = "business"
#: Source key recorded on a rule refreshed from the Regulations API.
REGULATIONS_API_SOURCE: Final = "RAPI"

_DATA_PACKAGE: Final = "clienteling_setup.compliance"
_DATA_FILE: Final = "countries.json"
_ROW_FIELDS: Final = frozenset(
    {
        "country_code",
        "sms_number_type",
        "bundle_required",
        "bundle_number_type",
        "address_required",
        "trust_product",
        "whatsapp",
        "notes",
        "sources",
        "confidence",
    }
)


class RulesTableError(ValueError):
    """The packaged rules table is malformed (a packaging or editing mistake, never user input)."""


@dataclasses.dataclass(frozen=True)
class CountryRule:
    """What the regulator and Twilio require for a store's SMS number in one country."""

    country_code: str
    sms_number_type: NumberType | None
    bundle_required: bool
    bundle_number_type: NumberType | None
    address_required: AddressRequirement
    trust_product: TrustProductKind | None
    whatsapp: bool
    notes: str
    sources: tuple[str, ...]
    confidence: Confidence

    @property
    def sms_supported(self) -> bool:
        """Whether the service can buy an SMS number for a store in this country."""
        return self.sms_number_type is not None

    @property
    def trust_product_required(self) -> bool:
        return self.trust_product is not None


class RegulationLike(Protocol):
    """One result of Twilio's Regulations API (the port's ``Regulation`` fits)."""

    @property
    def iso_country(self) -> str: ...

    @property
    def number_type(self) -> str: ...

    @property
    def end_user_type(self) -> str: ...


@functools.cache
def _load_document() -> Mapping[str, Any]:
    text = resources.files(_DATA_PACKAGE).joinpath(_DATA_FILE).read_text(encoding="utf-8")
    document = json.loads(text)
    if not isinstance(document, dict):
        raise RulesTableError(f"{_DATA_FILE}: the top level must be an object")
    return document


@functools.cache
def source_urls() -> Mapping[str, str]:
    """The table's source keys (``A1``, ``K1``, ...) and what each refers to."""
    sources = _load_document().get("sources")
    if not isinstance(sources, dict) or not all(
        isinstance(key, str) and isinstance(value, str) for key, value in sources.items()
    ):
        raise RulesTableError(f"{_DATA_FILE}: 'sources' must map keys to strings")
    return MappingProxyType(dict(sources))


@functools.cache
def load_rules() -> Mapping[str, CountryRule]:
    """The packaged rules table, keyed by ISO 3166-1 alpha-2 code (upper case). Cached."""
    rows = _load_document().get("countries")
    if not isinstance(rows, list):
        raise RulesTableError(f"{_DATA_FILE}: 'countries' must be a list")
    known_sources = source_urls()
    rules: dict[str, CountryRule] = {}
    for index, row in enumerate(rows):
        rule = _parse_row(row, f"{_DATA_FILE}: countries[{index}]", known_sources)
        if rule.country_code in rules:
            raise RulesTableError(f"{_DATA_FILE}: {rule.country_code} appears twice")
        rules[rule.country_code] = rule
    return MappingProxyType(rules)


def rule_for(country_code: str) -> CountryRule | None:
    """The rule for a country (case-insensitive code), or None when the table lacks it."""
    return load_rules().get(country_code.strip().upper())


def merge_regulations(
    rule: CountryRule, regulations: Iterable[RegulationLike] | None
) -> CountryRule:
    """Refresh ``bundle_required``/``bundle_number_type`` from Regulations API results.

    ``regulations`` is what Twilio returned when asked for this rule's country and SMS number
    type; pass None when it was not asked or could not be reached, and the table's values stay.
    A regulation for (country, SMS number type, business) means a bundle is required; when the
    answer holds none, no bundle is required. Results for other countries, number types or
    end-user types are ignored. A country without an SMS number type is returned unchanged.
    """
    if regulations is None or rule.sms_number_type is None:
        return rule
    required = any(
        regulation.iso_country.strip().upper() == rule.country_code
        and regulation.number_type == rule.sms_number_type
        and regulation.end_user_type == END_USER_TYPE
        for regulation in regulations
    )
    return with_bundle_required(rule, required)


def with_bundle_required(rule: CountryRule, required: bool) -> CountryRule:
    """``rule`` with its bundle requirement as the Regulations API answered it (``required``
    for the rule's SMS number type). A country without an SMS number type is returned
    unchanged."""
    if rule.sms_number_type is None:
        return rule
    sources = rule.sources
    if REGULATIONS_API_SOURCE not in sources:
        sources = (*sources, REGULATIONS_API_SOURCE)
    return dataclasses.replace(
        rule,
        bundle_required=required,
        bundle_number_type=rule.sms_number_type if required else None,
        sources=sources,
    )


def _parse_row(row: object, where: str, known_sources: Mapping[str, str]) -> CountryRule:
    if not isinstance(row, dict):
        raise RulesTableError(f"{where}: must be an object")
    missing = _ROW_FIELDS - row.keys()
    unknown = row.keys() - _ROW_FIELDS
    if missing or unknown:
        raise RulesTableError(
            f"{where}: missing fields {sorted(missing)}, unknown fields {sorted(unknown)}"
        )
    code = row["country_code"]
    if not (isinstance(code, str) and len(code) == 2 and code.isascii() and code.isupper()):
        raise RulesTableError(f"{where}: country_code must be two upper-case letters")
    where = f"{where} ({code})"
    sms_type: NumberType | None = _optional_choice(row, "sms_number_type", NUMBER_TYPES, where)
    bundle_type: NumberType | None = _optional_choice(
        row, "bundle_number_type", NUMBER_TYPES, where
    )
    bundle_required = _boolean(row, "bundle_required", where)
    if bundle_type is not None and (not bundle_required or bundle_type != sms_type):
        raise RulesTableError(
            f"{where}: bundle_number_type is set only when a bundle is required, and then it is "
            "the SMS number type"
        )
    if bundle_required and sms_type is not None and bundle_type is None:
        raise RulesTableError(f"{where}: a required bundle needs its bundle_number_type")
    sources = row["sources"]
    if (
        not isinstance(sources, list)
        or not sources
        or not all(isinstance(key, str) and key in known_sources for key in sources)
    ):
        raise RulesTableError(f"{where}: sources must be a non-empty list of keys of 'sources'")
    notes = row["notes"]
    if not isinstance(notes, str) or not notes.strip():
        raise RulesTableError(f"{where}: notes must be a non-empty string")
    return CountryRule(
        country_code=code,
        sms_number_type=sms_type,
        bundle_required=bundle_required,
        bundle_number_type=bundle_type,
        address_required=_choice(row, "address_required", ADDRESS_REQUIREMENTS, where),
        trust_product=_optional_choice(row, "trust_product", TRUST_PRODUCT_KINDS, where),
        whatsapp=_boolean(row, "whatsapp", where),
        notes=notes,
        sources=tuple(sources),
        confidence=_choice(row, "confidence", CONFIDENCES, where),
    )


def _boolean(row: Mapping[str, object], field: str, where: str) -> bool:
    value = row[field]
    if not isinstance(value, bool):
        raise RulesTableError(f"{where}: {field} must be true or false")
    return value


def _choice(row: Mapping[str, object], field: str, allowed: frozenset[str], where: str) -> Any:
    value = row[field]
    if not isinstance(value, str) or value not in allowed:
        raise RulesTableError(f"{where}: {field} must be one of {sorted(allowed)}")
    return value


def _optional_choice(
    row: Mapping[str, object], field: str, allowed: frozenset[str], where: str
) -> Any:
    if row[field] is None:
        return None
    return _choice(row, field, allowed, where)
