"""Bulk onboarding jobs: POST/GET /clienteling/onboarding-jobs, GET/DELETE .../{job_id}."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response
from fastapi.responses import JSONResponse

from clienteling_setup.deps import ActorDep, GatewayDep, ListCacheDep, TenantDep, UowsDep
from clienteling_setup.jobs import service
from clienteling_setup.jobs.schemas import (
    OffboardingJobPlan,
    OnboardingJobCreate,
    OnboardingJobPage,
    OnboardingJobPlan,
    OnboardingJobRead,
    Operation,
    job_read,
    offboarding_plan_read,
    plan_read,
)
from clienteling_setup.openapi_docs import ERRORS_READ, ERRORS_WRITE

router = APIRouter(prefix="/clienteling", tags=["Onboarding jobs"])

JOB_ID_PATTERN = r"^job_[0-9a-f]{20}$"
JobIdPath = Annotated[
    str, Path(description="The job's identifier.", pattern=JOB_ID_PATTERN, max_length=24)
]
JOB_PATH = "/clienteling/onboarding-jobs/{job_id}"


@router.post(
    "/onboarding-jobs",
    status_code=202,
    response_model=OnboardingJobRead,
    summary="Onboard (or offboard) many stores",
    description=(
        "Starts a bulk onboarding job and answers at once with its id (and its URL in "
        "Location); the service's workers onboard each store as a single onboarding would, "
        "with a number near the store and the country's one approved bundle and address. "
        "With dry_run true nothing is created or bought: the answer (200) says what the job "
        "would buy. With operation offboard, each store is offboarded as "
        "POST /clienteling/stores/{store_id}/offboard would (its `channels` and "
        "`release_number`); a filter then selects the stores onboarded on those channels, and "
        "a dry run (200, OffboardingJobPlan) says which numbers would be released."
    ),
    responses={
        200: {
            "description": "Dry run: what the job would buy (or release)",
            "model": OnboardingJobPlan | OffboardingJobPlan,
        },
        **ERRORS_WRITE,
    },
)
def start_job(
    body: OnboardingJobCreate,
    tenant: TenantDep,
    uows: UowsDep,
    gateway: GatewayDep,
    cache: ListCacheDep,
    actor: ActorDep,
    response: Response,
) -> Any:
    if body.dry_run and body.operation == Operation.OFFBOARD:
        planned = service.plan_offboarding(uows, tenant, body)
        read = offboarding_plan_read(planned, sorted(body.offboard_channels), body.release)
        return JSONResponse(read.model_dump(mode="json"))
    if body.dry_run:
        # 200, past the 202 response model: a plan, not a job.
        plan = service.plan_job(uows, gateway, cache, tenant, body)
        return JSONResponse(plan_read(plan, body.channel).model_dump(mode="json"))
    view = service.start_job(uows, tenant, body, actor)
    response.headers["Location"] = JOB_PATH.format(job_id=view.job.id)
    return job_read(view)


@router.get("/onboarding-jobs", summary="List onboarding jobs", responses=ERRORS_READ)
def list_jobs(
    tenant: TenantDep,
    uows: UowsDep,
    limit: Annotated[int, Query(ge=1, le=100, description="Page size.")] = 20,
    cursor: Annotated[
        str | None,
        Query(
            description="next_cursor of the previous page.",
            pattern=JOB_ID_PATTERN,
            max_length=24,
        ),
    ] = None,
) -> OnboardingJobPage:
    views = service.page_jobs(uows, tenant, before=cursor, limit=limit + 1)
    more = len(views) > limit
    views = views[:limit]
    return OnboardingJobPage(
        items=[job_read(v) for v in views],
        next_cursor=views[-1].job.id if more and views else None,
    )


@router.get(
    "/onboarding-jobs/{job_id}", summary="Retrieve an onboarding job", responses=ERRORS_READ
)
def get_job(
    job_id: JobIdPath,
    tenant: TenantDep,
    uows: UowsDep,
    stores: Annotated[
        bool, Query(description="Include each store's result (false: counts only).")
    ] = True,
) -> OnboardingJobRead:
    return job_read(service.get_job(uows, tenant, job_id, with_stores=stores))


@router.delete(
    "/onboarding-jobs/{job_id}",
    summary="Cancel an onboarding job",
    description="No new store starts; the stores under way finish. Repeating it is harmless.",
    responses=ERRORS_WRITE,
)
def cancel_job(job_id: JobIdPath, tenant: TenantDep, uows: UowsDep) -> OnboardingJobRead:
    return job_read(service.cancel_job(uows, tenant, job_id))
