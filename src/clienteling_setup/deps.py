"""FastAPI dependencies: the runtime, one transaction per request, the current tenant."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Header, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from clienteling_setup.db.session import transaction
from clienteling_setup.runtime import Runtime
from clienteling_setup.status.cache import StatusCache

_bearer = HTTPBearer(auto_error=False, description="JWT naming the tenants it grants.")


def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


def get_session(runtime: Annotated[Runtime, Depends(get_runtime)]) -> Iterator[Session]:
    """The request's unit of work: committed once when the endpoint returns without error."""
    with transaction(runtime.sessions) as session:
        yield session


def current_tenant(
    request: Request,
    _credentials: Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)] = None,
    _tenant: Annotated[
        str | None,
        Header(
            alias="Tenant",
            description="The name of the tenant making the request.",
            examples=["dodici"],
        ),
    ] = None,
) -> str:
    # AuthMiddleware has already authenticated the request and checked the Tenant header;
    # the parameters above only document them in the OpenAPI description.
    tenant: str = request.state.tenant
    return tenant


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
SessionDep = Annotated[Session, Depends(get_session, scope="function")]
TenantDep = Annotated[str, Depends(current_tenant)]


def get_status_cache(request: Request) -> StatusCache:
    status_cache: StatusCache = request.app.state.runtime.status_cache
    return status_cache


StatusCacheDep = Annotated[StatusCache, Depends(get_status_cache)]
