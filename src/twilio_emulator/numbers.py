"""Deterministic generation of the available-number pool, with `phonenumbers`.

For each (country, number type) the pool is a fixed list of numbers that `phonenumbers` accepts as
valid numbers of that country and type. Local numbers are built from the area codes of real places
(so they carry locality, region, postal code and coordinates); mobile, national and toll-free
numbers from the country's prefixes for that type. The same seed always yields the same pool.
"""

from __future__ import annotations

import math
import random
import re
from dataclasses import dataclass

import phonenumbers
from phonenumbers import PhoneNumberType

from .countries import COUNTRIES, CountryRules, Place, TypeRule

NUMBERS_PER_PLACE = 12
NUMBERS_PER_TYPE = 40
_MAX_TRIES = 400
_KEYPAD = {
    c: str(d)
    for d, letters in enumerate(["", "", "ABC", "DEF", "GHI", "JKL", "MNO", "PQRS", "TUV", "WXYZ"])
    for c in letters
}


@dataclass(frozen=True)
class AvailableNumber:
    phone_number: str  # E.164
    iso_country: str
    number_type: str  # local | mobile | national | toll-free
    place: Place | None
    sms: bool
    mms: bool
    voice: bool
    address_requirements: str

    @property
    def friendly_name(self) -> str:
        parsed = phonenumbers.parse(self.phone_number)
        return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL)

    @property
    def national_number(self) -> str:
        return phonenumbers.national_significant_number(phonenumbers.parse(self.phone_number))


def _candidate(
    rng: random.Random, rules: CountryRules, prefix: str, lengths: tuple[int, ...]
) -> str | None:
    length = rng.choice(lengths)
    if len(prefix) >= length:
        return None
    digits = prefix + "".join(rng.choice("0123456789") for _ in range(length - len(prefix)))
    if rules.iso in ("US", "CA") and digits[3] in "01":  # NANP exchange codes start 2-9
        return None
    if rules.iso in ("US", "CA") and digits[3:6] == "555":
        return None
    return digits


def _valid(rules: CountryRules, rule: TypeRule, nsn: str) -> str | None:
    try:
        parsed = phonenumbers.parse("+" + str(_country_code(rules.iso)) + nsn)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(parsed):
        return None
    region = phonenumbers.region_code_for_number(parsed)
    shared_nanp = rules.iso in ("US", "CA") and region in ("US", "CA")
    if region != rules.iso and not (
        shared_nanp and PhoneNumberType.TOLL_FREE in rule.phonenumber_types
    ):
        return None
    if phonenumbers.number_type(parsed) not in rule.phonenumber_types:
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def _country_code(iso: str) -> int:
    return phonenumbers.country_code_for_region(iso)


def generate_pool(
    seed: int, iso_country: str, number_type: str, scale: int = 1
) -> list[AvailableNumber]:
    """The numbers Twilio 'has' for sale in a country and type (before any purchase).

    `scale` multiplies the pool (benchmarks buy hundreds of numbers); 1 is the default pool.
    """
    rules = COUNTRIES[iso_country]
    rule = rules.types[number_type]
    rng = random.Random(f"{seed}:{iso_country}:{number_type}")
    found: dict[str, AvailableNumber] = {}

    def make(
        place: Place | None, prefixes: tuple[str, ...], lengths: tuple[int, ...], n: int
    ) -> None:
        made = 0
        for _ in range(_MAX_TRIES * scale):
            if made >= n:
                return
            nsn = _candidate(rng, rules, rng.choice(prefixes), lengths)
            e164 = _valid(rules, rule, nsn) if nsn else None
            if e164 is None or e164 in found:
                continue
            found[e164] = AvailableNumber(
                e164,
                iso_country,
                number_type,
                place,
                rule.sms,
                rule.mms,
                True,
                rule.address_requirements,
            )
            made += 1

    if number_type == "local":
        for place in rules.places:
            make(place, place.prefixes, rules.local_lengths, NUMBERS_PER_PLACE * scale)
    else:
        make(None, rule.prefixes, rule.lengths, NUMBERS_PER_TYPE * scale)
    return list(found.values())


def classify(phone_number: str) -> tuple[str, str] | None:
    """(iso_country, number_type) of a valid E.164 number the emulator sells, else None."""
    try:
        parsed = phonenumbers.parse(phone_number)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(parsed):
        return None
    iso = phonenumbers.region_code_for_number(parsed)
    rules = COUNTRIES.get(iso or "")
    if iso is None or rules is None:
        return None
    kind = phonenumbers.number_type(parsed)
    for name, rule in rules.types.items():
        if kind in rule.phonenumber_types and not (name == "national" and kind in _fixed()):
            return iso, name
    return None


def _fixed() -> frozenset[int]:
    return COUNTRIES["US"].types["local"].phonenumber_types


def contains_pattern(pattern: str) -> re.Pattern[str]:
    """Twilio's `Contains`: digits, `*` for any digit, letters by the phone keypad."""
    out = []
    for char in pattern.upper():
        if char == "*":
            out.append(r"\d")
        elif char.isdigit():
            out.append(char)
        elif char in _KEYPAD:
            out.append(_KEYPAD[char])
        elif char == "+":
            continue
        else:
            raise ValueError(char)
    return re.compile("".join(out))


def distance_miles(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    radius = 3958.8
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * radius * math.asin(math.sqrt(a))
