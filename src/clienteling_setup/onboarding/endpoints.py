from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from clienteling_setup import errors
from clienteling_setup.compliance.lists import forget_available_number
from clienteling_setup.deps import ActorDep, GatewayDep, ListCacheDep, TenantDep, UowsDep
from clienteling_setup.onboarding import groups, service
from clienteling_setup.onboarding.schemas import (
    GROUP_ID_PATTERN,
    GroupId,
    OnboardStoreRequest,
    SenderGroupRead,
    SenderGroupWrite,
    StoreOnboardingRead,
    group_read,
    onboarding_read,
)
from clienteling_setup.openapi_docs import ERRORS_READ, answer, write_responses
from clienteling_setup.stores.endpoints import StoreIdPath

router = APIRouter(prefix="/clienteling", tags=["Stores"])
# Tagged "Stores" and "Sender groups", like the group operations always were.
groups_router = APIRouter(tags=["Sender groups"])

GroupIdPath = Annotated[
    GroupId, Path(description="The sender group's identifier.", pattern=GROUP_ID_PATTERN)
]


@router.post(
    "/stores/{store_id}/onboard",
    status_code=201,
    summary="Onboard store",
    description=(
        "Onboard a new store to clienteling: buys the phone number (unless already owned), adds "
        "it to the Messaging Service and forwards its calls to the store's own phone. The same "
        "request repeated answers 200 with the same result; another number for an onboarded "
        "store is 409."
    ),
    responses=write_responses(200, "Already onboarded with this number", StoreOnboardingRead),
)
def onboard_store(
    store_id: StoreIdPath,
    body: OnboardStoreRequest,
    tenant: TenantDep,
    uows: UowsDep,
    gateway: GatewayDep,
    actor: ActorDep,
    response: Response,
    cache: ListCacheDep,
    enable: Annotated[
        bool, Query(description="Also switch the store on for associates right away.")
    ] = False,
) -> StoreOnboardingRead:
    try:
        result = service.onboard_store(
            uows, gateway, tenant, store_id, body, enable=enable, actor=actor
        )
    except errors.NumberNoLongerAvailable:
        # Twilio refused it: the cached list must not offer it to the next caller.
        forget_available_number(cache, tenant, body.phone_number)
        raise
    read = answer(response, result, onboarding_read)
    read.sending = service.sending_note(uows, tenant, store_id)
    return read


@groups_router.put(
    "/sender-groups/{sender_group_id}",
    summary="Create or update a sender group",
    responses=write_responses(201, "Created", SenderGroupRead),
)
def put_sender_group(
    sender_group_id: GroupIdPath,
    body: SenderGroupWrite,
    tenant: TenantDep,
    uows: UowsDep,
    gateway: GatewayDep,
    response: Response,
) -> SenderGroupRead:
    result = groups.put_group(uows, gateway, tenant, sender_group_id, body)
    return answer(response, result, group_read)


@groups_router.get(
    "/sender-groups/{sender_group_id}", summary="Retrieve a sender group", responses=ERRORS_READ
)
def get_sender_group(
    sender_group_id: GroupIdPath, tenant: TenantDep, uows: UowsDep
) -> SenderGroupRead:
    return group_read(groups.get_group(uows, tenant, sender_group_id))


@groups_router.get("/sender-groups", summary="List sender groups", responses=ERRORS_READ)
def list_sender_groups(tenant: TenantDep, uows: UowsDep) -> list[SenderGroupRead]:
    return [group_read(g) for g in groups.list_groups(uows, tenant)]


router.include_router(groups_router)
