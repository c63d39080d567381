"""The list operations (numbers, addresses, bundles, trust products) and the bundle callback."""

from __future__ import annotations

from fastapi import APIRouter

from clienteling_setup.compliance import callbacks, lists
from clienteling_setup.compliance.schemas import (
    AddressRead,
    AvailablePhoneNumber,
    RegulatoryBundleRead,
    TrustProductRead,
)
from clienteling_setup.deps import GatewayDep, ListCacheDep, TenantDep, UowsDep
from clienteling_setup.openapi_docs import ERRORS_READ
from clienteling_setup.providers.messaging import Address, AvailableNumber, TrustProduct
from clienteling_setup.stores.endpoints import StoreIdPath

router = APIRouter(prefix="/clienteling")
# Twilio's bundle status callbacks (public: signature-checked, not token-checked).
router.include_router(callbacks.router)


def available_number_read(number: AvailableNumber, number_type: str) -> AvailablePhoneNumber:
    return AvailablePhoneNumber(
        phone_number=number.phone_number,
        locality=number.locality,
        region=number.region,
        postal_code=number.postal_code,
        iso_country=number.iso_country,
        number_type=number_type,
    )


def address_read(address: Address) -> AddressRead:
    return AddressRead(
        sid=address.sid,
        friendly_name=address.friendly_name,
        street=address.street,
        street_secondary=address.street_secondary,
        city=address.city,
        region=address.region,
        postal_code=address.postal_code,
        iso_country=address.iso_country,
    )


def bundle_read(listed: lists.ListedBundle) -> RegulatoryBundleRead:
    bundle = listed.bundle
    return RegulatoryBundleRead(
        sid=bundle.sid,
        friendly_name=bundle.friendly_name,
        address_sid=listed.address_sid,
        status=bundle.status,
        iso_country=listed.iso_country,
        number_type=bundle.number_type,
    )


def trust_product_read(product: TrustProduct) -> TrustProductRead:
    return TrustProductRead(
        sid=product.sid, friendly_name=product.friendly_name, status=product.status
    )


@router.get(
    "/stores/{store_id}/available-phone-numbers",
    response_model=list[AvailablePhoneNumber],
    tags=["Available phone numbers"],
    summary="List available phone numbers",
    description="SMS-capable numbers of the store's country and SMS number type, near the "
    "store (postal code, then region, then country).",
    responses=ERRORS_READ,
)
def list_available_numbers(
    store_id: StoreIdPath,
    tenant: TenantDep,
    uows: UowsDep,
    gateway: GatewayDep,
    cache: ListCacheDep,
) -> list[AvailablePhoneNumber]:
    offer = lists.available_numbers(uows, gateway, cache, tenant, store_id)
    return [available_number_read(n, offer.number_type) for n in offer.numbers]


@router.get(
    "/stores/{store_id}/addresses",
    response_model=list[AddressRead],
    tags=["Addresses"],
    summary="List addresses",
    description="Addresses registered with Twilio, filtered by the store's ISO country.",
    responses=ERRORS_READ,
)
def list_addresses(
    store_id: StoreIdPath,
    tenant: TenantDep,
    uows: UowsDep,
    gateway: GatewayDep,
    cache: ListCacheDep,
) -> list[AddressRead]:
    return [address_read(a) for a in lists.addresses(uows, gateway, cache, tenant, store_id)]


@router.get(
    "/stores/{store_id}/regulatory-bundles",
    response_model=list[RegulatoryBundleRead],
    tags=["Regulatory bundles"],
    summary="List regulatory bundles",
    description="Regulatory bundles registered with Twilio for the store's ISO country, each "
    "with the address it carries.",
    responses=ERRORS_READ,
)
def list_bundles(
    store_id: StoreIdPath,
    tenant: TenantDep,
    uows: UowsDep,
    gateway: GatewayDep,
    cache: ListCacheDep,
) -> list[RegulatoryBundleRead]:
    found = lists.regulatory_bundles(uows, gateway, cache, tenant, store_id)
    return [bundle_read(b) for b in found]


@router.get(
    "/trust-products",
    response_model=list[TrustProductRead],
    tags=["Trust products"],
    summary="List trust products",
    responses=ERRORS_READ,
)
def list_trust_products(
    tenant: TenantDep, uows: UowsDep, gateway: GatewayDep, cache: ListCacheDep
) -> list[TrustProductRead]:
    return [trust_product_read(p) for p in lists.trust_products(uows, gateway, cache, tenant)]
