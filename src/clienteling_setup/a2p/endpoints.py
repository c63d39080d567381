from __future__ import annotations

from fastapi import APIRouter, Response

from clienteling_setup.a2p import registration, service
from clienteling_setup.a2p.schemas import (
    A2PRegistrationRead,
    BusinessProfileRead,
    BusinessProfileWrite,
)
from clienteling_setup.deps import ActorDep, GatewayDep, TenantDep, UowsDep
from clienteling_setup.openapi_docs import ERRORS_READ, ERRORS_WRITE, write_responses

router = APIRouter(prefix="/clienteling", tags=["A2P 10DLC registration"])


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
    tenant: TenantDep, uows: UowsDep, gateway: GatewayDep, actor: ActorDep
) -> A2PRegistrationRead:
    registration.start(uows, gateway, tenant, actor=actor.subject, request_id=actor.request_id)
    return service.read_registration(uows, tenant)


@router.get(
    "/a2p-registration",
    summary="Retrieve the US A2P 10DLC registration",
    responses=ERRORS_READ,
)
def get_registration(tenant: TenantDep, uows: UowsDep) -> A2PRegistrationRead:
    return service.read_registration(uows, tenant)
