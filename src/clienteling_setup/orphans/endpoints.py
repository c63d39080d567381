from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from clienteling_setup.deps import ActorDep, GatewayDep, TenantDep, UowsDep
from clienteling_setup.openapi_docs import ERRORS_WRITE
from clienteling_setup.orphans import service
from clienteling_setup.orphans.schemas import NumberReleaseRead, number_release_read
from clienteling_setup.text import Text

router = APIRouter(prefix="/clienteling", tags=["Numbers"])

NUMBER_SID_PATTERN = r"^PN[0-9a-fA-F]{32}$"
NumberSidPath = Annotated[
    str,
    Path(
        description="The number's Twilio SID (PN followed by 32 hex digits).",
        pattern=NUMBER_SID_PATTERN,
    ),
    Text(34),
]


@router.post(
    "/numbers/{number_sid}/release",
    summary="Release an orphan number",
    description=(
        "Releases a number the tenant's Twilio account owns that no store claims and no "
        "onboarding, offboarding or bulk job in progress holds (an orphan: bought by hand in "
        "the Twilio Console, or left by an attempt given up); its monthly cost stops, and the "
        "ledger records the release with who asked. A number a store claims, or an attempt "
        "holds, is refused with 409; a SID the account does not own is 404. Repeating the "
        "request answers the same release with 200 again. `orphans` in "
        "GET /clienteling/onboarding-status counts them after each reconciliation."
    ),
    responses=ERRORS_WRITE,
)
def release_number(
    number_sid: NumberSidPath,
    tenant: TenantDep,
    uows: UowsDep,
    gateway: GatewayDep,
    actor: ActorDep,
) -> NumberReleaseRead:
    row = service.release_orphan(uows, gateway, tenant, number_sid, actor=actor)
    return number_release_read(row)
