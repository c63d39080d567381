"""The four list operations: live Twilio lists behind a short per-tenant cache.

Each takes the ports it uses: the unit-of-work factory (the store, the tenant's account, the
numbers it claimed, the bundles' known addresses), the messaging gateway and the list cache.
They return the gateway's neutral records; the endpoints turn them into response schemas.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from clienteling_setup import errors
from clienteling_setup.cache import TTLCache
from clienteling_setup.compliance.requirements import sms_number_type
from clienteling_setup.providers.messaging import (
    AccountCredentials,
    Address,
    AvailableNumber,
    Bundle,
    MessagingGateway,
    NumberType,
    ProviderError,
    TrustProduct,
)
from clienteling_setup.stores.models import Store
from clienteling_setup.unit_of_work import UnitsOfWork

T = TypeVar("T")


@dataclass(frozen=True)
class NumberOffer:
    """Numbers Twilio offers for a store, all of the store's SMS number type."""

    number_type: NumberType
    numbers: list[AvailableNumber]


@dataclass(frozen=True)
class ListedBundle:
    """A regulatory bundle with the address it carries and its country."""

    bundle: Bundle
    address_sid: str | None
    iso_country: str


def _context(
    uows: UnitsOfWork, tenant_id: str, store_id: str | None
) -> tuple[AccountCredentials, Store | None]:
    with uows.of(tenant_id) as uow:
        store = uow.stores.require(store_id) if store_id is not None else None
        tenant = uow.tenants.require()
        return uow.tenants.account(tenant), store


def _cached(cache: TTLCache, key: tuple[Any, ...], action: str, load: Callable[[], T]) -> T:
    try:
        return cache.get_or_load(key, load)
    except ProviderError as exc:
        raise errors.from_provider(exc, action) from exc


def invalidate_tenant(cache: TTLCache, tenant_id: str) -> None:
    """Forget every cached list of the tenant (after its compliance state changed)."""
    cache.invalidate(lambda key: isinstance(key, tuple) and key[:1] == (tenant_id,))


def available_numbers(
    uows: UnitsOfWork, gateway: MessagingGateway, cache: TTLCache, tenant_id: str, store_id: str
) -> NumberOffer:
    account, store = _context(uows, tenant_id, store_id)
    assert store is not None
    number_type: NumberType = sms_number_type(store.country_code)  # type: ignore[assignment]
    country = store.country_code
    # Nearest first: the store's postal code, then its region (US/CA only), then the country.
    attempts: list[dict[str, str]] = []
    if store.postal_code:
        attempts.append({"in_postal_code": store.postal_code})
    if store.region and country in ("US", "CA"):
        attempts.append({"in_region": store.region})
    attempts.append({})

    def load() -> list[AvailableNumber]:
        for filters in attempts:
            found = gateway.search_available_numbers(
                account,
                country,
                number_type,
                in_postal_code=filters.get("in_postal_code"),
                in_region=filters.get("in_region"),
            )
            if found:
                return found
        return []

    key = (tenant_id, "numbers", country, number_type, tuple(map(str, attempts)))
    numbers = _cached(cache, key, "Listing available numbers", load)
    # The cached answer may predate purchases: never offer a number the tenant already claimed
    # (for SMS or WhatsApp; one indexed lookup of the offered numbers, not a tenant scan).
    with uows.of(tenant_id) as uow:
        taken = uow.numbers.claimed_among(n.phone_number for n in numbers)
    return NumberOffer(number_type, [n for n in numbers if n.phone_number not in taken])


def addresses(
    uows: UnitsOfWork, gateway: MessagingGateway, cache: TTLCache, tenant_id: str, store_id: str
) -> list[Address]:
    account, store = _context(uows, tenant_id, store_id)
    assert store is not None
    country = store.country_code
    return _cached(
        cache,
        (tenant_id, "addresses", country),
        "Listing addresses",
        lambda: gateway.list_addresses(account, country),
    )


def regulatory_bundles(
    uows: UnitsOfWork, gateway: MessagingGateway, cache: TTLCache, tenant_id: str, store_id: str
) -> list[ListedBundle]:
    account, store = _context(uows, tenant_id, store_id)
    assert store is not None
    country = store.country_code

    def load() -> list[ListedBundle]:
        # One list call to Twilio; a bundle's address comes from the read model (kept current
        # by sync and callbacks) and costs a call of its own (its item assignments) only for a
        # bundle the read model lacks yet.
        listed = gateway.list_bundles(account, country)
        with uows.of(tenant_id) as uow:
            known = uow.compliance.bundle_addresses()
        return [
            ListedBundle(
                bundle=b,
                address_sid=known.get(b.sid) or gateway.bundle_address_sid(account, b.sid),
                iso_country=b.iso_country or country,
            )
            for b in listed
        ]

    return _cached(cache, (tenant_id, "bundles", country), "Listing regulatory bundles", load)


def trust_products(
    uows: UnitsOfWork, gateway: MessagingGateway, cache: TTLCache, tenant_id: str
) -> list[TrustProduct]:
    account, _ = _context(uows, tenant_id, None)
    return _cached(
        cache,
        (tenant_id, "trust-products"),
        "Listing trust products",
        lambda: gateway.list_trust_products(account),
    )
