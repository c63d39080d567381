from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response

from clienteling_setup.deps import ActorDep, GatewayDep, TenantDep, UowsDep
from clienteling_setup.offboarding import disabling, service
from clienteling_setup.offboarding.models import OFFBOARDED
from clienteling_setup.offboarding.schemas import (
    DisableRequest,
    DisablingRead,
    OffboardStoreRequest,
    StoreOffboardingRead,
    disabling_read,
    offboarding_read,
)
from clienteling_setup.openapi_docs import ERRORS_WRITE
from clienteling_setup.stores.endpoints import StoreIdPath

router = APIRouter(prefix="/clienteling", tags=["Stores"])

_UNDER_WAY: dict[int | str, dict[str, Any]] = {
    202: {
        "description": "Under way (another request or reconciliation is working on it): "
        "the steps done so far. Repeat the request to see it finish.",
        "model": StoreOffboardingRead,
    }
}


@router.post(
    "/stores/{store_id}/offboard",
    summary="Offboard store",
    description=(
        "Takes a store off clienteling: deletes its WhatsApp sender, removes its number from "
        "the Messaging Service, then releases the number (its monthly cost stops) or keeps it "
        "owned for the store. Each step is recorded; a repeated request finishes an "
        "interrupted offboarding and answers the finished one with 200 again."
    ),
    responses={**_UNDER_WAY, **ERRORS_WRITE},
)
def offboard_store(
    store_id: StoreIdPath,
    tenant: TenantDep,
    uows: UowsDep,
    gateway: GatewayDep,
    response: Response,
    actor: ActorDep,
    body: OffboardStoreRequest | None = None,
) -> StoreOffboardingRead:
    body = body or OffboardStoreRequest()
    channels = frozenset(body.channels)
    row = service.offboard_store(
        uows, gateway, tenant, store_id, channels, release=body.release_number, actor=actor
    )
    response.status_code = 200 if row.status == OFFBOARDED else 202
    return offboarding_read(row)


@router.delete(
    "/stores/{store_id}",
    status_code=204,
    summary="Remove a store from the directory",
    description=(
        "A store onboarded to clienteling (or keeping a number) is refused with 409 unless "
        "`offboard=true`, which first offboards it, releasing its numbers, then deletes it. "
        "While that offboarding is under way elsewhere the answer is 202 with its steps."
    ),
    responses={**_UNDER_WAY, **ERRORS_WRITE},
)
def delete_store(
    store_id: StoreIdPath,
    tenant: TenantDep,
    uows: UowsDep,
    gateway: GatewayDep,
    actor: ActorDep,
    offboard: Annotated[
        bool, Query(description="Offboard the store (releasing its numbers), then delete it.")
    ] = False,
) -> Response:
    under_way = service.close_store(uows, gateway, tenant, store_id, offboard=offboard, actor=actor)
    if under_way is not None:
        return Response(
            status_code=202,
            content=offboarding_read(under_way).model_dump_json(),
            media_type="application/json",
        )
    return Response(status_code=204)


@router.delete(
    "/configuration",
    tags=["Configuration"],
    summary="Disable clienteling for the retailer",
    description=(
        "Offboards every store and releases every number (their monthly cost stops), "
        "deletes the sender groups' and the tenant's Messaging Services and the voice "
        "application, then closes the tenant's Twilio subaccount. The body repeats the "
        "tenant's name. It runs in the background: 202 while under way (its progress is also "
        "under `disabling` in GET /clienteling/onboarding-status), 200 once done; repeating "
        "it is harmless and resumes one that stopped. Enabling again afterwards starts afresh "
        "with a new subaccount."
    ),
    responses={
        202: {"description": "Under way.", "model": DisablingRead},
        **ERRORS_WRITE,
    },
)
def disable_configuration(
    tenant: TenantDep,
    uows: UowsDep,
    gateway: GatewayDep,
    actor: ActorDep,
    response: Response,
    body: DisableRequest | None = None,
) -> DisablingRead:
    confirm = body.confirm_tenant if body is not None else None
    row = disabling.disable(uows, gateway, tenant, confirm, actor=actor)
    response.status_code = 200 if row.status == disabling.DISABLED else 202
    return disabling_read(row)
