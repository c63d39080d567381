"""Onboard a store to WhatsApp, keep its sender's status, and issue profile picture uploads.

Registering a sender is a small resumable workflow, like SMS onboarding:

1. validate (no Twilio): the store is onboarded for SMS, the WABA is known (sent, or inherited
   from the store's sender group), a dedicated number is one of the store's country and
   nobody else's;
2. claim: the store's `whatsapp_senders` row (status ``pending``, no sender SID) is committed
   before anything is bought or registered; a lease in the database lets one request at a
   time work on the store;
3. a dedicated `whatsapp_phone_number` is owned exactly once through the SMS workflow's
   purchase step (bought with a friendly name naming tenant, store and purpose; looked up
   first only on a retry), and its purchase goes into the money ledger with the step's record;
4. the sender is created, then recorded: one Twilio call for a store registering its SMS
   number, whatever the tenant's size. Only when an earlier attempt exists (the store's row
   was there before this request's claim, without a sender SID) may the sender exist
   unrecorded: then it is looked up by ``whatsapp:+E164`` first and adopted. A sender whose
   SID is recorded is updated by that SID, never searched for.

A store that has a sender gets its profile updated instead (200). Status, quality rating,
messaging limit and offline reasons then follow Twilio's status callbacks, and reconciliation
(`whatsapp.reconcile.refresh_senders`) repairs lost ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from clienteling_setup import errors
from clienteling_setup.auth.actor import Actor
from clienteling_setup.callback_auth import WEBHOOK_PREFIX
from clienteling_setup.compliance.requirements import bundle_required, priced_as
from clienteling_setup.db.base import utcnow
from clienteling_setup.ledger.costs import record_store_purchase
from clienteling_setup.ledger.pricing import monthly_price
from clienteling_setup.numbers.models import WHATSAPP
from clienteling_setup.numbers.purchase import (
    StoreNumber,
    StoreWorkflow,
    ensure_number,
    explain_refusal,
    number_friendly_name,
)
from clienteling_setup.numbers.registry import number_taken, refuse_while_offboarding
from clienteling_setup.providers.local_storage import LocalStorage
from clienteling_setup.providers.messaging import (
    AccountCredentials,
    MessagingGateway,
    MonthlyPrice,
    OwnedNumber,
    ProviderError,
    SenderProfile,
    WhatsAppSender,
)
from clienteling_setup.providers.storage import ObjectStorage
from clienteling_setup.unit_of_work import UnitOfWork, UnitsOfWork
from clienteling_setup.validation import phone_of_country
from clienteling_setup.whatsapp.models import WhatsAppSenderRecord
from clienteling_setup.whatsapp.reconcile import apply_sender
from clienteling_setup.whatsapp.schemas import WhatsAppOnboardRequest
from clienteling_setup.workflow.core import Run, adopt_or_create, claim

STATUS_CALLBACK_PATH = f"{WEBHOOK_PREFIX}/whatsapp-sender-status"
PENDING = "pending"  # claimed in our database, no sender in Twilio yet
#: Why the ledger records the purchase of a store's dedicated WhatsApp number.
WHATSAPP_REASON = "whatsapp onboarding"


def whatsapp_friendly_name(tenant_id: str, store_id: str) -> str:
    """The friendly name of a number bought for a store's WhatsApp sender."""
    return number_friendly_name(tenant_id, store_id, WHATSAPP)


def sender_id_of(phone_number: str) -> str:
    return f"whatsapp:{phone_number}"


@dataclass(frozen=True)
class Registration(StoreNumber):
    """The store's WhatsApp sender: `phone_number` is the number to register."""

    number_sid: str | None  # known when it is the store's SMS number
    dedicated: bool  # a number of its own for WhatsApp (bought if not owned)
    waba_id: str
    profile: dict[str, str | None]
    needs_bundle: bool  # buying a number in the store's country needs a regulatory bundle
    callback_url: str  # Twilio's status callbacks for the sender

    @property
    def sender_id(self) -> str:
        return sender_id_of(self.phone_number)


def get_registration(uows: UnitsOfWork, tenant_id: str, store_id: str) -> WhatsAppSenderRecord:
    """The store's WhatsApp registration as the service holds it (404 when it has none)."""
    with uows.of(tenant_id) as uow:
        uow.stores.require(store_id)
        row = uow.senders.get(store_id)
        if row is None:
            raise errors.NotFound(
                f"Store '{store_id}' has no WhatsApp registration. Register it with "
                f"POST /clienteling/stores/{store_id}/whatsapp/onboard."
            )
        return row


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


# -- onboarding -------------------------------------------------------------------------------


@dataclass(frozen=True)
class WhatsAppPorts:
    """What registering a sender needs besides the database."""

    gateway: MessagingGateway
    storage: ObjectStorage
    public_base_url: str

    @property
    def callback_url(self) -> str:
        return f"{self.public_base_url.rstrip('/')}{STATUS_CALLBACK_PATH}"


#: Offboarding (`offboarding.service`) holds this lease too, so the two never interleave.
WHATSAPP_ONBOARDING = StoreWorkflow(
    "whatsapp", title="WhatsApp onboarding", doing="onboarded to WhatsApp or offboarded"
)


def onboard_whatsapp(
    uows: UnitsOfWork,
    ports: WhatsAppPorts,
    tenant_id: str,
    store_id: str,
    body: WhatsAppOnboardRequest,
    *,
    actor: Actor,
) -> tuple[WhatsAppSenderRecord, bool]:
    """Returns the sender and whether this request registered it (202) or updated it (200).
    `actor` is who the ledger names for a dedicated number's purchase."""
    _check_picture_url(ports.storage, body.profile_picture)
    with uows.of(tenant_id) as uow:
        reg, existing_sid = _validate(uow, ports, store_id, body)
    if existing_sid is not None:
        return _update(uows, ports.gateway, reg, existing_sid), False
    with WHATSAPP_ONBOARDING.exclusive(uows, tenant_id, store_id) as run:
        # Another request may have finished while this one waited for the lease.
        with uows.of(tenant_id) as uow:
            reg, existing_sid = _validate(uow, ports, store_id, body)
        if existing_sid is not None:
            return _update(uows, ports.gateway, reg, existing_sid), False
        if reg.dedicated:
            _check_purchase_terms(ports.gateway, reg)
        earlier_attempt = _claim(uows, ports.gateway, reg, actor)
        try:
            registered = _register(
                uows, ports.gateway, reg, run, earlier_attempt, request_id=actor.request_id
            )
            return registered, True
        except errors.AppError as exc:
            refusal = exc.__cause__
            if reg.dedicated and isinstance(refusal, ProviderError):
                explain_refusal(
                    ports.gateway,
                    reg.account,
                    refusal,
                    bundle_sid=reg.bundle_sid,
                    store_id=reg.store_id,
                    store_country=reg.country,
                )
            raise


def _check_picture_url(storage: ObjectStorage, url: str | None) -> None:
    if url is None or url.startswith("https://"):
        return
    if isinstance(storage, LocalStorage) and url.startswith(storage.public_url("")):
        return  # the embedded default's own storage serves plain http
    raise errors.BadRequest(
        "'profile_picture' must be an absolute URL starting with https://. Upload the picture "
        "with POST /clienteling/whatsapp/profile-picture-upload-url and send its public_url."
    )


def _validate(
    uow: UnitOfWork, ports: WhatsAppPorts, store_id: str, body: WhatsAppOnboardRequest
) -> tuple[Registration, str | None]:
    """The registration to do, and the SID of the store's sender when it already has one."""
    store = uow.stores.require(store_id)
    tenant = uow.tenants.require_open()
    refuse_while_offboarding(uow, store_id)
    sms = uow.onboardings.get(store_id)
    if sms is None or sms.status != "onboarded":
        raise errors.BadRequest(
            f"Store '{store_id}' is not onboarded for SMS yet; a store gets WhatsApp after "
            f"SMS. Onboard it first with POST /clienteling/stores/{store_id}/onboard, then "
            "repeat this request."
        )
    existing = uow.senders.get(store_id)
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
    group = uow.groups.get(sms.sender_group_id) if sms.sender_group_id else None
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
        holder = uow.numbers.holder(number)
        if holder is not None and (holder.store_id, holder.channel) != (store_id, WHATSAPP):
            raise number_taken(uow, number)
    reg = Registration(
        tenant_id=uow.tenant_id,
        store_id=store_id,
        country=store.country_code,
        account=uow.tenants.account(tenant),
        voice_app_sid=tenant.voice_app_sid,
        phone_number=number,
        number_sid=None if dedicated else sms.number_sid,
        dedicated=dedicated,
        waba_id=waba_id,
        profile=_profile(body),
        bundle_sid=body.bundle_sid,
        address_sid=body.address_sid,
        needs_bundle=bundle_required(store.country_code, uow.requirements),
        callback_url=ports.callback_url,
    )
    return reg, registered.sender_sid if registered is not None else None


def _check_purchase_terms(gateway: MessagingGateway, reg: Registration) -> None:
    """Before claiming: a number to buy needs a bundle where the country wants one (the
    purchase itself checks the bundle given, see `numbers.purchase`)."""
    if reg.bundle_sid is not None or not reg.needs_bundle:
        return
    try:
        owned = gateway.find_owned_number(reg.account, reg.phone_number)
    except ProviderError as exc:
        raise errors.from_provider(exc, "Checking whatsapp_phone_number") from exc
    if owned is None:
        raise errors.BadRequest(
            f"Store '{reg.store_id}' is in {reg.country}, where Twilio requires an approved "
            f"regulatory bundle to buy {reg.phone_number}: send bundle_sid and address_sid "
            f"from GET /clienteling/stores/{reg.store_id}/regulatory-bundles."
        )


def _claim(uows: UnitsOfWork, gateway: MessagingGateway, reg: Registration, actor: Actor) -> bool:
    """Commit the store's sender row, and a dedicated number's claim in the registry, before
    buying or registering anything. Returns whether an earlier attempt on the same number
    exists (it may have bought the number or created the sender without recording it)."""
    with uows.of(reg.tenant_id) as uow:
        row = uow.senders.get(reg.store_id)
        earlier_attempt = row is not None and row.phone_number == reg.phone_number
        stale = (
            row.phone_number if row is not None and row.phone_number != reg.phone_number else None
        )
    if stale is not None:
        _check_stale_claim(gateway, reg, stale)

    def write(uow: UnitOfWork) -> None:
        if stale is not None:
            uow.numbers.release(stale, reg.store_id, WHATSAPP)
        if reg.dedicated:
            uow.numbers.claim(reg.phone_number, reg.store_id, WHATSAPP)
        row = uow.senders.get(reg.store_id)
        if row is None:
            row = uow.senders.add(WhatsAppSenderRecord(store_id=reg.store_id))
        if row.phone_number != reg.phone_number:  # not an earlier attempt's: this request's
            row.actor, row.request_id = actor.subject[:255], actor.request_id
        row.phone_number = reg.phone_number
        row.number_sid = reg.number_sid
        row.waba_id = reg.waba_id
        row.profile = dict(reg.profile)
        row.status = PENDING
        row.last_error = None

    claim(uows, reg.tenant_id, write, lambda uow: number_taken(uow, reg.phone_number))
    return earlier_attempt


def _check_stale_claim(gateway: MessagingGateway, reg: Registration, stale: str) -> None:
    """An earlier attempt claimed another number: take it over only if it came to nothing."""
    try:
        sender = _find_sender(gateway, reg.account, sender_id_of(stale))
        owned = gateway.find_owned_number(reg.account, stale)
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


def _register(
    uows: UnitsOfWork,
    gateway: MessagingGateway,
    reg: Registration,
    run: Run,
    earlier_attempt: bool,
    *,
    request_id: str | None,
) -> WhatsAppSenderRecord:
    try:
        if reg.dedicated:
            number = run.step(
                lambda: ensure_number(
                    gateway,
                    reg.purchase(WHATSAPP),
                    earlier_attempt=earlier_attempt,
                    release=lambda: _release_claim(uows, reg),
                )
            )
            price = monthly_price(gateway, *priced_as(reg.phone_number))
            _record(uows, reg, bought=(number, price), number_sid=number.sid)
        sender = run.step(lambda: _ensure_sender(gateway, reg, earlier_attempt))
    except ProviderError as exc:
        _record_failure(uows, reg, f"{type(exc).__name__}: {exc.message}", request_id)
        raise errors.from_provider(
            exc, f"Registering store '{reg.store_id}' with WhatsApp"
        ) from exc
    return _record(
        uows, reg, sender=sender, last_error=None, last_error_at=None, last_error_request_id=None
    )


def _find_sender(
    gateway: MessagingGateway, account: AccountCredentials, sender_id: str
) -> WhatsAppSender | None:
    return next((s for s in gateway.list_senders(account) if s.sender_id == sender_id), None)


def _ensure_sender(
    gateway: MessagingGateway, reg: Registration, earlier_attempt: bool
) -> WhatsAppSender:
    """The sender for `reg.sender_id`, created once. Twilio may have it only if an earlier
    attempt created it without recording it (or someone outside the service did, which the
    create's refusal reveals): then it is adopted, its profile brought up to date."""
    profile = sender_profile(reg.profile)
    return adopt_or_create(
        lambda: _find_sender(gateway, reg.account, reg.sender_id),
        lambda: gateway.create_sender(
            reg.account,
            sender_id=reg.sender_id,
            waba_id=reg.waba_id,
            profile=profile,
            status_callback_url=reg.callback_url,
        ),
        adopt=lambda found: gateway.update_sender(
            reg.account, found.sid, profile=profile, status_callback_url=reg.callback_url
        ),
        look_first=earlier_attempt,
    )


def _record(
    uows: UnitsOfWork,
    reg: Registration,
    *,
    sender: WhatsAppSender | None = None,
    bought: tuple[OwnedNumber, MonthlyPrice | None] | None = None,
    **changes: object,
) -> WhatsAppSenderRecord:
    """Record a step, after checking that the store still holds its claim (its row, and for a
    dedicated number the registry's entry): a purchase's success is never trusted alone. With
    `bought`, the dedicated number is owned: its purchase goes into the ledger (once)."""
    with uows.of(reg.tenant_id) as uow:
        row = uow.senders.get(reg.store_id)
        holder = uow.numbers.holder(reg.phone_number) if reg.dedicated else None
        lost = reg.dedicated and (
            holder is None or (holder.store_id, holder.channel) != (reg.store_id, WHATSAPP)
        )
        if row is None or row.phone_number != reg.phone_number or lost:
            raise WHATSAPP_ONBOARDING.changed(reg.store_id)
        for key, value in changes.items():
            setattr(row, key, value)
        if bought is not None:
            number, price = bought
            record_store_purchase(
                uow, row, reg.account, number, price, store_id=reg.store_id, reason=WHATSAPP_REASON
            )
        if sender is not None:
            apply_sender(row, sender)
        row.updated_at = utcnow()
        return row


def _record_failure(
    uows: UnitsOfWork, reg: Registration, message: str, request_id: str | None
) -> None:
    """The error the status shows on the store's WhatsApp channel until the sender exists."""
    with uows.of(reg.tenant_id) as uow:
        row = uow.senders.get(reg.store_id)
        if row is not None and row.sender_sid is None:
            row.last_error = message[:1000]
            row.last_error_at = utcnow()
            row.last_error_request_id = request_id


def _release_claim(uows: UnitsOfWork, reg: Registration) -> None:
    """Twilio definitely refused the purchase: free the row and the number for another try."""
    with uows.of(reg.tenant_id) as uow:
        row = uow.senders.get(reg.store_id)
        if row is not None and row.sender_sid is None and row.phone_number == reg.phone_number:
            uow.senders.delete(row)
            uow.numbers.release(reg.phone_number, reg.store_id, WHATSAPP)


def _update(
    uows: UnitsOfWork, gateway: MessagingGateway, reg: Registration, sender_sid: str
) -> WhatsAppSenderRecord:
    try:
        sender = gateway.update_sender(
            reg.account,
            sender_sid,
            profile=sender_profile(reg.profile),
            status_callback_url=reg.callback_url,
        )
    except ProviderError as exc:
        raise errors.from_provider(
            exc, f"Updating the WhatsApp profile of store '{reg.store_id}'"
        ) from exc
    with uows.of(reg.tenant_id) as uow:
        row = uow.senders.get(reg.store_id)
        if row is None or row.sender_sid != sender_sid:
            raise errors.Conflict(
                f"The WhatsApp sender of store '{reg.store_id}' changed meanwhile. "
                "Retry the request."
            )
        row.profile = dict(reg.profile)
        apply_sender(row, sender)
        row.updated_at = utcnow()
        return row
