from __future__ import annotations

from fastapi import APIRouter, Response

from clienteling_setup import sync
from clienteling_setup.deps import RuntimeDep, SessionDep, TenantDep
from clienteling_setup.openapi_docs import ERRORS_READ, ERRORS_WRITE
from clienteling_setup.tenants import service
from clienteling_setup.tenants.models import OptInTemplate, Tenant
from clienteling_setup.tenants.schemas import (
    CallForwardingRead,
    ConfigurationCreate,
    ConfigurationRead,
    ConfigurationUpdate,
    OptInTemplateRead,
    OptInTemplateWrite,
    TwilioAccountRead,
)

router = APIRouter(prefix="/clienteling", tags=["Configuration"])


def _read(tenant: Tenant) -> ConfigurationRead:
    return ConfigurationRead(
        tenant=tenant.id,
        ecom_link=tenant.ecom_link,
        created_at=tenant.created_at,
        updated_at=tenant.updated_at,
        twilio=TwilioAccountRead(
            sid=tenant.subaccount_sid,
            messaging_service_sid=tenant.messaging_service_sid,
            call_forwarding=CallForwardingRead(
                sid=tenant.voice_app_sid, name=tenant.voice_app_name
            ),
        ),
    )


@router.post(
    "/configuration",
    status_code=201,
    response_model=ConfigurationRead,
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
    body: ConfigurationCreate, tenant: TenantDep, runtime: RuntimeDep
) -> ConfigurationRead:
    return _read(sync.enable_configuration(runtime, tenant, body))


@router.get(
    "/configuration",
    response_model=ConfigurationRead,
    summary="Retrieve clienteling configuration",
    responses=ERRORS_READ,
)
def get_configuration(tenant: TenantDep, session: SessionDep) -> ConfigurationRead:
    return _read(service.get_configuration(session, tenant))


@router.patch(
    "/configuration",
    response_model=ConfigurationRead,
    summary="Update clienteling configuration",
    responses=ERRORS_WRITE,
)
def patch_configuration(
    body: ConfigurationUpdate, tenant: TenantDep, session: SessionDep
) -> ConfigurationRead:
    return _read(service.update_configuration(session, tenant, body))


def _opt_in(template: OptInTemplate) -> OptInTemplateRead:
    return OptInTemplateRead(id=template.id, body=template.body, updated_at=template.updated_at)


@router.put(
    "/opt-in-template",
    response_model=OptInTemplateRead,
    summary="Create or replace the SMS opt-in disclaimer template",
    responses={201: {"description": "Created", "model": OptInTemplateRead}, **ERRORS_WRITE},
)
def put_opt_in_template(
    body: OptInTemplateWrite, tenant: TenantDep, session: SessionDep, response: Response
) -> OptInTemplateRead:
    template, created = service.put_opt_in(session, tenant, body.body)
    response.status_code = 201 if created else 200
    return _opt_in(template)


@router.get(
    "/opt-in-template",
    response_model=OptInTemplateRead,
    summary="Retrieve the SMS opt-in disclaimer template",
    responses=ERRORS_READ,
)
def get_opt_in_template(tenant: TenantDep, session: SessionDep) -> OptInTemplateRead:
    return _opt_in(service.get_opt_in(session, tenant))
