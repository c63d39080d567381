from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from clienteling_setup.deps import GatewayDep, TenantDep, UowsDep
from clienteling_setup.onboarding import groups, service
from clienteling_setup.onboarding.schemas import (
    OnboardStoreRequest,
    SenderGroupRead,
    SenderGroupWrite,
    StoreOnboardingRead,
    group_read,
    onboarding_read,
)
from clienteling_setup.openapi_docs import ERRORS_READ, ERRORS_WRITE
from clienteling_setup.stores.endpoints import StoreIdPath

router = APIRouter(prefix="/clienteling", tags=["Stores"])

GroupIdPath = Annotated[
    str,
    Path(
        description="The sender group's identifier.", pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$"
    ),
]


@router.post(
    "/stores/{store_id}/onboard",
    response_model=StoreOnboardingRead,
    status_code=201,
    summary="Onboard store",
    description=(
        "Onboard a new store to clienteling: buys the phone number (unless already owned), adds "
        "it to the Messaging Service and forwards its calls to the store's own phone. The same "
        "request repeated answers 200 with the same result; another number for an onboarded "
        "store is 409."
    ),
    responses={
        200: {"description": "Already onboarded with this number", "model": StoreOnboardingRead},
        **ERRORS_WRITE,
    },
)
def onboard_store(
    store_id: StoreIdPath,
    body: OnboardStoreRequest,
    tenant: TenantDep,
    uows: UowsDep,
    gateway: GatewayDep,
    response: Response,
    enable: Annotated[
        bool, Query(description="Also switch the store on for associates right away.")
    ] = False,
) -> StoreOnboardingRead:
    row, created = service.onboard_store(uows, gateway, tenant, store_id, body, enable=enable)
    response.status_code = 201 if created else 200
    return onboarding_read(row)


@router.put(
    "/sender-groups/{sender_group_id}",
    response_model=SenderGroupRead,
    tags=["Sender groups"],
    summary="Create or update a sender group",
    responses={201: {"description": "Created", "model": SenderGroupRead}, **ERRORS_WRITE},
)
def put_sender_group(
    sender_group_id: GroupIdPath,
    body: SenderGroupWrite,
    tenant: TenantDep,
    uows: UowsDep,
    gateway: GatewayDep,
    response: Response,
) -> SenderGroupRead:
    group, created = groups.put_group(uows, gateway, tenant, sender_group_id, body)
    response.status_code = 201 if created else 200
    return group_read(group)


@router.get(
    "/sender-groups/{sender_group_id}",
    response_model=SenderGroupRead,
    tags=["Sender groups"],
    summary="Retrieve a sender group",
    responses=ERRORS_READ,
)
def get_sender_group(
    sender_group_id: GroupIdPath, tenant: TenantDep, uows: UowsDep
) -> SenderGroupRead:
    return group_read(groups.get_group(uows, tenant, sender_group_id))


@router.get(
    "/sender-groups",
    response_model=list[SenderGroupRead],
    tags=["Sender groups"],
    summary="List sender groups",
    responses=ERRORS_READ,
)
def list_sender_groups(tenant: TenantDep, uows: UowsDep) -> list[SenderGroupRead]:
    return [group_read(g) for g in groups.list_groups(uows, tenant)]
