"""Field rules shared by several request schemas. Messages name the fix."""

from __future__ import annotations

from urllib.parse import urlparse

import phonenumbers

E164_PATTERN = r"^\+[0-9]{8,15}$"


def require_not_blank(value: str, field: str) -> str:
    if not value.strip():
        raise ValueError(f"{field} must not be blank")
    return value


def absolute_url(value: str, field: str, *, schemes: tuple[str, ...] = ("http", "https")) -> str:
    parsed = urlparse(value.strip())
    if parsed.scheme not in schemes or not parsed.netloc:
        allowed = " or ".join(f"{s}://" for s in schemes)
        raise ValueError(f"{field} must be an absolute URL starting with {allowed}")
    return value.strip()


def country_code(value: str) -> str:
    code = value.strip().upper()
    if len(code) != 2 or code not in phonenumbers.SUPPORTED_REGIONS:
        raise ValueError("must be an ISO 3166-1 alpha-2 country code such as 'US' or 'DE'")
    return code


def phone_of_country(value: str, country: str, field: str) -> str:
    """An E.164 number that is a valid number of `country`."""
    try:
        parsed = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException as exc:
        raise ValueError(f"{field} '{value}' is not an E.164 number (+ and digits)") from exc
    # What is_valid_number does, without finding the region a second time for the check
    # below (for +1 that is a match against every NANP region's patterns): a store import
    # validates every row's number.
    region = phonenumbers.region_code_for_number(parsed)
    if region is None or not phonenumbers.is_valid_number_for_region(parsed, region):
        raise ValueError(f"{field} '{value}' is not a valid phone number")
    if region != country:
        raise ValueError(
            f"{field} '{value}' is a number of {region or 'another country'}, "
            f"not of the store's country {country}"
        )
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
