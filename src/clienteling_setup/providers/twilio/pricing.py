"""Pricing calls: what a phone number costs a month, from Twilio's Pricing API (v1).

Prices are the master account's (a subaccount is billed on its parent's price list) and change
rarely, so each country's answer is kept `price_ttl` seconds: buying many numbers costs one
Pricing call per country. A failed read is not repeated for `PRICE_FAILURE_TTL` seconds (the
last known prices are used meanwhile, if any), so that a Pricing outage slows no purchase
beyond its first one.
"""

from __future__ import annotations

from clienteling_setup.providers.messaging import (
    MonthlyPrice,
    NotFound,
    NumberType,
    ProviderError,
    ProviderUnavailable,
)

from . import mapping
from .base import CountryPrices, GatewayBase

__all__ = ["PRICE_FAILURE_TTL", "PricingCalls"]

#: Seconds a failed read of a country's prices is remembered before Twilio is asked again.
PRICE_FAILURE_TTL = 30.0


class PricingCalls(GatewayBase):
    def monthly_number_price(
        self, iso_country: str, number_type: NumberType
    ) -> MonthlyPrice | None:
        return self._country_prices(iso_country.upper()).get(number_type)

    def _country_prices(self, iso: str) -> dict[str, MonthlyPrice]:
        now = self._clock()
        with self._lock:
            known = self._prices.get(iso)
        if known is not None and now < known.until:
            if known.error is not None:
                raise ProviderUnavailable(
                    f"Twilio's Pricing API failed for {iso} a moment ago: {known.error.message}",
                    code=known.error.code,
                    status=known.error.status,
                )
            return known.prices
        countries = self._master.pricing.v1.phone_numbers.countries
        try:
            prices = self._call(
                "fetch number prices", lambda: mapping.number_prices(countries(iso).fetch())
            )
        except NotFound:
            prices = {}  # Twilio sells no numbers there
        except ProviderError as exc:
            if known is not None and known.error is None:
                # Prices change rarely: the last ones read stay good a while longer.
                self._keep(iso, CountryPrices(now + PRICE_FAILURE_TTL, known.prices))
                return known.prices
            self._keep(iso, CountryPrices(now + PRICE_FAILURE_TTL, {}, exc))
            raise
        self._keep(iso, CountryPrices(now + self._price_ttl, prices))
        return prices

    def _keep(self, iso: str, prices: CountryPrices) -> None:
        with self._lock:
            self._prices[iso] = prices
