"""The four list operations: live Twilio lists behind a short per-tenant cache."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, union

from clienteling_setup import errors
from clienteling_setup.compliance.models import BundleRecord
from clienteling_setup.compliance.requirements import sms_number_type
from clienteling_setup.db.session import transaction
from clienteling_setup.onboarding.models import StoreOnboarding
from clienteling_setup.providers.messaging import (
    AccountCredentials,
    AvailableNumber,
    NumberType,
    ProviderError,
)
from clienteling_setup.runtime import Runtime
from clienteling_setup.stores.models import Store
from clienteling_setup.stores.service import require_store
from clienteling_setup.tenants.service import require_tenant
from clienteling_setup.whatsapp.models import WhatsAppSenderRecord


def _context(
    runtime: Runtime, tenant_id: str, store_id: str | None
) -> tuple[AccountCredentials, Store | None]:
    with transaction(runtime.sessions) as session:
        store = require_store(session, tenant_id, store_id) if store_id is not None else None
        tenant = require_tenant(session, tenant_id)
        return runtime.credentials(tenant.subaccount_sid, tenant.auth_token_encrypted), store


def _cached(runtime: Runtime, key: tuple[Any, ...], action: str, load: Any) -> Any:
    try:
        return runtime.list_cache.get_or_load(key, load)
    except ProviderError as exc:
        raise errors.from_provider(exc, action) from exc


def available_numbers(runtime: Runtime, tenant_id: str, store_id: str) -> list[dict[str, Any]]:
    account, store = _context(runtime, tenant_id, store_id)
    assert store is not None
    number_type: NumberType = sms_number_type(store.country_code)  # type: ignore[assignment]
    # Nearest first: the store's postal code, then its region (US/CA only), then the country.
    attempts: list[dict[str, str]] = []
    if store.postal_code:
        attempts.append({"in_postal_code": store.postal_code})
    if store.region and store.country_code in ("US", "CA"):
        attempts.append({"in_region": store.region})
    attempts.append({})

    def load() -> list[AvailableNumber]:
        for filters in attempts:
            found = runtime.gateway.search_available_numbers(
                account,
                store.country_code,
                number_type,
                in_postal_code=filters.get("in_postal_code"),
                in_region=filters.get("in_region"),
            )
            if found:
                return found
        return []

    key = (tenant_id, "numbers", store.country_code, number_type, tuple(map(str, attempts)))
    numbers: list[AvailableNumber] = _cached(runtime, key, "Listing available numbers", load)
    # The cached answer may predate purchases: never offer a number the tenant already claimed.
    taken = _claimed_numbers(runtime, tenant_id, [n.phone_number for n in numbers])
    return [
        {
            "phone_number": n.phone_number,
            "locality": n.locality,
            "region": n.region,
            "postal_code": n.postal_code,
            "iso_country": n.iso_country,
            "number_type": number_type,
        }
        for n in numbers
        if n.phone_number not in taken
    ]


def _claimed_numbers(runtime: Runtime, tenant_id: str, candidates: list[str]) -> set[str]:
    """Which of `candidates` the tenant already claimed (index lookups, not a tenant scan)."""
    if not candidates:
        return set()
    sms = select(StoreOnboarding.phone_number).where(
        StoreOnboarding.tenant_id == tenant_id, StoreOnboarding.phone_number.in_(candidates)
    )
    whatsapp = select(WhatsAppSenderRecord.phone_number).where(
        WhatsAppSenderRecord.tenant_id == tenant_id,
        WhatsAppSenderRecord.phone_number.in_(candidates),
    )
    with transaction(runtime.sessions) as session:
        return set(session.scalars(union(sms, whatsapp)))


def addresses(runtime: Runtime, tenant_id: str, store_id: str) -> list[dict[str, Any]]:
    account, store = _context(runtime, tenant_id, store_id)
    assert store is not None
    found = _cached(
        runtime,
        (tenant_id, "addresses", store.country_code),
        "Listing addresses",
        lambda: runtime.gateway.list_addresses(account, store.country_code),
    )
    return [
        {
            "sid": a.sid,
            "friendly_name": a.friendly_name,
            "street": a.street,
            "street_secondary": a.street_secondary,
            "city": a.city,
            "region": a.region,
            "postal_code": a.postal_code,
            "iso_country": a.iso_country,
        }
        for a in found
    ]


def _known_bundle_addresses(runtime: Runtime, tenant_id: str) -> dict[str, str]:
    """Each bundle's address as the read model has it (kept current by sync and callbacks)."""
    with transaction(runtime.sessions) as session:
        rows = session.execute(
            select(BundleRecord.sid, BundleRecord.address_sid).where(
                BundleRecord.tenant_id == tenant_id, BundleRecord.address_sid.is_not(None)
            )
        )
        return {sid: address for sid, address in rows if address}


def regulatory_bundles(runtime: Runtime, tenant_id: str, store_id: str) -> list[dict[str, Any]]:
    account, store = _context(runtime, tenant_id, store_id)
    assert store is not None

    def load() -> list[dict[str, Any]]:
        # One list call to Twilio; a bundle's address comes from the read model and costs a
        # call of its own (its item assignments) only for a bundle the read model lacks yet.
        gateway = runtime.gateway
        known = _known_bundle_addresses(runtime, tenant_id)
        return [
            {
                "sid": b.sid,
                "friendly_name": b.friendly_name,
                "address_sid": known.get(b.sid) or gateway.bundle_address_sid(account, b.sid),
                "status": b.status,
                "iso_country": b.iso_country or store.country_code,
                "number_type": b.number_type,
            }
            for b in gateway.list_bundles(account, store.country_code)
        ]

    result: list[dict[str, Any]] = _cached(
        runtime, (tenant_id, "bundles", store.country_code), "Listing regulatory bundles", load
    )
    return result


def trust_products(runtime: Runtime, tenant_id: str) -> list[dict[str, Any]]:
    account, _ = _context(runtime, tenant_id, None)
    found = _cached(
        runtime,
        (tenant_id, "trust-products"),
        "Listing trust products",
        lambda: runtime.gateway.list_trust_products(account),
    )
    return [{"sid": p.sid, "friendly_name": p.friendly_name, "status": p.status} for p in found]
