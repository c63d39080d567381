"""Store onboarding for SMS, on the durable-workflow core (`workflow.core`).

1. validate (one unit of work, no Twilio);
2. under the store's lease, claim: the store's `store_onboardings` row and the number's entry
   in the tenant's registry of claimed numbers (`numbers`), committed together before any
   purchase. The registry's key (tenant, number) makes a number another store holds, for SMS
   or as its WhatsApp number, a 409 that names that store. Whether the row was there already
   says whether an earlier attempt exists;
3. steps, each recorded before the next: number owned (with the purchase's entry in the money
   ledger, `ledger.costs`, in the same transaction, priced from Twilio's Pricing API) → in the
   Messaging Service → voice handled by call forwarding → onboarded. A first attempt makes two
   Twilio calls whatever the tenant's size: the purchase (friendly name naming tenant and
   store, voice application, bundle and address all set in it; Twilio's refusal is the bundle
   check) and adding the number to the Messaging Service (Twilio's "already in this service"
   counts as success), besides the price, read once per country every few minutes.
   Only a retry looks the number up first (`numbers.purchase.ensure_number`).

A crash between any two steps leaves the claim; the same request, or `clienteling-setup sync`
(`resume_unfinished`), resumes from it. A purchase Twilio definitely refused releases the claim
so that the caller can pick another number.
"""

from __future__ import annotations

from dataclasses import dataclass

from clienteling_setup import errors
from clienteling_setup.auth.actor import Actor
from clienteling_setup.compliance.requirements import (
    bundle_required,
    priced_as,
    require_supported,
)
from clienteling_setup.db.base import utcnow
from clienteling_setup.ledger.costs import record_store_purchase
from clienteling_setup.ledger.pricing import monthly_price
from clienteling_setup.numbers.models import SMS
from clienteling_setup.numbers.purchase import (
    StoreNumber,
    StoreWorkflow,
    check_owner,
    ensure_number,
    explain_refusal,
)
from clienteling_setup.numbers.registry import number_taken, refuse_while_offboarding
from clienteling_setup.onboarding.models import StoreOnboarding
from clienteling_setup.onboarding.schemas import OnboardStoreRequest
from clienteling_setup.providers.messaging import (
    MessagingGateway,
    MonthlyPrice,
    OwnedNumber,
    ProviderError,
)
from clienteling_setup.tenants.service import mark_onboarded_if_ready
from clienteling_setup.unit_of_work import UnitOfWork, UnitsOfWork
from clienteling_setup.validation import phone_of_country
from clienteling_setup.workflow.core import Run, claim


@dataclass(frozen=True)
class Plan(StoreNumber):
    """The store's SMS onboarding: its number, then the group and service it joins."""

    kind: str
    sender_group_id: str | None
    already_purchased: bool
    messaging_service_sid: str


#: Why the ledger records the purchase of a store's SMS number.
SMS_REASON = "sms onboarding"

#: Offboarding (`offboarding.service`) holds this lease too, so the two never interleave.
SMS_ONBOARDING = StoreWorkflow("onboard", title="onboarding", doing="onboarded or offboarded")


def onboard_store(
    uows: UnitsOfWork,
    gateway: MessagingGateway,
    tenant_id: str,
    store_id: str,
    body: OnboardStoreRequest,
    *,
    enable: bool,
    actor: Actor,
) -> tuple[StoreOnboarding, bool]:
    """Returns the onboarding and whether this request completed it (201) or found it (200).
    `actor` is who the ledger names for the purchase (kept on the claim, so a retry or `sync`
    that finishes it names the same)."""
    with uows.of(tenant_id) as uow:
        plan, finished = _validate(uow, store_id, body, enable=enable)
    if finished is not None:
        return finished, False
    with SMS_ONBOARDING.exclusive(uows, tenant_id, store_id) as run:
        done, earlier_attempt = _claim(uows, gateway, plan, actor)
        if done is not None:
            return done, False
        try:
            return _run_steps(
                uows,
                gateway,
                plan,
                run,
                enable=enable,
                earlier_attempt=earlier_attempt,
                request_id=actor.request_id,
            ), True
        except errors.AppError as exc:
            refusal = exc.__cause__
            if isinstance(refusal, ProviderError):
                explain_refusal(
                    gateway,
                    plan.account,
                    refusal,
                    bundle_sid=plan.bundle_sid,
                    store_id=store_id,
                    store_country=plan.country,
                )
            raise


def _validate(
    uow: UnitOfWork, store_id: str, body: OnboardStoreRequest, *, enable: bool
) -> tuple[Plan, StoreOnboarding | None]:
    store = uow.stores.require(store_id)
    tenant = uow.tenants.require_open()
    refuse_while_offboarding(uow, store_id)
    require_supported(store.country_code)
    try:
        number = phone_of_country(body.phone_number, store.country_code, "phone_number")
    except ValueError as exc:
        raise errors.BadRequest(f"'phone_number': {exc}.") from exc
    if body.bundle_sid is None and bundle_required(store.country_code, uow.requirements):
        raise errors.BadRequest(
            f"Store '{store_id}' is in {store.country_code}, where Twilio requires an "
            "approved regulatory bundle to buy a number: send bundle_sid and address_sid "
            f"from GET /clienteling/stores/{store_id}/regulatory-bundles."
        )
    service_sid = tenant.messaging_service_sid
    group_id = body.sender_group_id or None
    if body.effective_kind == "join_existing_group":
        assert group_id is not None
        group = uow.groups.get(group_id)
        if group is None or group.messaging_service_sid is None:
            raise errors.NotFound(
                f"Sender group '{group_id}' does not exist. Create it with "
                f"PUT /clienteling/sender-groups/{group_id} or use kind 'dedicated'."
            )
        service_sid = group.messaging_service_sid
    plan = Plan(
        tenant_id=uow.tenant_id,
        store_id=store_id,
        country=store.country_code,
        phone_number=number,
        kind=body.effective_kind,
        sender_group_id=group_id,
        bundle_sid=body.bundle_sid,
        address_sid=body.address_sid,
        already_purchased=body.phone_number_already_purchased,
        messaging_service_sid=service_sid,
        voice_app_sid=tenant.voice_app_sid,
        account=uow.tenants.account(tenant),
    )
    existing = uow.onboardings.get(store_id)
    if existing is None:
        return plan, None
    if existing.phone_number == number and existing.status == "onboarded":
        if enable and not existing.enabled:
            existing.enabled = True
        return plan, existing
    if existing.status == "onboarded":
        raise _already_onboarded(store_id, existing.phone_number)
    if existing.phone_number != number and existing.step != "claimed":
        raise errors.Conflict(
            f"Store '{store_id}' is being onboarded with {existing.phone_number}, which "
            f"the tenant's Twilio account already owns. Retry with phone_number "
            f"{existing.phone_number} to finish it."
        )
    return plan, None


def _claim(
    uows: UnitsOfWork, gateway: MessagingGateway, plan: Plan, actor: Actor
) -> tuple[StoreOnboarding | None, bool]:
    """Commit the claim on (store, number) before any purchase; resolve a stale claim.
    Returns the finished onboarding when another request finished it meanwhile, and whether
    an earlier attempt with this number exists (it may have bought the number already)."""
    with uows.of(plan.tenant_id) as uow:
        refuse_while_offboarding(uow, plan.store_id)
        existing = uow.onboardings.get(plan.store_id)
        if existing is not None and existing.status == "onboarded":
            if existing.phone_number == plan.phone_number:
                return existing, True
            raise _already_onboarded(plan.store_id, existing.phone_number)
        stale = existing.phone_number if existing is not None else None
    if stale is not None and stale != plan.phone_number:
        _release_stale_claim(uows, gateway, plan, stale)

    def write(uow: UnitOfWork) -> None:
        uow.numbers.claim(plan.phone_number, plan.store_id, SMS)
        if uow.onboardings.get(plan.store_id) is None:
            uow.onboardings.add(
                StoreOnboarding(
                    store_id=plan.store_id,
                    phone_number=plan.phone_number,
                    kind=plan.kind,
                    sender_group_id=plan.sender_group_id,
                    bundle_sid=plan.bundle_sid,
                    address_sid=plan.address_sid,
                    already_purchased=plan.already_purchased,
                    messaging_service_sid=plan.messaging_service_sid,
                    actor=actor.subject[:255],
                    request_id=actor.request_id,
                )
            )

    claim(uows, plan.tenant_id, write, lambda uow: number_taken(uow, plan.phone_number))
    return None, stale == plan.phone_number


def _already_onboarded(store_id: str, number: str) -> errors.Conflict:
    return errors.Conflict(
        f"Store '{store_id}' is already onboarded with {number}. A store has one clienteling "
        "number."
    )


def _release_stale_claim(
    uows: UnitsOfWork, gateway: MessagingGateway, plan: Plan, stale_number: str
) -> None:
    """An earlier attempt claimed another number. Release it only if it was never bought."""
    try:
        owned = gateway.find_owned_number(plan.account, stale_number)
    except ProviderError as exc:
        raise errors.from_provider(exc, "Checking the earlier attempt's number") from exc
    if owned is not None:
        raise errors.Conflict(
            f"An earlier onboarding of store '{plan.store_id}' bought {stale_number}. "
            f"Retry with phone_number {stale_number} to finish it."
        )
    _release_claim(uows, plan, stale_number)


def _release_claim(uows: UnitsOfWork, plan: Plan, phone_number: str) -> None:
    with uows.of(plan.tenant_id) as uow:
        if uow.onboardings.delete_unfinished(plan.store_id, phone_number):
            uow.numbers.release(phone_number, plan.store_id, SMS)


def _record(
    uows: UnitsOfWork,
    plan: Plan,
    *,
    bought: tuple[OwnedNumber, MonthlyPrice | None] | None = None,
    **changes: object,
) -> StoreOnboarding:
    """Record a step's outcome, after checking that the claim is still this store's: a
    purchase's success is never trusted on its own (Twilio answers one for a number the
    account already owns). With `bought`, the number is owned: unless the caller said it
    owned it already, its purchase goes into the ledger in the same transaction (once)."""
    with uows.of(plan.tenant_id) as uow:
        row = uow.onboardings.get(plan.store_id)
        holder = uow.numbers.holder(plan.phone_number)
        if (
            row is None
            or row.phone_number != plan.phone_number
            or holder is None
            or (holder.store_id, holder.channel) != (plan.store_id, SMS)
        ):
            raise SMS_ONBOARDING.changed(plan.store_id)
        for key, value in changes.items():
            setattr(row, key, value)
        if bought is not None and not row.already_purchased:
            number, price = bought
            record_store_purchase(
                uow, row, plan.account, number, price, store_id=plan.store_id, reason=SMS_REASON
            )
        row.updated_at = utcnow()
        if changes.get("status") == "onboarded":
            uow.flush()
            mark_onboarded_if_ready(uow)
        return row


def _run_steps(
    uows: UnitsOfWork,
    gateway: MessagingGateway,
    plan: Plan,
    run: Run,
    *,
    enable: bool,
    earlier_attempt: bool,
    owned: OwnedNumber | None = None,
    request_id: str | None = None,
) -> StoreOnboarding:
    """The steps after the claim; `owned` is the number when the caller looked it up,
    `request_id` the request a failure is recorded under (None: `sync`)."""
    try:
        number = owned or run.step(lambda: _ensure_number(uows, gateway, plan, earlier_attempt))
        price = monthly_price(gateway, *priced_as(plan.phone_number))
        _record(
            uows,
            plan,
            bought=(number, price),
            number_sid=number.sid,
            monthly_price=price.amount if price else None,
            price_unit=price.currency if price else None,
            step="number_owned",
            last_error=None,
            last_error_at=None,
            last_error_request_id=None,
        )
        run.step(
            lambda: gateway.add_number_to_messaging_service(
                plan.account, plan.messaging_service_sid, number.sid
            )
        )
        if number.voice_application_sid != plan.voice_app_sid:
            # Recorded only when a step follows: on the happy path (the voice application set
            # by the purchase) the next record is the last. Either way a repeat redoes every
            # step, each one adopting what is done already.
            _record(uows, plan, step="in_messaging_service")
            run.step(
                lambda: gateway.set_number_voice_application(
                    plan.account, number.sid, plan.voice_app_sid
                )
            )
        return _record(
            uows, plan, step="onboarded", status="onboarded", onboarded_at=utcnow(), enabled=enable
        )
    except ProviderError as exc:
        _record_failure(uows, plan, exc, request_id)
        raise errors.from_provider(exc, f"Onboarding store '{plan.store_id}'") from exc


def _ensure_number(
    uows: UnitsOfWork, gateway: MessagingGateway, plan: Plan, earlier_attempt: bool
) -> OwnedNumber:
    refuse = (
        errors.BadRequest(
            f"'phone_number_already_purchased' is true, but {plan.phone_number} does not belong "
            "to the tenant's Twilio account. Send false to buy it, or use a number you own."
        )
        if plan.already_purchased
        else None
    )
    return ensure_number(
        gateway,
        plan.purchase(SMS),
        earlier_attempt=earlier_attempt,
        release=lambda: _release_claim(uows, plan, plan.phone_number),
        refuse_purchase=refuse,
    )


def _record_failure(
    uows: UnitsOfWork, plan: Plan, exc: ProviderError, request_id: str | None
) -> None:
    """The error the status shows on the store's SMS channel until a step succeeds."""
    with uows.of(plan.tenant_id) as uow:
        row = uow.onboardings.get(plan.store_id)
        if row is not None and row.status != "onboarded":
            row.last_error = f"{type(exc).__name__}: {exc.message}"[:1000]
            row.last_error_at = utcnow()
            row.last_error_request_id = request_id


def resume_unfinished(uows: UnitsOfWork, gateway: MessagingGateway, tenant_id: str) -> int:
    """For `sync`: finish onboardings whose number is owned. Never buys anything itself."""
    with uows.of(tenant_id) as uow:
        tenant = uow.tenants.require()
        account = uow.tenants.account(tenant)
        rows = uow.onboardings.unfinished()
    plans = [
        (
            Plan(
                tenant_id=tenant_id,
                store_id=row.store_id,
                country="",  # the bundle was checked when the claim was made
                phone_number=row.phone_number,
                kind=row.kind,
                sender_group_id=row.sender_group_id,
                bundle_sid=row.bundle_sid,
                address_sid=row.address_sid,
                already_purchased=True,  # sync never spends money the caller did not confirm
                messaging_service_sid=row.messaging_service_sid or "",
                voice_app_sid=tenant.voice_app_sid,
                account=account,
            ),
            row.enabled,
        )
        for row in rows
    ]
    finished = 0
    for plan, enabled in plans:
        with SMS_ONBOARDING.try_exclusive(uows, tenant_id, plan.store_id) as run:
            if run is None:
                continue
            try:
                owned = gateway.find_owned_number(account, plan.phone_number)
                if owned is None:
                    continue  # the purchase never happened; the caller's retry decides
                check_owner(plan.purchase(SMS), owned)
                _run_steps(
                    uows, gateway, plan, run, enable=enabled, earlier_attempt=True, owned=owned
                )
                finished += 1
            except (errors.AppError, ProviderError):
                continue
    return finished


#: What the onboarding answer says of a US store that cannot send yet.
SENDING_WAITS_ON_A2P = (
    "The number is ready, but US carriers block its texts until the Messaging Service has a "
    "verified A2P 10DLC campaign: complete the registration (PUT /clienteling/business-profile, "
    "then POST /clienteling/a2p-registration; see GET /clienteling/a2p-registration)."
)


def sending_note(uows: UnitsOfWork, tenant_id: str, store_id: str) -> str | None:
    """None when the onboarded store can send; else why not (a US store before its Messaging
    Service's A2P 10DLC campaign is verified)."""
    with uows.of(tenant_id) as uow:
        store = uow.stores.get(store_id)
        row = uow.onboardings.get(store_id)
        if store is None or row is None or store.country_code != "US":
            return None
        service_sid = row.messaging_service_sid
        campaign = uow.a2p_campaigns.get(service_sid) if service_sid else None
        verified = campaign is not None and campaign.status == "VERIFIED"
    return None if verified else SENDING_WAITS_ON_A2P
