"""Twilio callbacks are accepted only with a valid X-Twilio-Signature for the tenant's
subaccount, computed over the public URL Twilio called; anything else is 403, changes nothing."""

from __future__ import annotations

import re
from dataclasses import dataclass

from fastapi import APIRouter, Request

from clienteling_setup import errors
from clienteling_setup.openapi_docs import ErrorBody
from clienteling_setup.providers.twilio.webhooks import signature_is_valid
from clienteling_setup.text import check_bounded_text
from clienteling_setup.unit_of_work import UnitsOfWork

#: Where Twilio's callbacks arrive: public (no bearer token), each checked for its signature.
WEBHOOK_PREFIX = "/clienteling/webhooks/twilio"
_ACCOUNT_SID = re.compile(r"AC[0-9a-fA-F]{32}")
#: The longest value of any callback field; each callback bounds its own fields further.
CALLBACK_VALUE_MAX_LENGTH = 8192


def webhook_router() -> APIRouter:
    """A router of Twilio callbacks: under `WEBHOOK_PREFIX`, tagged so in the API reference."""
    bad_field = {
        "model": ErrorBody,
        "description": "A signed callback with a field that is not bounded text, or not a "
        "value of the callback: the message names the field.",
    }
    return APIRouter(prefix=WEBHOOK_PREFIX, tags=["Twilio webhooks"], responses={400: bad_field})


@dataclass(frozen=True)
class VerifiedCallback:
    tenant_id: str
    params: dict[str, str]


async def verify_callback(
    request: Request, uows: UnitsOfWork, public_base_url: str, signature: str | None
) -> VerifiedCallback:
    form = await request.form()
    params = {k: v for k, v in form.items() if isinstance(v, str)}
    url = f"{public_base_url.rstrip('/')}{request.url.path}"
    if request.url.query:
        url = f"{url}?{request.url.query}"
    forbidden = errors.Forbidden("The X-Twilio-Signature of this callback is not valid.")
    account_sid = params.get("AccountSid", "")
    if not _ACCOUNT_SID.fullmatch(account_sid):
        raise forbidden  # no account of ours: nothing to look up
    with uows.platform() as platform:
        tenant = platform.tenants.by_account_sid(account_sid)
        token = platform.tenants.auth_token(tenant) if tenant is not None else None
    if tenant is None or token is None:
        raise forbidden
    if not signature_is_valid(token, url, params, signature):
        raise forbidden
    # Signed, so Twilio's (or a holder of the tenant's token): still text the database can hold.
    for name, value in params.items():
        try:
            check_bounded_text(value, CALLBACK_VALUE_MAX_LENGTH, multiline=True)
        except ValueError as exc:
            raise errors.BadRequest(f"'{name}': {exc}.") from exc
    return VerifiedCallback(tenant.id, params)
