"""Twilio's regulatory bundle status callbacks: the bundle's StatusCallback URL.

Twilio does not publish the callback's body; like its other status callbacks it is a signed,
form-encoded POST, read here as ``AccountSid``, ``BundleSid``, ``Status`` and (when rejected)
``FailureReason``. A request without a valid ``X-Twilio-Signature`` for the tenant's subaccount
is 403 and changes nothing. The status is recorded at once; then the bundle (its failure reason
and supporting documents) is refreshed through the gateway, best effort.
"""

from __future__ import annotations

import logging
import re

from fastapi import Response
from starlette.concurrency import run_in_threadpool

from clienteling_setup import errors
from clienteling_setup.cache import TTLCache
from clienteling_setup.callback_auth import webhook_router
from clienteling_setup.compliance import lists, records
from clienteling_setup.compliance.actions import (
    DRAFT,
    IN_REVIEW,
    PENDING_REVIEW,
    PROVISIONALLY_APPROVED,
    TWILIO_APPROVED,
    TWILIO_REJECTED,
)
from clienteling_setup.db.base import utcnow
from clienteling_setup.deps import GatewayDep, ListCacheDep, UowsDep, VerifiedCallbackDep
from clienteling_setup.providers.messaging import MessagingGateway, ProviderError
from clienteling_setup.unit_of_work import UnitsOfWork

log = logging.getLogger("clienteling_setup.compliance")

BUNDLE_STATUSES = frozenset(
    {DRAFT, PENDING_REVIEW, IN_REVIEW, TWILIO_REJECTED, TWILIO_APPROVED, PROVISIONALLY_APPROVED}
)

_BUNDLE_SID = re.compile(r"BU[0-9a-fA-F]{32}")

router = webhook_router()


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
    callback: VerifiedCallbackDep, uows: UowsDep, gateway: GatewayDep, cache: ListCacheDep
) -> Response:
    await run_in_threadpool(
        apply_bundle_callback, uows, gateway, cache, callback.tenant_id, callback.params
    )
    return Response(status_code=204)


def apply_bundle_callback(
    uows: UnitsOfWork,
    gateway: MessagingGateway,
    cache: TTLCache,
    tenant_id: str,
    params: dict[str, str],
) -> None:
    sid = params.get("BundleSid", "")
    status = params.get("Status", "")
    if not _BUNDLE_SID.fullmatch(sid) or status not in BUNDLE_STATUSES:
        raise errors.BadRequest(
            "A bundle status callback needs 'BundleSid' (BU and 32 hex digits) and 'Status' "
            f"(one of {', '.join(sorted(BUNDLE_STATUSES))}); got {sid[:40]!r} and "
            f"{status[:40]!r}."
        )
    with uows.of(tenant_id) as uow:
        records.apply_bundle_status(
            uow.compliance, sid, status, params.get("FailureReason") or None
        )
        account = uow.tenants.account(uow.tenants.require())
    read_since = utcnow()
    try:
        bundle = gateway.fetch_bundle(account, sid)
        fetched = records.fetch_bundle(gateway, account, bundle)
    except ProviderError as exc:
        log.warning(
            "bundle refresh after a callback failed",
            extra={"tenant": tenant_id, "bundle": sid, "error": exc.message},
        )
        return
    with uows.of(tenant_id) as uow:
        records.store_bundles(uow.compliance, [fetched], read_since=read_since, complete=False)
    lists.invalidate_tenant(cache, tenant_id)
