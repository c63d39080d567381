from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response

from clienteling_setup.deps import TenantDep, UowsDep
from clienteling_setup.openapi_docs import ERRORS_READ
from clienteling_setup.status.cache import StatusCache
from clienteling_setup.status.schemas import OnboardingStatus
from clienteling_setup.status.view import read_status

router = APIRouter(prefix="/clienteling", tags=["Onboarding status"])


def get_status_cache(request: Request) -> StatusCache:
    status_cache: StatusCache = request.app.state.runtime.status_cache
    return status_cache


StatusCacheDep = Annotated[StatusCache, Depends(get_status_cache)]


@router.get(
    "/onboarding-status",
    response_model=OnboardingStatus,
    summary="Retrieve clienteling onboarding status for retailer",
    description=(
        "Returns a consolidated view of the retailer's onboarding progress, including Twilio "
        "connectivity, SMS disclaimer templates, store coverage, and per-country compliance "
        "steps. Served from state the service keeps in sync; it never waits on Twilio."
    ),
    responses=ERRORS_READ,
)
def onboarding_status(tenant: TenantDep, uows: UowsDep, cache: StatusCacheDep) -> Response:
    # Built as plain data and serialised once, by orjson (10-20x faster than json.dumps on
    # this document): it can hold thousands of stores. `response_model` documents the shape
    # (the OpenAPI schema); tests/service/test_status_schema.py holds the document to it.
    # Unchanged data is served from the cache, checked against the database on every request.
    return Response(read_status(uows, cache, tenant), media_type="application/json")
