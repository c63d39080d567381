"""Pricing API v1: what a phone number costs a month, per country and number type.

``GET /v1/PhoneNumbers/Countries`` lists the nine countries the emulator sells numbers in;
``GET /v1/PhoneNumbers/Countries/{IsoCountry}`` answers their monthly prices, one per number type
the country sells (Twilio spells the types ``local``, ``mobile``, ``national`` and ``toll free``),
in US dollars, as decimal strings. The figures are of the order of Twilio's public price list;
any other country is Twilio's 20404. Prices are the same for every account, as they are for
accounts on Twilio's list prices.
"""

from __future__ import annotations

from typing import Any

from .countries import COUNTRIES
from .errors import not_found
from .routing import Ctx, page_v, route

PRICING = "https://pricing.twilio.com/v1/PhoneNumbers/Countries"
PRICE_UNIT = "USD"
#: Monthly list price of one number, by country and number type (the emulator's names): one
#: for each type `countries.COUNTRIES` sells there.
MONTHLY_PRICES: dict[str, dict[str, str]] = {
    "US": {"local": "1.15", "toll-free": "2.15"},
    "CA": {"local": "1.15", "toll-free": "2.15"},
    "GB": {"local": "1.15", "mobile": "1.15", "toll-free": "2.15"},
    "DE": {"local": "1.15", "mobile": "12.00", "toll-free": "18.00"},
    "FR": {"local": "1.15", "mobile": "4.00", "national": "1.15", "toll-free": "17.00"},
    "NL": {"local": "1.15", "mobile": "6.00", "national": "1.15", "toll-free": "18.00"},
    "ES": {"local": "1.15", "mobile": "10.00", "toll-free": "18.00"},
    "IT": {"local": "1.15", "mobile": "12.00", "toll-free": "25.00"},
    "AU": {"local": "3.00", "mobile": "6.50", "toll-free": "16.00"},
}
#: How the Pricing API names each number type.
PRICING_TYPE_NAMES = {
    "local": "local",
    "mobile": "mobile",
    "national": "national",
    "toll-free": "toll free",
}


def _country(iso: str) -> dict[str, Any]:
    return {
        "country": COUNTRIES[iso].name,
        "iso_country": iso,
        "url": f"{PRICING}/{iso}",
    }


@route("GET", "pricing", r"/v1/PhoneNumbers/Countries")
def list_countries(ctx: Ctx) -> tuple[int, Any]:
    return page_v(ctx, "countries", sorted(MONTHLY_PRICES), _country)


@route("GET", "pricing", r"/v1/PhoneNumbers/Countries/(?P<IsoCountry>[^/]+)")
def fetch_country(ctx: Ctx) -> tuple[int, Any]:
    iso = ctx.groups["IsoCountry"].upper()
    prices = MONTHLY_PRICES.get(iso)
    if prices is None:
        raise not_found(ctx.path)
    return 200, {
        **_country(iso),
        "phone_number_prices": [
            {
                "number_type": PRICING_TYPE_NAMES[number_type],
                "base_price": price,
                "current_price": price,
            }
            for number_type, price in prices.items()
        ],
        "price_unit": PRICE_UNIT,
    }
