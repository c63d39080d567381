"""Per-country telephony rules and places the emulator generates numbers for.

The rules mirror what Twilio's public pricing/regulation pages say about each country, as far as
the emulator needs them: which number types Twilio sells there (others answer 404), whether the type
carries SMS, which address it requires (`address_requirements`) and whether a regulatory bundle is
needed to buy it. Geographic search filters (InRegion, InPostalCode, NearLatLong, AreaCode) apply
only to the US and Canada, as Twilio documents; elsewhere they are ignored.
"""

from __future__ import annotations

from dataclasses import dataclass

from phonenumbers import PhoneNumberType

NUMBER_TYPES = ("local", "mobile", "national", "toll-free")
# The path segment of AvailablePhoneNumbers/{Country}/{Segment}.json for each number type.
TYPE_SEGMENTS = {
    "Local": "local",
    "Mobile": "mobile",
    "National": "national",
    "TollFree": "toll-free",
}
# How Twilio names each number type in regulation and bundle names.
TYPE_NAMES = {
    "local": "Local",
    "mobile": "Mobile",
    "national": "National",
    "toll-free": "Toll Free",
}


@dataclass(frozen=True)
class Place:
    locality: str
    region: str
    postal_code: str
    latitude: float
    longitude: float
    prefixes: tuple[str, ...]  # national-number prefixes (area codes) of this place
    postal_prefixes: tuple[str, ...] = ()  # postal codes of the place start with one of these


@dataclass(frozen=True)
class TypeRule:
    sms: bool
    mms: bool
    address_requirements: str  # none | any | local | foreign
    bundle_required: bool
    phonenumber_types: frozenset[int]
    prefixes: tuple[str, ...] = ()  # non-geographic types: national-number prefixes
    lengths: tuple[int, ...] = ()  # national significant number lengths to try


@dataclass(frozen=True)
class CountryRules:
    iso: str
    name: str
    types: dict[str, TypeRule]
    places: tuple[Place, ...]
    local_lengths: tuple[int, ...]

    @property
    def geo_search(self) -> bool:
        return self.iso in ("US", "CA")


_FIXED = frozenset({PhoneNumberType.FIXED_LINE, PhoneNumberType.FIXED_LINE_OR_MOBILE})
_MOBILE = frozenset({PhoneNumberType.MOBILE})
_TOLL_FREE = frozenset({PhoneNumberType.TOLL_FREE})
_NATIONAL = frozenset({PhoneNumberType.VOIP, PhoneNumberType.UAN, PhoneNumberType.FIXED_LINE})

_NANP_TOLL_FREE = ("800", "833", "844", "855", "866", "877", "888")


def _eu(
    mobile: tuple[str, ...],
    mobile_lengths: tuple[int, ...],
    toll_free: tuple[str, ...],
    toll_free_lengths: tuple[int, ...],
    national: tuple[str, ...] = (),
    national_lengths: tuple[int, ...] = (),
) -> dict[str, TypeRule]:
    types = {
        "local": TypeRule(False, False, "local", True, _FIXED),
        "mobile": TypeRule(True, False, "any", True, _MOBILE, mobile, mobile_lengths),
        "toll-free": TypeRule(False, False, "any", True, _TOLL_FREE, toll_free, toll_free_lengths),
    }
    if national:
        types["national"] = TypeRule(
            False, False, "any", True, _NATIONAL, national, national_lengths
        )
    return types


COUNTRIES: dict[str, CountryRules] = {
    "US": CountryRules(
        "US",
        "United States",
        {
            "local": TypeRule(True, True, "none", False, _FIXED),
            "toll-free": TypeRule(True, True, "none", False, _TOLL_FREE, _NANP_TOLL_FREE, (10,)),
        },
        (
            Place(
                "New York",
                "NY",
                "10001",
                40.7506,
                -73.9971,
                ("212", "646", "917"),
                ("100", "101", "102", "103", "104", "112"),
            ),
            Place(
                "Los Angeles",
                "CA",
                "90012",
                34.0614,
                -118.2385,
                ("213", "323"),
                ("900", "901", "902", "903", "904", "905", "906", "907", "908"),
            ),
            Place(
                "San Francisco", "CA", "94103", 37.7725, -122.4091, ("415", "628"), ("940", "941")
            ),
            Place("Chicago", "IL", "60601", 41.8858, -87.6181, ("312", "773"), ("606", "607")),
            Place("Seattle", "WA", "98101", 47.6114, -122.3305, ("206",), ("980", "981")),
            Place("Boston", "MA", "02108", 42.3576, -71.0684, ("617",), ("021", "022")),
            Place("Miami", "FL", "33130", 25.7673, -80.2047, ("305", "786"), ("330", "331")),
            Place("Austin", "TX", "78701", 30.2713, -97.7426, ("512",), ("786", "787")),
        ),
        (10,),
    ),
    "CA": CountryRules(
        "CA",
        "Canada",
        {
            "local": TypeRule(True, True, "none", False, _FIXED),
            "toll-free": TypeRule(True, False, "none", False, _TOLL_FREE, _NANP_TOLL_FREE, (10,)),
        },
        (
            Place("Toronto", "ON", "M5V 2T6", 43.6426, -79.3871, ("416", "647"), ("M",)),
            Place("Vancouver", "BC", "V6B 1A1", 49.2827, -123.1207, ("604", "778"), ("V5", "V6")),
            Place("Montreal", "QC", "H3B 1A7", 45.5017, -73.5673, ("514", "438"), ("H",)),
            Place("Calgary", "AB", "T2P 1J9", 51.0447, -114.0719, ("403", "587"), ("T2", "T3")),
        ),
        (10,),
    ),
    "GB": CountryRules(
        "GB",
        "United Kingdom",
        _eu(("74", "75", "77", "78", "79"), (10,), ("800",), (10,)),
        (
            Place("London", "London", "EC1A 1BB", 51.5074, -0.1278, ("20",)),
            Place("Manchester", "Manchester", "M1 1AE", 53.4808, -2.2426, ("161",)),
            Place("Birmingham", "West Midlands", "B1 1BB", 52.4862, -1.8904, ("121",)),
            Place("Edinburgh", "Edinburgh", "EH1 1YZ", 55.9533, -3.1883, ("131",)),
        ),
        (10,),
    ),
    "DE": CountryRules(
        "DE",
        "Germany",
        _eu(("151", "152", "157", "160", "170", "171", "176"), (11,), ("800",), (10,)),
        (
            Place("Berlin", "Berlin", "10115", 52.5200, 13.4050, ("30",)),
            Place("München", "Bayern", "80331", 48.1351, 11.5820, ("89",)),
            Place("Hamburg", "Hamburg", "20095", 53.5511, 9.9937, ("40",)),
            Place("Frankfurt am Main", "Hessen", "60311", 50.1109, 8.6821, ("69",)),
        ),
        (10,),
    ),
    "FR": CountryRules(
        "FR",
        "France",
        _eu(("6", "7"), (9,), ("80",), (9,), ("9",), (9,)),
        (
            Place("Paris", "Île-de-France", "75001", 48.8566, 2.3522, ("1",)),
            Place("Lyon", "Auvergne-Rhône-Alpes", "69001", 45.7640, 4.8357, ("47",)),
            Place("Marseille", "Provence-Alpes-Côte d'Azur", "13001", 43.2965, 5.3698, ("49",)),
            Place("Bordeaux", "Nouvelle-Aquitaine", "33000", 44.8378, -0.5792, ("55",)),
        ),
        (9,),
    ),
    "NL": CountryRules(
        "NL",
        "Netherlands",
        _eu(("6",), (9,), ("800",), (7, 10), ("85", "88"), (9,)),
        (
            Place("Amsterdam", "Noord-Holland", "1012 JS", 52.3676, 4.9041, ("20",)),
            Place("Rotterdam", "Zuid-Holland", "3011 AD", 51.9244, 4.4777, ("10",)),
            Place("Den Haag", "Zuid-Holland", "2511 BT", 52.0705, 4.3007, ("70",)),
            Place("Utrecht", "Utrecht", "3511 AD", 52.0907, 5.1214, ("30",)),
        ),
        (9,),
    ),
    "ES": CountryRules(
        "ES",
        "Spain",
        _eu(("6", "7"), (9,), ("800", "900"), (9,)),
        (
            Place("Madrid", "Madrid", "28013", 40.4168, -3.7038, ("91",)),
            Place("Barcelona", "Cataluña", "08002", 41.3874, 2.1686, ("93",)),
            Place("Valencia", "Comunidad Valenciana", "46002", 39.4699, -0.3763, ("96",)),
            Place("Sevilla", "Andalucía", "41004", 37.3891, -5.9845, ("95",)),
        ),
        (9,),
    ),
    "IT": CountryRules(
        "IT",
        "Italy",
        _eu(("32", "33", "34", "35", "36", "37", "38", "39"), (10,), ("800", "803"), (9,)),
        (
            Place("Roma", "Lazio", "00184", 41.9028, 12.4964, ("06",)),
            Place("Milano", "Lombardia", "20121", 45.4642, 9.1900, ("02",)),
            Place("Napoli", "Campania", "80133", 40.8518, 14.2681, ("081",)),
            Place("Torino", "Piemonte", "10121", 45.0703, 7.6869, ("011",)),
        ),
        (10,),
    ),
    "AU": CountryRules(
        "AU",
        "Australia",
        {
            "local": TypeRule(False, False, "local", True, _FIXED),
            "mobile": TypeRule(True, True, "any", True, _MOBILE, ("4",), (9,)),
            "toll-free": TypeRule(False, False, "none", True, _TOLL_FREE, ("1800",), (10,)),
        },
        (
            Place("Sydney", "NSW", "2000", -33.8688, 151.2093, ("29", "28")),
            Place("Melbourne", "VIC", "3000", -37.8136, 144.9631, ("39", "38")),
            Place("Brisbane", "QLD", "4000", -27.4698, 153.0251, ("73",)),
            Place("Perth", "WA", "6000", -31.9505, 115.8605, ("89",)),
        ),
        (9,),
    ),
}


def sms_number_type(iso_country: str) -> str:
    """The number type that carries SMS in a country (local in US/CA, mobile elsewhere)."""
    rules = COUNTRIES[iso_country]
    for number_type in ("local", "mobile", "national", "toll-free"):
        rule = rules.types.get(number_type)
        if rule is not None and rule.sms:
            return number_type
    raise KeyError(iso_country)
