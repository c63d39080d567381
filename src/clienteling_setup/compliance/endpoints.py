from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from clienteling_setup.compliance import callbacks, lists
from clienteling_setup.deps import RuntimeDep, TenantDep
from clienteling_setup.openapi_docs import ERRORS_READ
from clienteling_setup.stores.endpoints import StoreIdPath

router = APIRouter(prefix="/clienteling")
# Twilio's bundle status callbacks (public: signature-checked, not token-checked).
router.include_router(callbacks.router)


class AvailablePhoneNumber(BaseModel):
    phone_number: str = Field(examples=["+1234567890"])
    locality: str | None = Field(examples=["Jacksonville"])
    region: str | None = Field(examples=["FL"])
    postal_code: str | None = None
    iso_country: str | None = None
    number_type: str | None = None


class AddressRead(BaseModel):
    sid: str = Field(examples=["AD5e9d0932167fd19bfef4000e0fb15e15"])
    friendly_name: str | None = Field(examples=["Main Office"])
    street: str | None = Field(examples=["123 Main St"])
    street_secondary: str | None = Field(examples=["Suite 100"])
    city: str | None = Field(examples=["San Francisco"])
    region: str | None = Field(examples=["CA"])
    postal_code: str | None = Field(examples=["94105"])
    iso_country: str = Field(examples=["US"])


class RegulatoryBundleRead(BaseModel):
    sid: str = Field(examples=["BU5e9d0932167fd19bfef4000e0fb15e15"])
    friendly_name: str = Field(examples=["Germany Bundle"])
    address_sid: str | None = Field(examples=["AD5e9d0932167fd19bfef4000e0fb15e15"])
    status: str | None = None
    iso_country: str | None = None
    number_type: str | None = None


class TrustProductRead(BaseModel):
    sid: str = Field(examples=["BU5e9d0932167fd19bfef4000e0fb15e15"])
    friendly_name: str = Field(examples=["My Trust Product"])
    status: str | None = None


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
    store_id: StoreIdPath, tenant: TenantDep, runtime: RuntimeDep
) -> list[dict[str, Any]]:
    return lists.available_numbers(runtime, tenant, store_id)


@router.get(
    "/stores/{store_id}/addresses",
    response_model=list[AddressRead],
    tags=["Addresses"],
    summary="List addresses",
    description="Addresses registered with Twilio, filtered by the store's ISO country.",
    responses=ERRORS_READ,
)
def list_addresses(
    store_id: StoreIdPath, tenant: TenantDep, runtime: RuntimeDep
) -> list[dict[str, Any]]:
    return lists.addresses(runtime, tenant, store_id)


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
    store_id: StoreIdPath, tenant: TenantDep, runtime: RuntimeDep
) -> list[dict[str, Any]]:
    return lists.regulatory_bundles(runtime, tenant, store_id)


@router.get(
    "/trust-products",
    response_model=list[TrustProductRead],
    tags=["Trust products"],
    summary="List trust products",
    responses=ERRORS_READ,
)
def list_trust_products(tenant: TenantDep, runtime: RuntimeDep) -> list[dict[str, Any]]:
    return lists.trust_products(runtime, tenant)
