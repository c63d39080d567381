"""Twilio's voice webhook: calls to a store's clienteling number ring the store's own phone."""

from __future__ import annotations

from fastapi import Response

from clienteling_setup.callback_auth import webhook_router
from clienteling_setup.deps import UowsDep, VerifiedCallbackDep
from clienteling_setup.providers.twilio.webhooks import forward_call_twiml

router = webhook_router()


@router.post("/voice", summary="Forward a call to the store's own phone (TwiML)")
def voice(callback: VerifiedCallbackDep, uows: UowsDep) -> Response:
    called = callback.params.get("To", "")
    with uows.of(callback.tenant_id) as uow:
        # The store's SMS number, or the dedicated WhatsApp number bought for it.
        holder = uow.numbers.holder(called)
        store = uow.stores.get(holder.store_id) if holder is not None else None
        phone = store.phone if store is not None else None
        name = store.name if store is not None else "our store"
    return Response(forward_call_twiml(phone, name), media_type="application/xml")
