"""Twilio callbacks: every request must carry a valid X-Twilio-Signature for the tenant's
subaccount, computed over the public URL Twilio called; anything else is 403 and changes
nothing."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Request, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from clienteling_setup import errors
from clienteling_setup.db.session import transaction
from clienteling_setup.deps import RuntimeDep
from clienteling_setup.onboarding.repository import onboarding_by_number
from clienteling_setup.providers.twilio.webhooks import forward_call_twiml, signature_is_valid
from clienteling_setup.runtime import Runtime
from clienteling_setup.stores.repository import get_store
from clienteling_setup.tenants.models import Tenant
from clienteling_setup.whatsapp.models import WhatsAppSenderRecord

router = APIRouter(prefix="/clienteling/webhooks/twilio", tags=["Twilio webhooks"])

SignatureHeader = Annotated[str | None, Header(alias="X-Twilio-Signature")]


def whatsapp_store_by_number(session: Session, tenant_id: str, number: str) -> str | None:
    return session.scalar(
        select(WhatsAppSenderRecord.store_id).where(
            WhatsAppSenderRecord.tenant_id == tenant_id,
            WhatsAppSenderRecord.phone_number == number,
        )
    )


def tenant_by_account(session: Session, account_sid: str) -> Tenant | None:
    return session.scalar(select(Tenant).where(Tenant.subaccount_sid == account_sid))


async def verified_form(
    request: Request, runtime: Runtime, signature: str | None
) -> tuple[Tenant, dict[str, str]]:
    form = await request.form()
    params = {k: v for k, v in form.items() if isinstance(v, str)}
    url = runtime.callback_url(request.url.path)
    if request.url.query:
        url = f"{url}?{request.url.query}"
    with transaction(runtime.sessions) as session:
        tenant = tenant_by_account(session, params.get("AccountSid", ""))
    forbidden = errors.Forbidden("The X-Twilio-Signature of this callback is not valid.")
    if tenant is None:
        raise forbidden
    token = runtime.secrets.decrypt(tenant.auth_token_encrypted)
    if not signature_is_valid(token, url, params, signature):
        raise forbidden
    return tenant, params


@router.post("/voice", summary="Forward a call to the store's own phone (TwiML)")
async def voice(
    request: Request, runtime: RuntimeDep, signature: SignatureHeader = None
) -> Response:
    tenant, params = await verified_form(request, runtime, signature)
    called = params.get("To", "")
    with transaction(runtime.sessions) as session:
        # The store's SMS number, or the dedicated WhatsApp number bought for it.
        row = onboarding_by_number(session, tenant.id, called)
        store_id = (
            row.store_id
            if row is not None
            else whatsapp_store_by_number(session, tenant.id, called)
        )
        store = get_store(session, tenant.id, store_id) if store_id is not None else None
        phone = store.phone if store is not None else None
        name = store.name if store is not None else "our store"
    return Response(forward_call_twiml(phone, name), media_type="application/xml")
