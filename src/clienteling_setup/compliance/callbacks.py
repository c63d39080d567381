"""Twilio's regulatory bundle status callbacks: the bundle's StatusCallback URL.

Twilio does not publish the callback's body; like its other status callbacks it is a signed,
form-encoded POST, read here as ``AccountSid``, ``BundleSid``, ``Status`` and (when rejected)
``FailureReason``. A request without a valid ``X-Twilio-Signature`` for the tenant's subaccount
is 403 and changes nothing. The status is recorded at once; then the bundle (its failure reason
and supporting documents) is refreshed through the gateway, best effort.
"""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from clienteling_setup import errors
from clienteling_setup.compliance import records
from clienteling_setup.compliance.actions import (
    DRAFT,
    IN_REVIEW,
    PENDING_REVIEW,
    PROVISIONALLY_APPROVED,
    TWILIO_APPROVED,
    TWILIO_REJECTED,
)
from clienteling_setup.db.base import utcnow
from clienteling_setup.db.session import transaction
from clienteling_setup.deps import RuntimeDep
from clienteling_setup.providers.messaging import ProviderError
from clienteling_setup.runtime import Runtime
from clienteling_setup.tenants.models import Tenant
from clienteling_setup.webhooks import SignatureHeader, verified_form

log = logging.getLogger("clienteling_setup.compliance")
BUNDLE_STATUS_PATH = "/clienteling/webhooks/twilio/bundle-status"

BUNDLE_STATUSES = frozenset(
    {DRAFT, PENDING_REVIEW, IN_REVIEW, TWILIO_REJECTED, TWILIO_APPROVED, PROVISIONALLY_APPROVED}
)

router = APIRouter(prefix="/webhooks/twilio", tags=["Twilio webhooks"])


@router.post(
    "/bundle-status",
    status_code=204,
    summary="Regulatory bundle status callback (Twilio)",
    description=(
        "Give this URL as the StatusCallback of the tenant's regulatory bundles. Twilio posts "
        "AccountSid, BundleSid, Status and FailureReason, signed with the subaccount's token."
    ),
)
async def bundle_status(
    request: Request, runtime: RuntimeDep, signature: SignatureHeader = None
) -> Response:
    tenant, params = await verified_form(request, runtime, signature)
    await run_in_threadpool(apply_bundle_callback, runtime, tenant, params)
    return Response(status_code=204)


def apply_bundle_callback(runtime: Runtime, tenant: Tenant, params: dict[str, str]) -> None:
    sid = params.get("BundleSid", "")
    status = params.get("Status", "")
    if not sid.startswith("BU") or status not in BUNDLE_STATUSES:
        raise errors.BadRequest(
            "A bundle status callback needs 'BundleSid' (BU...) and 'Status' (one of "
            f"{', '.join(sorted(BUNDLE_STATUSES))}); got {sid!r} and {status!r}."
        )
    with transaction(runtime.sessions) as session:
        records.apply_bundle_status(
            session, tenant.id, sid, status, params.get("FailureReason") or None
        )
    account = runtime.credentials(tenant.subaccount_sid, tenant.auth_token_encrypted)
    read_since = utcnow()
    try:
        bundle = runtime.gateway.fetch_bundle(account, sid)
        fetched = records.fetch_bundle(runtime.gateway, account, bundle)
    except ProviderError as exc:
        log.warning(
            "bundle refresh after a callback failed",
            extra={"tenant": tenant.id, "bundle": sid, "error": exc.message},
        )
        return
    with transaction(runtime.sessions) as session:
        records.store_bundles(session, tenant.id, [fetched], read_since=read_since, complete=False)
    runtime.list_cache.invalidate(lambda key: isinstance(key, tuple) and key[:1] == (tenant.id,))
