from __future__ import annotations

from fastapi import APIRouter, Response

from clienteling_setup.deps import AfterEnableDep, GatewayDep, PublicBaseUrlDep, TenantDep, UowsDep
from clienteling_setup.openapi_docs import ERRORS_READ, ERRORS_WRITE, answer, write_responses
from clienteling_setup.tenants import service
from clienteling_setup.tenants.schemas import (
    ConfigurationCreate,
    ConfigurationRead,
    ConfigurationUpdate,
    OptInTemplateRead,
    OptInTemplateWrite,
    configuration_read,
    opt_in_read,
)

router = APIRouter(prefix="/clienteling", tags=["Configuration"])


@router.post(
    "/configuration",
    status_code=201,
    summary="Enable clienteling configuration for retailer",
    description=(
        "Configures clienteling capabilities for an existing retailer: provisions the tenant's "
        "Twilio subaccount, Messaging Service and call-forwarding voice application. The "
        "ecom_link property contains the link to the e-commerce website of the retailer, which "
        "is included along with product recommendations sent to the customer."
    ),
    responses={**ERRORS_WRITE, 409: ERRORS_WRITE[409]},
)
def enable_configuration(
    body: ConfigurationCreate,
    tenant: TenantDep,
    uows: UowsDep,
    gateway: GatewayDep,
    base_url: PublicBaseUrlDep,
    after: AfterEnableDep,
) -> ConfigurationRead:
    return configuration_read(service.enable(uows, gateway, base_url, tenant, body, after=after))


@router.get("/configuration", summary="Retrieve clienteling configuration", responses=ERRORS_READ)
def get_configuration(tenant: TenantDep, uows: UowsDep) -> ConfigurationRead:
    return configuration_read(service.get_configuration(uows, tenant))


@router.patch("/configuration", summary="Update clienteling configuration", responses=ERRORS_WRITE)
def patch_configuration(
    body: ConfigurationUpdate, tenant: TenantDep, uows: UowsDep
) -> ConfigurationRead:
    return configuration_read(service.update_configuration(uows, tenant, body))


@router.put(
    "/opt-in-template",
    summary="Create or replace the SMS opt-in disclaimer template",
    responses=write_responses(201, "Created", OptInTemplateRead),
)
def put_opt_in_template(
    body: OptInTemplateWrite, tenant: TenantDep, uows: UowsDep, response: Response
) -> OptInTemplateRead:
    return answer(response, service.put_opt_in(uows, tenant, body.body), opt_in_read)


@router.get(
    "/opt-in-template",
    summary="Retrieve the SMS opt-in disclaimer template",
    responses=ERRORS_READ,
)
def get_opt_in_template(tenant: TenantDep, uows: UowsDep) -> OptInTemplateRead:
    return opt_in_read(service.get_opt_in(uows, tenant))
