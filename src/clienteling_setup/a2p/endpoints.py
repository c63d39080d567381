from __future__ import annotations

import logging

from fastapi import APIRouter, Response
from starlette.concurrency import run_in_threadpool

from clienteling_setup.a2p import registration, service
from clienteling_setup.a2p.schemas import (
    A2PRegistrationRead,
    BusinessProfileRead,
    BusinessProfileWrite,
)
from clienteling_setup.callback_auth import webhook_router
from clienteling_setup.deps import (
    ActorDep,
    GatewayDep,
    PrimaryProfileDep,
    PublicBaseUrlDep,
    TenantDep,
    UowsDep,
    VerifiedCallbackDep,
)
from clienteling_setup.openapi_docs import ERRORS_READ, ERRORS_WRITE, write_responses

router = APIRouter(prefix="/clienteling", tags=["A2P 10DLC registration"])
callback_router = webhook_router()
log = logging.getLogger("clienteling_setup.a2p")


@router.put(
    "/business-profile",
    summary="Create or replace the business profile",
    description=(
        "What Twilio and The Campaign Registry need to register the retailer's US A2P 10DLC "
        "brand. The registration number and the authorized representative are stored "
        "encrypted. A change is sent to Twilio by the next POST /clienteling/a2p-registration "
        "(which resubmits what was rejected)."
    ),
    responses=write_responses(201, "Created", BusinessProfileRead),
)
def put_business_profile(
    body: BusinessProfileWrite, tenant: TenantDep, uows: UowsDep, response: Response
) -> BusinessProfileRead:
    profile, created = service.put_profile(uows, tenant, body)
    response.status_code = 201 if created else 200
    return profile


@router.get("/business-profile", summary="Retrieve the business profile", responses=ERRORS_READ)
def get_business_profile(tenant: TenantDep, uows: UowsDep) -> BusinessProfileRead:
    return service.get_profile(uows, tenant)


@router.post(
    "/a2p-registration",
    status_code=202,
    summary="Start or resume the US A2P 10DLC registration",
    description=(
        "Registers the business profile with Twilio: secondary customer profile, A2P trust "
        "product, brand, then (once the brand is approved) one campaign per Messaging Service. "
        "Exactly once and resumable: repeat it after a failure, or after fixing a rejection in "
        "the business profile. Answers 202 with each stage's Twilio status; reviews go on at "
        "Twilio and are followed by reconciliation."
    ),
    responses=ERRORS_WRITE,
)
def start_registration(
    tenant: TenantDep,
    uows: UowsDep,
    gateway: GatewayDep,
    actor: ActorDep,
    primary_profile: PrimaryProfileDep,
    public_base_url: PublicBaseUrlDep,
) -> A2PRegistrationRead:
    registration.start(
        uows,
        gateway,
        tenant,
        registration.Isv(primary_profile, public_base_url),
        actor=actor.subject,
        request_id=actor.request_id,
    )
    return service.read_registration(uows, tenant)


@router.get(
    "/a2p-registration",
    summary="Retrieve the US A2P 10DLC registration",
    responses=ERRORS_READ,
)
def get_registration(tenant: TenantDep, uows: UowsDep) -> A2PRegistrationRead:
    return service.read_registration(uows, tenant)


@callback_router.post(
    f"/{registration.STATUS_CALLBACK_PATH}",
    status_code=204,
    summary="Trust Hub status callback of the A2P customer profile and trust product (Twilio)",
    description=(
        "The StatusCallback the registration gives the retailer's secondary customer profile "
        "and A2P trust product. Twilio posts AccountSid, BundleSid, Status and FailureReason, "
        "signed with the subaccount's token; the registration's stage moves at once (no "
        "reconciliation pass needed). A SID that is not the tenant's is ignored (204)."
    ),
)
async def a2p_review_status(callback: VerifiedCallbackDep, uows: UowsDep) -> Response:
    tenant_id, params = callback.tenant_id, callback.params
    if not await run_in_threadpool(service.apply_status_callback, uows, tenant_id, params):
        # 2xx anyway: Twilio would only retry a callback we can never match.
        log.warning(
            "A2P status callback for an unknown customer profile or trust product",
            extra={"tenant": tenant_id, "bundle": params.get("BundleSid", "")[:40]},
        )
    return Response(status_code=204)
