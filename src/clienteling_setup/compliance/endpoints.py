"""The list operations (numbers, addresses, bundles, trust products) and the bundle callback."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from clienteling_setup.compliance.lists import TenantLists
from clienteling_setup.compliance.schemas import (
    AddressRead,
    AvailablePhoneNumberRead,
    RegulatoryBundleRead,
    TrustProductRead,
    bundle_read,
)
from clienteling_setup.deps import GatewayDep, ListCacheDep, TenantDep, UowsDep
from clienteling_setup.ledger.schemas import price_read
from clienteling_setup.openapi_docs import ERRORS_READ
from clienteling_setup.schemas import read_from
from clienteling_setup.stores.endpoints import StoreIdPath

router = APIRouter(prefix="/clienteling")


def tenant_lists(
    tenant: TenantDep, uows: UowsDep, gateway: GatewayDep, cache: ListCacheDep
) -> TenantLists:
    return TenantLists(uows, gateway, cache, tenant)


ListsDep = Annotated[TenantLists, Depends(tenant_lists)]


@router.get(
    "/stores/{store_id}/available-phone-numbers",
    tags=["Available phone numbers"],
    summary="List available phone numbers",
    description="SMS-capable numbers of the store's country and SMS number type, near the "
    "store (postal code, then region, then country), each with what it would cost a month.",
    responses=ERRORS_READ,
)
def list_available_numbers(
    store_id: StoreIdPath, lists: ListsDep
) -> list[AvailablePhoneNumberRead]:
    offer = lists.available_numbers(store_id)
    price = price_read(offer.monthly_price)
    return [
        read_from(AvailablePhoneNumberRead, n, number_type=offer.number_type, monthly_price=price)
        for n in offer.numbers
    ]


@router.get(
    "/stores/{store_id}/addresses",
    tags=["Addresses"],
    summary="List addresses",
    description="Addresses registered with Twilio, filtered by the store's ISO country.",
    responses=ERRORS_READ,
)
def list_addresses(store_id: StoreIdPath, lists: ListsDep) -> list[AddressRead]:
    return [read_from(AddressRead, a) for a in lists.addresses(store_id)]


@router.get(
    "/stores/{store_id}/regulatory-bundles",
    tags=["Regulatory bundles"],
    summary="List regulatory bundles",
    description="Regulatory bundles registered with Twilio for the store's ISO country, each "
    "with the address it carries.",
    responses=ERRORS_READ,
)
def list_bundles(store_id: StoreIdPath, lists: ListsDep) -> list[RegulatoryBundleRead]:
    return [bundle_read(b) for b in lists.regulatory_bundles(store_id)]


@router.get(
    "/trust-products", tags=["Trust products"], summary="List trust products", responses=ERRORS_READ
)
def list_trust_products(lists: ListsDep) -> list[TrustProductRead]:
    return [read_from(TrustProductRead, p) for p in lists.trust_products()]
