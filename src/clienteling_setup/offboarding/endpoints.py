from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response

from clienteling_setup.deps import ActorDep, GatewayDep, TenantDep, UowsDep
from clienteling_setup.offboarding import service
from clienteling_setup.offboarding.models import OFFBOARDED
from clienteling_setup.offboarding.schemas import (
    OffboardStoreRequest,
    StoreOffboardingRead,
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
