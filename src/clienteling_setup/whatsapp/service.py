"""Onboard a store to WhatsApp, keep its sender's status, and issue profile picture uploads.

Registering a sender is a small resumable workflow, like SMS onboarding:

1. validate (no Twilio): the store is onboarded for SMS, the WABA is known (sent, or inherited
   from the store's sender group), a dedicated number is one of the store's country and
   nobody else's;
2. claim: the store's `whatsapp_senders` row (status ``pending``, no sender SID) is committed
   before anything is bought or registered; a lease in the database lets one request at a
   time work on the store;
3. a dedicated `whatsapp_phone_number` is owned exactly once through the SMS workflow's
   purchase step (looked up first, bought with a friendly name naming tenant, store and
   purpose);
4. the sender is looked up in Twilio by ``whatsapp:+E164`` and created only if absent, then
   recorded. A crash between creating and recording is adopted by the retry (or by `sync`).

A store that has a sender gets its profile updated instead (200). Status, quality rating,
messaging limit and offline reasons then follow Twilio's status callbacks, and reconciliation
(`whatsapp.reconcile.refresh_senders`) repairs lost ones.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from clienteling_setup import errors
from clienteling_setup.compliance.requirements import bundle_required
from clienteling_setup.db import leases
from clienteling_setup.db.base import utcnow
from clienteling_setup.db.session import transaction
from clienteling_setup.onboarding import repository
from clienteling_setup.onboarding.purchase import Purchase, check_bundle, ensure_number, renewer
from clienteling_setup.providers.local_storage import LocalStorage
from clienteling_setup.providers.messaging import (
    AccountCredentials,
    InputRejected,
    ProviderError,
    SenderProfile,
    WhatsAppSender,
)
from clienteling_setup.runtime import Runtime
from clienteling_setup.stores.service import require_store
from clienteling_setup.tenants.service import require_tenant
from clienteling_setup.validation import phone_of_country
from clienteling_setup.whatsapp.models import WhatsAppSenderRecord
from clienteling_setup.whatsapp.reconcile import apply_sender
from clienteling_setup.whatsapp.schemas import (
    WhatsAppOnboardRequest,
    WhatsAppProfileRead,
    WhatsAppSenderRead,
)

LEASE_SECONDS = 120
STATUS_CALLBACK_PATH = "/clienteling/webhooks/twilio/whatsapp-sender-status"
PENDING = "pending"  # claimed in our database, no sender in Twilio yet


def whatsapp_friendly_name(tenant_id: str, store_id: str) -> str:
    """The friendly name of a number bought for a store's WhatsApp sender."""
    return f"clienteling:{tenant_id}:store:{store_id}:whatsapp"[:64]


def sender_id_of(phone_number: str) -> str:
    return f"whatsapp:{phone_number}"


@dataclass(frozen=True)
class Registration:
    tenant_id: str
    store_id: str
    country: str
    account: AccountCredentials
    voice_app_sid: str
    phone_number: str  # the number to register
    number_sid: str | None  # known when it is the store's SMS number
    dedicated: bool  # a number of its own for WhatsApp (bought if not owned)
    waba_id: str
    profile: dict[str, str | None]
    bundle_sid: str | None
    address_sid: str | None
    needs_bundle: bool  # buying a number in the store's country needs a regulatory bundle

    @property
    def sender_id(self) -> str:
        return sender_id_of(self.phone_number)


def _profile(body: WhatsAppOnboardRequest) -> dict[str, str | None]:
    return {
        "name": body.profile_name,
        "email": body.profile_email,
        "website": body.profile_website,
        "picture": body.profile_picture,
        "description": body.profile_description,
        "about": body.profile_about,
        "address": body.profile_address,
    }


def sender_profile(profile: dict[str, Any]) -> SenderProfile:
    """Our profile fields, as Twilio's Senders API names them."""
    email, website = profile.get("email"), profile.get("website")
    return SenderProfile(
        name=str(profile.get("name") or ""),
        about=profile.get("about"),
        address=profile.get("address"),
        description=profile.get("description"),
        emails=(email,) if email else (),
        websites=(website,) if website else (),
        logo_url=profile.get("picture"),
    )


def view(row: WhatsAppSenderRecord) -> WhatsAppSenderRead:
    profile = row.profile or {}
    return WhatsAppSenderRead(
        store_id=row.store_id,
        sid=row.sender_sid,
        status=row.status.lower(),
        sender_id=sender_id_of(row.phone_number),
        phone_number=row.phone_number,
        phone_number_sid=row.number_sid,
        waba_id=row.waba_id,
        quality_rating=row.quality_rating,
        messaging_limit=row.messaging_limit,
        offline_reasons=list(row.offline_reasons or []),
        profile=WhatsAppProfileRead(
            name=str(profile.get("name") or ""),
            email=_text(profile.get("email")),
            website=_text(profile.get("website")),
            picture=_text(profile.get("picture")),
            description=_text(profile.get("description")),
            about=_text(profile.get("about")),
            address=_text(profile.get("address")),
        ),
        updated_at=row.updated_at,
    )


def _text(value: object) -> str | None:
    return None if value is None else str(value)


# -- onboarding -------------------------------------------------------------------------------


def onboard_whatsapp(
    runtime: Runtime, tenant_id: str, store_id: str, body: WhatsAppOnboardRequest
) -> tuple[WhatsAppSenderRead, bool]:
    """Returns the sender and whether this request registered it (202) or updated it (200)."""
    _check_picture_url(runtime, body.profile_picture)
    reg, existing_sid = _validate(runtime, tenant_id, store_id, body)
    if existing_sid is not None:
        return _update(runtime, reg, existing_sid), False
    lease = f"whatsapp:{tenant_id}:{store_id}"
    busy = errors.Conflict(
        f"Store '{store_id}' is being onboarded to WhatsApp by another request. "
        "Retry the same request in a few seconds."
    )
    with leases.held(runtime.sessions, lease, LEASE_SECONDS, busy=busy) as holder:
        # Another request may have finished while this one waited for the lease.
        reg, existing_sid = _validate(runtime, tenant_id, store_id, body)
        if existing_sid is not None:
            return _update(runtime, reg, existing_sid), False
        if reg.dedicated:
            _check_purchase_terms(runtime, reg)
        _claim(runtime, reg)
        return _register(runtime, reg, renewer(runtime, lease, holder, store_id)), True


def _check_picture_url(runtime: Runtime, url: str | None) -> None:
    if url is None or url.startswith("https://"):
        return
    storage = runtime.storage
    if isinstance(storage, LocalStorage) and url.startswith(storage.public_url("")):
        return  # the embedded default's own storage serves plain http
    raise errors.BadRequest(
        "'profile_picture' must be an absolute URL starting with https://. Upload the picture "
        "with POST /clienteling/whatsapp/profile-picture-upload-url and send its public_url."
    )


def _validate(
    runtime: Runtime, tenant_id: str, store_id: str, body: WhatsAppOnboardRequest
) -> tuple[Registration, str | None]:
    """The registration to do, and the SID of the store's sender when it already has one."""
    with transaction(runtime.sessions) as session:
        store = require_store(session, tenant_id, store_id)
        tenant = require_tenant(session, tenant_id)
        sms = repository.get_onboarding(session, tenant_id, store_id)
        if sms is None or sms.status != "onboarded":
            raise errors.BadRequest(
                f"Store '{store_id}' is not onboarded for SMS yet; a store gets WhatsApp after "
                f"SMS. Onboard it first with POST /clienteling/stores/{store_id}/onboard, then "
                "repeat this request."
            )
        existing = session.get(WhatsAppSenderRecord, (tenant_id, store_id))
        registered = existing if existing is not None and existing.sender_sid else None

        if body.whatsapp_phone_number is not None:
            try:
                number = phone_of_country(
                    body.whatsapp_phone_number, store.country_code, "whatsapp_phone_number"
                )
            except ValueError as exc:
                raise errors.BadRequest(f"'whatsapp_phone_number': {exc}.") from exc
        elif registered is not None:
            number = registered.phone_number  # a profile update keeps the registered number
        else:
            number = sms.phone_number

        waba_id = body.waba_id
        if waba_id is None and registered is not None:
            waba_id = registered.waba_id
        group = (
            repository.get_group(session, tenant_id, sms.sender_group_id)
            if sms.sender_group_id
            else None
        )
        if waba_id is None and group is not None:
            waba_id = group.waba_id
        if waba_id is None:
            where = (
                f"its sender group '{group.id}' has none (set one with "
                f"PUT /clienteling/sender-groups/{group.id})"
                if group is not None
                else "the store is not in a sender group that has one"
            )
            raise errors.BadRequest(
                f"'waba_id' is required: {where}. Send the WhatsApp Business Account ID as waba_id."
            )

        if registered is not None:
            if registered.phone_number != number:
                raise errors.Conflict(
                    f"Store '{store_id}' is already registered with WhatsApp on "
                    f"{registered.phone_number}; a store has one WhatsApp sender. Repeat the "
                    f"request with whatsapp_phone_number {registered.phone_number} (or without "
                    "it) to update the profile."
                )
            if waba_id != registered.waba_id:
                raise errors.Conflict(
                    f"Store '{store_id}' is registered with WhatsApp Business Account "
                    f"{registered.waba_id}; a sender's account cannot be changed. Send waba_id "
                    f"{registered.waba_id} or leave it out."
                )

        dedicated = number != sms.phone_number
        if dedicated:
            _check_number_is_free(session, tenant_id, store_id, number)
        reg = Registration(
            tenant_id=tenant_id,
            store_id=store_id,
            country=store.country_code,
            account=runtime.credentials(tenant.subaccount_sid, tenant.auth_token_encrypted),
            voice_app_sid=tenant.voice_app_sid,
            phone_number=number,
            number_sid=None if dedicated else sms.number_sid,
            dedicated=dedicated,
            waba_id=waba_id,
            profile=_profile(body),
            bundle_sid=body.bundle_sid,
            address_sid=body.address_sid,
            needs_bundle=bundle_required(store.country_code, session),
        )
        return reg, registered.sender_sid if registered is not None else None


def _check_number_is_free(session: Any, tenant_id: str, store_id: str, number: str) -> None:
    sms_owner = repository.onboarding_by_number(session, tenant_id, number)
    if sms_owner is not None:
        raise errors.Conflict(
            f"{number} is the SMS number of store '{sms_owner.store_id}'. Pick another "
            "whatsapp_phone_number, or leave it out to register this store's own SMS number."
        )
    wa_owner = session.scalar(
        select(WhatsAppSenderRecord).where(
            WhatsAppSenderRecord.tenant_id == tenant_id,
            WhatsAppSenderRecord.phone_number == number,
            WhatsAppSenderRecord.store_id != store_id,
        )
    )
    if wa_owner is not None:
        raise errors.Conflict(
            f"{number} is the WhatsApp number of store '{wa_owner.store_id}'. Pick another "
            "whatsapp_phone_number."
        )


def _check_purchase_terms(runtime: Runtime, reg: Registration) -> None:
    """Before claiming: a number to buy needs an approved bundle where the country wants one."""
    if reg.bundle_sid is not None:
        check_bundle(runtime, reg.account, reg.bundle_sid, reg.store_id, reg.country)
        return
    if not reg.needs_bundle:
        return
    try:
        owned = runtime.gateway.find_owned_number(reg.account, reg.phone_number)
    except ProviderError as exc:
        raise errors.from_provider(exc, "Checking whatsapp_phone_number") from exc
    if owned is None:
        raise errors.BadRequest(
            f"Store '{reg.store_id}' is in {reg.country}, where Twilio requires an approved "
            f"regulatory bundle to buy {reg.phone_number}: send bundle_sid and address_sid "
            f"from GET /clienteling/stores/{reg.store_id}/regulatory-bundles."
        )


def _claim(runtime: Runtime, reg: Registration) -> None:
    """Commit the store's sender row before buying or registering anything."""
    with transaction(runtime.sessions) as session:
        row = session.get(WhatsAppSenderRecord, (reg.tenant_id, reg.store_id))
        stale = (
            row.phone_number if row is not None and row.phone_number != reg.phone_number else None
        )
    if stale is not None:
        _check_stale_claim(runtime, reg, stale)
    with transaction(runtime.sessions) as session:
        row = session.get(WhatsAppSenderRecord, (reg.tenant_id, reg.store_id))
        if row is None:
            row = WhatsAppSenderRecord(tenant_id=reg.tenant_id, store_id=reg.store_id)
            session.add(row)
        row.phone_number = reg.phone_number
        row.number_sid = reg.number_sid
        row.waba_id = reg.waba_id
        row.profile = dict(reg.profile)
        row.status = PENDING
        row.last_error = None


def _check_stale_claim(runtime: Runtime, reg: Registration, stale: str) -> None:
    """An earlier attempt claimed another number: take it over only if it came to nothing."""
    try:
        sender = _find_sender(runtime, reg.account, sender_id_of(stale))
        owned = runtime.gateway.find_owned_number(reg.account, stale)
    except ProviderError as exc:
        raise errors.from_provider(exc, "Checking the earlier attempt's number") from exc
    bought = owned is not None and owned.friendly_name == whatsapp_friendly_name(
        reg.tenant_id, reg.store_id
    )
    if sender is not None or bought:
        what = "registered" if sender is not None else "bought"
        raise errors.Conflict(
            f"An earlier WhatsApp onboarding of store '{reg.store_id}' {what} {stale}. "
            f"Retry with whatsapp_phone_number {stale} to finish it."
        )


def _register(runtime: Runtime, reg: Registration, renew: Callable[[], None]) -> WhatsAppSenderRead:
    try:
        if reg.dedicated:
            renew()
            number = ensure_number(
                runtime,
                Purchase(
                    account=reg.account,
                    tenant_id=reg.tenant_id,
                    phone_number=reg.phone_number,
                    friendly_name=whatsapp_friendly_name(reg.tenant_id, reg.store_id),
                    bundle_sid=reg.bundle_sid,
                    address_sid=reg.address_sid,
                    voice_app_sid=reg.voice_app_sid,
                ),
                release=lambda: _release_claim(runtime, reg),
            )
            _record(runtime, reg, number_sid=number.sid)
        renew()
        sender = _ensure_sender(runtime, reg)
    except ProviderError as exc:
        _record_failure(runtime, reg, f"{type(exc).__name__}: {exc.message}")
        raise errors.from_provider(
            exc, f"Registering store '{reg.store_id}' with WhatsApp"
        ) from exc
    return view(_record(runtime, reg, sender=sender, last_error=None))


def _find_sender(
    runtime: Runtime, account: AccountCredentials, sender_id: str
) -> WhatsAppSender | None:
    return next(
        (s for s in runtime.gateway.list_senders(account) if s.sender_id == sender_id), None
    )


def _ensure_sender(runtime: Runtime, reg: Registration) -> WhatsAppSender:
    """The sender for `reg.sender_id`: adopted if Twilio has it, else created once."""
    gateway = runtime.gateway
    callback = runtime.callback_url(STATUS_CALLBACK_PATH)
    profile = sender_profile(reg.profile)
    found = _find_sender(runtime, reg.account, reg.sender_id)
    if found is not None:
        # Created by an earlier attempt that did not record it: bring its profile up to date.
        return gateway.update_sender(
            reg.account, found.sid, profile=profile, status_callback_url=callback
        )
    try:
        return gateway.create_sender(
            reg.account,
            sender_id=reg.sender_id,
            waba_id=reg.waba_id,
            profile=profile,
            status_callback_url=callback,
        )
    except InputRejected:
        raise
    except ProviderError:
        # Twilio may have created it before the answer was lost: look before failing.
        found = _find_sender(runtime, reg.account, reg.sender_id)
        if found is None:
            raise
        return found


def _record(
    runtime: Runtime,
    reg: Registration,
    *,
    sender: WhatsAppSender | None = None,
    **changes: object,
) -> WhatsAppSenderRecord:
    with transaction(runtime.sessions) as session:
        row = session.get(WhatsAppSenderRecord, (reg.tenant_id, reg.store_id))
        if row is None or row.phone_number != reg.phone_number:
            raise errors.Conflict(
                f"The WhatsApp onboarding of store '{reg.store_id}' changed meanwhile. "
                "Retry the request."
            )
        for key, value in changes.items():
            setattr(row, key, value)
        if sender is not None:
            apply_sender(row, sender)
        row.updated_at = utcnow()
        return row


def _record_failure(runtime: Runtime, reg: Registration, message: str) -> None:
    with transaction(runtime.sessions) as session:
        row = session.get(WhatsAppSenderRecord, (reg.tenant_id, reg.store_id))
        if row is not None and row.sender_sid is None:
            row.last_error = message[:1000]


def _release_claim(runtime: Runtime, reg: Registration) -> None:
    with transaction(runtime.sessions) as session:
        row = session.get(WhatsAppSenderRecord, (reg.tenant_id, reg.store_id))
        if row is not None and row.sender_sid is None and row.phone_number == reg.phone_number:
            session.delete(row)


def _update(runtime: Runtime, reg: Registration, sender_sid: str) -> WhatsAppSenderRead:
    try:
        sender = runtime.gateway.update_sender(
            reg.account,
            sender_sid,
            profile=sender_profile(reg.profile),
            status_callback_url=runtime.callback_url(STATUS_CALLBACK_PATH),
        )
    except ProviderError as exc:
        raise errors.from_provider(
            exc, f"Updating the WhatsApp profile of store '{reg.store_id}'"
        ) from exc
    with transaction(runtime.sessions) as session:
        row = session.get(WhatsAppSenderRecord, (reg.tenant_id, reg.store_id))
        if row is None or row.sender_sid != sender_sid:
            raise errors.Conflict(
                f"The WhatsApp sender of store '{reg.store_id}' changed meanwhile. "
                "Retry the request."
            )
        row.profile = dict(reg.profile)
        apply_sender(row, sender)
        row.updated_at = utcnow()
        return view(row)
