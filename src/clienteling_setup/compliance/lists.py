"""The four list operations: live Twilio lists behind a short per-tenant cache.

`TenantLists` holds the ports they use: the unit-of-work factory (the store, the tenant's
account, the numbers it claimed, the bundles' known addresses), the messaging gateway and the
list cache. They return the gateway's neutral records; the endpoints turn them into response
schemas.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from clienteling_setup import errors
from clienteling_setup.cache import TTLCache
from clienteling_setup.compliance.requirements import sms_number_type
from clienteling_setup.ledger.pricing import monthly_price
from clienteling_setup.providers.messaging import (
    AccountCredentials,
    Address,
    AvailableNumber,
    Bundle,
    MessagingGateway,
    MonthlyPrice,
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
    monthly_price: MonthlyPrice | None  # of one such number; None when Twilio's is unknown


@dataclass(frozen=True)
class ListedBundle:
    """A regulatory bundle with the address it carries and its country."""

    bundle: Bundle
    address_sid: str | None
    iso_country: str


def invalidate_tenant(cache: TTLCache, tenant_id: str) -> None:
    """Forget every cached list of the tenant (after its compliance state changed)."""
    cache.invalidate(lambda key: isinstance(key, tuple) and key[:1] == (tenant_id,))


def forget_available_number(cache: TTLCache, tenant_id: str, phone_number: str) -> None:
    """Drop a number Twilio refused to sell (21422) from the tenant's cached searches, so the
    next list does not offer it again; the rest of each cached answer stays."""
    cache.replace(
        lambda key: isinstance(key, tuple) and key[:2] == (tenant_id, "numbers"),
        lambda numbers: [n for n in numbers if n.phone_number != phone_number],
    )


@dataclass(frozen=True)
class TenantLists:
    """The list operations of one tenant, on the ports they use."""

    uows: UnitsOfWork
    gateway: MessagingGateway
    cache: TTLCache
    tenant_id: str

    def available_numbers(self, store_id: str, *, fresh: bool = False) -> NumberOffer:
        """`fresh`: search Twilio again instead of using a cached answer (a bulk job that
        claimed every number the cached answer offered)."""
        account, store = self._store(store_id)
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
                found = self.gateway.search_available_numbers(
                    account,
                    country,
                    number_type,
                    in_postal_code=filters.get("in_postal_code"),
                    in_region=filters.get("in_region"),
                )
                if found:
                    return found
            return []

        key = ("numbers", country, number_type, tuple(map(str, attempts)))
        if fresh:
            self.cache.invalidate(lambda cached: cached == (self.tenant_id, *key))
        numbers = self._cached(key, "Listing available numbers", load)
        # The cached answer may predate purchases: never offer a number the tenant already
        # claimed (for SMS or WhatsApp; one indexed lookup of the offered numbers, not a scan).
        with self.uows.of(self.tenant_id) as uow:
            taken = uow.numbers.claimed_among(n.phone_number for n in numbers)
        free = [n for n in numbers if n.phone_number not in taken]
        return NumberOffer(number_type, free, monthly_price(self.gateway, country, number_type))

    def addresses(self, store_id: str) -> list[Address]:
        account, store = self._store(store_id)
        country = store.country_code
        return self._cached(
            ("addresses", country),
            "Listing addresses",
            lambda: self.gateway.list_addresses(account, country),
        )

    def regulatory_bundles(self, store_id: str) -> list[ListedBundle]:
        account, store = self._store(store_id)
        country = store.country_code

        def load() -> list[ListedBundle]:
            # One list call to Twilio; a bundle's address comes from the read model (kept
            # current by sync and callbacks) and costs a call of its own (its item assignments)
            # only for a bundle the read model lacks yet.
            listed = self.gateway.list_bundles(account, country)
            with self.uows.of(self.tenant_id) as uow:
                known = uow.compliance.bundle_addresses()
            return [
                ListedBundle(
                    bundle=b,
                    address_sid=known.get(b.sid) or self.gateway.bundle_address_sid(account, b.sid),
                    iso_country=b.iso_country or country,
                )
                for b in listed
            ]

        return self._cached(("bundles", country), "Listing regulatory bundles", load)

    def trust_products(self) -> list[TrustProduct]:
        with self.uows.of(self.tenant_id) as uow:
            account = uow.tenants.account(uow.tenants.require())
        return self._cached(
            ("trust-products",),
            "Listing trust products",
            lambda: self.gateway.list_trust_products(account),
        )

    def _store(self, store_id: str) -> tuple[AccountCredentials, Store]:
        """The tenant's account and the store (which must exist, as must the configuration)."""
        with self.uows.of(self.tenant_id) as uow:
            store = uow.stores.require(store_id)
            return uow.tenants.account(uow.tenants.require()), store

    def _cached(self, key: tuple[Any, ...], action: str, load: Callable[[], T]) -> T:
        """`load()`, cached under the tenant and `key`; a Twilio failure answered for `action`."""
        try:
            return self.cache.get_or_load((self.tenant_id, *key), load)
        except ProviderError as exc:
            raise errors.from_provider(exc, action) from exc
