from __future__ import annotations

import logging

from fastapi import APIRouter, Response
from starlette.concurrency import run_in_threadpool

from clienteling_setup.callback_auth import webhook_router
from clienteling_setup.deps import (
    ActorDep,
    GatewayDep,
    PublicBaseUrlDep,
    StorageDep,
    TenantDep,
    UowsDep,
    UploadExpiryDep,
    VerifiedCallbackDep,
)
from clienteling_setup.openapi_docs import (
    ERRORS_READ,
    ERRORS_WRITE,
    ErrorBody,
    answer,
    write_responses,
)
from clienteling_setup.stores.endpoints import StoreIdPath
from clienteling_setup.whatsapp import callbacks, service, uploads
from clienteling_setup.whatsapp.schemas import (
    ProfilePictureUploadRead,
    ProfilePictureUploadRequest,
    WhatsAppOnboardRequest,
    WhatsAppRegistrationRead,
    WhatsAppSenderRead,
    registration_read,
    sender_read,
)

log = logging.getLogger("clienteling_setup.whatsapp")

router = APIRouter(prefix="/clienteling", tags=["WhatsApp"])
callback_router = webhook_router()


@router.post(
    "/stores/{store_id}/whatsapp/onboard",
    status_code=202,
    summary="Onboard a store to WhatsApp",
    description=(
        "Onboard a store, already onboarded for SMS, to WhatsApp: registers its SMS number "
        "(or the dedicated `whatsapp_phone_number`, bought if not owned) as a WhatsApp sender "
        "with Twilio. Meta reviews the sender asynchronously (202); its status then follows "
        "in the onboarding status. Repeating the request for a registered store updates the "
        "sender's profile (200)."
    ),
    responses=write_responses(200, "The store's sender profile was updated", WhatsAppSenderRead),
)
def onboard_whatsapp(
    store_id: StoreIdPath,
    body: WhatsAppOnboardRequest,
    tenant: TenantDep,
    uows: UowsDep,
    gateway: GatewayDep,
    storage: StorageDep,
    base_url: PublicBaseUrlDep,
    actor: ActorDep,
    response: Response,
) -> WhatsAppSenderRead:
    ports = service.WhatsAppPorts(gateway=gateway, storage=storage, public_base_url=base_url)
    result = service.onboard_whatsapp(uows, ports, tenant, store_id, body, actor=actor)
    return answer(response, result, sender_read, created=202)


@router.get(
    "/stores/{store_id}/whatsapp",
    summary="Retrieve a store's WhatsApp registration",
    description=(
        "Beyond the reference: the store's WhatsApp sender as the service holds it: its SID, "
        "status, WABA, the profile it was registered or last updated with, Meta's quality "
        "rating and messaging limit, why it is offline, and the last registration error. "
        "404 for an unknown store, and for a store never registered for WhatsApp."
    ),
    responses=ERRORS_READ,
)
def get_whatsapp(
    store_id: StoreIdPath, tenant: TenantDep, uows: UowsDep
) -> WhatsAppRegistrationRead:
    return registration_read(service.get_registration(uows, tenant, store_id))


@router.post(
    "/whatsapp/profile-picture-upload-url",
    summary="Generates a WhatsApp profile picture upload URL",
    description=(
        "Creates an upload URL that can be used to upload a WhatsApp profile picture (PNG or "
        "JPEG, at most 5 MB). Send `method` to `upload_url` as multipart/form-data with every "
        "entry of `fields`, then the file as the part named `file`, plus `headers`, before "
        "`expires_at`. The file will be publicly readable at `public_url`."
    ),
    responses=ERRORS_WRITE,
)
def profile_picture_upload_url(
    body: ProfilePictureUploadRequest,
    tenant: TenantDep,
    storage: StorageDep,
    expires_in: UploadExpiryDep,
) -> ProfilePictureUploadRead:
    return uploads.create_upload_url(storage, tenant, body.file_name, expires_in=expires_in)


@callback_router.post(
    "/whatsapp-sender-status",
    status_code=204,
    summary="Twilio's WhatsApp sender status callback",
    responses={
        409: {
            "model": ErrorBody,
            "description": "The callback is older than the sender's recorded status (by "
            "Twilio's Timestamp, else by the status's place in the sender's life); not applied.",
        }
    },
)
async def whatsapp_sender_status(callback: VerifiedCallbackDep, uows: UowsDep) -> Response:
    tenant_id, params = callback.tenant_id, callback.params
    if not await run_in_threadpool(callbacks.apply_status_callback, uows, tenant_id, params):
        # Answer 2xx anyway: Twilio would only retry a callback we can never match.
        log.warning(
            "sender status callback for an unknown sender",
            extra={"tenant": tenant_id, "sender_sid": params.get("SenderSid")},
        )
    return Response(status_code=204)
