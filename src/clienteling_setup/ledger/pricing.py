"""What a number costs a month, as the ledger and the answers that show prices read it.

A price is information, never a condition: when Twilio's Pricing API cannot answer, the price
is unknown (None, logged) and whatever was being done goes on. The gateway keeps prices a while
(`MessagingGateway.monthly_number_price`), so asking here costs a Twilio call at most once per
country every few minutes.
"""

from __future__ import annotations

import logging

from clienteling_setup.providers.messaging import (
    MessagingGateway,
    MonthlyPrice,
    NumberType,
    ProviderError,
)

_logger = logging.getLogger(__name__)


def monthly_price(
    gateway: MessagingGateway, iso_country: str, number_type: NumberType
) -> MonthlyPrice | None:
    """The monthly price of one `number_type` number in `iso_country`, or None when Twilio
    lists none or its Pricing API failed (never raises a `ProviderError`)."""
    try:
        return gateway.monthly_number_price(iso_country, number_type)
    except ProviderError as exc:
        _logger.warning(
            "price of %s %s numbers unknown (Twilio's Pricing API: %s)",
            iso_country,
            number_type,
            exc.message,
        )
        return None
