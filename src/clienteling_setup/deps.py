"""FastAPI dependencies: the ports an endpoint hands to its service, and the current tenant.

Endpoints never receive the whole runtime: each declares the ports it passes on (the unit of
work factory, the messaging gateway, storage, caches), taken from what the composition root
(`bootstrap`) built and `app.create_app` put on the application.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated

from fastapi import Depends, Header, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from clienteling_setup.auth.actor import Actor
from clienteling_setup.cache import TTLCache
from clienteling_setup.callback_auth import VerifiedCallback, verify_callback
from clienteling_setup.providers.messaging import AccountCredentials, MessagingGateway
from clienteling_setup.providers.storage import ObjectStorage
from clienteling_setup.unit_of_work import UnitsOfWork

if TYPE_CHECKING:  # the composition root's product; importing it would invert the layers
    from clienteling_setup.runtime import Runtime

#: `tenants.service.AfterEnable`, spelled out so that this low module imports no capability.
AfterEnable = Callable[[str, AccountCredentials], None]

_bearer = HTTPBearer(auto_error=False, description="JWT naming the tenants it grants.")


def _runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


def get_uows(request: Request) -> UnitsOfWork:
    return _runtime(request).uows


def get_gateway(request: Request) -> MessagingGateway:
    return _runtime(request).gateway


def get_primary_customer_profile_sid(request: Request) -> str | None:
    return _runtime(request).primary_customer_profile_sid


def get_storage(request: Request) -> ObjectStorage:
    return _runtime(request).storage


def get_list_cache(request: Request) -> TTLCache:
    return _runtime(request).list_cache


def get_public_base_url(request: Request) -> str:
    return _runtime(request).public_base_url


def get_after_enable(request: Request) -> AfterEnable | None:
    return _runtime(request).after_enable


async def get_verified_callback(
    request: Request,
    signature: Annotated[str | None, Header(alias="X-Twilio-Signature")] = None,
) -> VerifiedCallback:
    runtime = _runtime(request)
    return await verify_callback(request, runtime.uows, runtime.public_base_url, signature)


def get_upload_expiry_seconds(request: Request) -> int:
    return _runtime(request).settings.s3.upload_expiry_seconds


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


def current_actor(request: Request) -> Actor:
    """Who the ledger names for what this request buys or releases: the token's subject."""
    return Actor(str(request.state.principal), str(request.state.request_id))


UowsDep = Annotated[UnitsOfWork, Depends(get_uows)]
GatewayDep = Annotated[MessagingGateway, Depends(get_gateway)]
PrimaryProfileDep = Annotated[str | None, Depends(get_primary_customer_profile_sid)]
StorageDep = Annotated[ObjectStorage, Depends(get_storage)]
ListCacheDep = Annotated[TTLCache, Depends(get_list_cache)]
PublicBaseUrlDep = Annotated[str, Depends(get_public_base_url)]
TenantDep = Annotated[str, Depends(current_tenant)]
VerifiedCallbackDep = Annotated[VerifiedCallback, Depends(get_verified_callback)]
UploadExpiryDep = Annotated[int, Depends(get_upload_expiry_seconds)]
AfterEnableDep = Annotated[AfterEnable | None, Depends(get_after_enable)]
ActorDep = Annotated[Actor, Depends(current_actor)]
