from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Request, Response

from clienteling_setup.deps import TenantDep, UowsDep
from clienteling_setup.openapi_docs import ERRORS_READ
from clienteling_setup.status.cache import StatusCache
from clienteling_setup.status.schemas import OnboardingStatus
from clienteling_setup.status.view import read_status_unless

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
    responses={
        **ERRORS_READ,
        304: {
            "description": "The document is unchanged since the one whose `ETag` the request "
            "sent in `If-None-Match` (no body)."
        },
    },
)
def onboarding_status(
    tenant: TenantDep,
    uows: UowsDep,
    cache: StatusCacheDep,
    if_none_match: Annotated[
        str | None,
        Header(
            description="The `ETag` of a document the client holds: answered with 304 while "
            "nothing it shows changed (a poll costs a few index look-ups, no body)."
        ),
    ] = None,
) -> Response:
    # Built as plain data and serialised once, by orjson (10-20x faster than json.dumps on
    # this document): it can hold thousands of stores. `response_model` documents the shape
    # (the OpenAPI schema); tests/service/test_status_schema.py holds the document to it.
    # Unchanged data is served from the cache, checked against the database on every request.
    tag, document = read_status_unless(uows, cache, tenant, _tags(if_none_match))
    headers = {"ETag": tag, "Cache-Control": "no-cache", "Vary": "Authorization, Tenant"}
    if document is None:
        return Response(status_code=304, headers=headers)
    return Response(document, media_type="application/json", headers=headers)


def _tags(header: str | None) -> set[str] | None:
    """The entity tags of an If-None-Match header, weak or not (a weak comparison, as RFC 9110
    asks of If-None-Match): a proxy may have dropped the W/ prefix."""
    if not header:
        return None
    tags = {tag.strip() for tag in header.split(",") if tag.strip()}
    return tags | {f"W/{tag}" for tag in tags if not tag.startswith("W/")}
