"""Store onboarding for SMS: a durable, resumable workflow that spends money at most once.

1. validate (short transaction, no Twilio);
2. check the bundle in Twilio (no transaction open);
3. claim: a `store_onboardings` row naming the store and its number is committed *before* any
   purchase. Its primary key (tenant, store) and the unique (tenant, number) make a second
   store, or a second number for this store, a conflict; a lease in the database lets one
   worker at a time run the steps, across processes;
4. steps, each adopting what an earlier attempt already did in Twilio and recording its own
   outcome in a transaction of its own: number owned (looked up; bought only if not owned,
   with a friendly name naming tenant and store) → in the Messaging Service → voice handled
   by call forwarding → onboarded.

A crash between any two steps leaves the claim; the same request, or `clienteling-setup sync`,
resumes from it. A purchase Twilio definitely refused releases the claim so that the caller
can pick another number.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError

from clienteling_setup import errors
from clienteling_setup.compliance.requirements import bundle_required, require_supported
from clienteling_setup.db import leases
from clienteling_setup.db.base import utcnow
from clienteling_setup.db.session import transaction
from clienteling_setup.onboarding import repository
from clienteling_setup.onboarding.models import StoreOnboarding
from clienteling_setup.onboarding.purchase import (
    LEASE_SECONDS,
    Purchase,
    check_bundle,
    ensure_number,
    number_friendly_name,
    renewer,
)
from clienteling_setup.onboarding.schemas import (
    OnboardStoreRequest,
    SmsChannelRead,
    StoreOnboardingRead,
)
from clienteling_setup.providers.messaging import (
    AccountCredentials,
    OwnedNumber,
    ProviderError,
)
from clienteling_setup.runtime import Runtime
from clienteling_setup.stores.service import require_store
from clienteling_setup.tenants.service import mark_onboarded_if_ready, require_tenant
from clienteling_setup.validation import phone_of_country


@dataclass(frozen=True)
class Plan:
    tenant_id: str
    store_id: str
    phone_number: str
    kind: str
    sender_group_id: str | None
    bundle_sid: str | None
    address_sid: str | None
    already_purchased: bool
    messaging_service_sid: str
    voice_app_sid: str
    account: AccountCredentials


def view(row: StoreOnboarding) -> StoreOnboardingRead:
    return StoreOnboardingRead(
        store_id=row.store_id,
        phone_number=row.phone_number,
        phone_number_sid=row.number_sid,
        kind=row.kind,
        sender_group_id=row.sender_group_id,
        messaging_service_sid=row.messaging_service_sid,
        sms=SmsChannelRead(status="onboarded" if row.status == "onboarded" else "pending"),
        enabled=row.enabled,
        onboarded_at=row.onboarded_at,
    )


def onboard_store(
    runtime: Runtime, tenant_id: str, store_id: str, body: OnboardStoreRequest, *, enable: bool
) -> tuple[StoreOnboardingRead, bool]:
    """Returns the onboarding and whether this request completed it (201) or found it (200)."""
    plan, finished = _validate(runtime, tenant_id, store_id, body, enable=enable)
    if finished is not None:
        return finished, False
    _check_bundle(runtime, plan, store_country=_store_country(runtime, plan))
    lease = f"onboard:{tenant_id}:{store_id}"
    busy = errors.Conflict(
        f"Store '{store_id}' is being onboarded by another request. "
        "Retry the same request in a few seconds."
    )
    with leases.held(runtime.sessions, lease, LEASE_SECONDS, busy=busy) as holder:
        done = _claim(runtime, plan)
        if done is not None:
            return done, False
        renew = renewer(runtime, lease, holder, store_id)
        return _run_steps(runtime, plan, enable=enable, renew=renew), True


def _store_country(runtime: Runtime, plan: Plan) -> str:
    with transaction(runtime.sessions) as session:
        return require_store(session, plan.tenant_id, plan.store_id).country_code


def _validate(
    runtime: Runtime, tenant_id: str, store_id: str, body: OnboardStoreRequest, *, enable: bool
) -> tuple[Plan, StoreOnboardingRead | None]:
    with transaction(runtime.sessions) as session:
        store = require_store(session, tenant_id, store_id)
        tenant = require_tenant(session, tenant_id)
        require_supported(store.country_code)
        try:
            number = phone_of_country(body.phone_number, store.country_code, "phone_number")
        except ValueError as exc:
            raise errors.BadRequest(f"'phone_number': {exc}.") from exc
        if body.bundle_sid is None and bundle_required(store.country_code, session):
            raise errors.BadRequest(
                f"Store '{store_id}' is in {store.country_code}, where Twilio requires an "
                "approved regulatory bundle to buy a number: send bundle_sid and address_sid "
                f"from GET /clienteling/stores/{store_id}/regulatory-bundles."
            )
        service_sid = tenant.messaging_service_sid
        group_id = body.sender_group_id or None
        if body.effective_kind == "join_existing_group":
            assert group_id is not None
            group = repository.get_group(session, tenant_id, group_id)
            if group is None:
                raise errors.NotFound(
                    f"Sender group '{group_id}' does not exist. Create it with "
                    f"PUT /clienteling/sender-groups/{group_id} or use kind 'dedicated'."
                )
            service_sid = group.messaging_service_sid
        existing = repository.get_onboarding(session, tenant_id, store_id)
        if existing is not None and existing.phone_number == number:
            if existing.status == "onboarded":
                if enable and not existing.enabled:
                    existing.enabled = True
                return _plan(tenant, body, store_id, number, group_id, service_sid, runtime), view(
                    existing
                )
        elif existing is not None and existing.status == "onboarded":
            raise _already_onboarded(store_id, existing.phone_number)
        elif existing is not None and existing.step != "claimed":
            raise errors.Conflict(
                f"Store '{store_id}' is being onboarded with {existing.phone_number}, which "
                f"the tenant's Twilio account already owns. Retry with phone_number "
                f"{existing.phone_number} to finish it."
            )
        return _plan(tenant, body, store_id, number, group_id, service_sid, runtime), None


def _plan(
    tenant: object,
    body: OnboardStoreRequest,
    store_id: str,
    number: str,
    group_id: str | None,
    service_sid: str,
    runtime: Runtime,
) -> Plan:
    from clienteling_setup.tenants.models import Tenant

    assert isinstance(tenant, Tenant)
    return Plan(
        tenant_id=tenant.id,
        store_id=store_id,
        phone_number=number,
        kind=body.effective_kind,
        sender_group_id=group_id,
        bundle_sid=body.bundle_sid,
        address_sid=body.address_sid,
        already_purchased=body.phone_number_already_purchased,
        messaging_service_sid=service_sid,
        voice_app_sid=tenant.voice_app_sid,
        account=runtime.credentials(tenant.subaccount_sid, tenant.auth_token_encrypted),
    )


def _check_bundle(runtime: Runtime, plan: Plan, *, store_country: str) -> None:
    if plan.bundle_sid is None:
        return
    check_bundle(runtime, plan.account, plan.bundle_sid, plan.store_id, store_country)


def _claim(runtime: Runtime, plan: Plan) -> StoreOnboardingRead | None:
    """Commit the claim on (store, number) before any purchase; resolve a stale claim."""
    with transaction(runtime.sessions) as session:
        existing = repository.get_onboarding(session, plan.tenant_id, plan.store_id)
        stale_number = (
            existing.phone_number
            if existing is not None and existing.phone_number != plan.phone_number
            else None
        )
        if existing is not None and existing.status == "onboarded":
            if existing.phone_number == plan.phone_number:
                return view(existing)
            raise _already_onboarded(plan.store_id, existing.phone_number)
    if stale_number is not None:
        _release_stale_claim(runtime, plan, stale_number)
    try:
        with transaction(runtime.sessions) as session:
            if repository.get_onboarding(session, plan.tenant_id, plan.store_id) is None:
                session.add(
                    StoreOnboarding(
                        tenant_id=plan.tenant_id,
                        store_id=plan.store_id,
                        phone_number=plan.phone_number,
                        kind=plan.kind,
                        sender_group_id=plan.sender_group_id,
                        bundle_sid=plan.bundle_sid,
                        address_sid=plan.address_sid,
                        already_purchased=plan.already_purchased,
                        messaging_service_sid=plan.messaging_service_sid,
                    )
                )
    except IntegrityError as exc:
        with transaction(runtime.sessions) as session:
            other = repository.onboarding_by_number(session, plan.tenant_id, plan.phone_number)
        owner = other.store_id if other is not None else "another store"
        raise errors.Conflict(
            f"{plan.phone_number} is already claimed by store '{owner}'. "
            "Pick another number from the available-phone-numbers list."
        ) from exc
    return None


def _already_onboarded(store_id: str, number: str) -> errors.Conflict:
    return errors.Conflict(
        f"Store '{store_id}' is already onboarded with {number}. A store has one clienteling "
        "number."
    )


def _release_stale_claim(runtime: Runtime, plan: Plan, stale_number: str) -> None:
    """An earlier attempt claimed another number. Release it only if it was never bought."""
    try:
        owned = runtime.gateway.find_owned_number(plan.account, stale_number)
    except ProviderError as exc:
        raise errors.from_provider(exc, "Checking the earlier attempt's number") from exc
    if owned is not None:
        raise errors.Conflict(
            f"An earlier onboarding of store '{plan.store_id}' bought {stale_number}. "
            f"Retry with phone_number {stale_number} to finish it."
        )
    with transaction(runtime.sessions) as session:
        repository.delete_claim(session, plan.tenant_id, plan.store_id, stale_number)


def _record(runtime: Runtime, plan: Plan, **changes: object) -> StoreOnboarding:
    with transaction(runtime.sessions) as session:
        row = repository.get_onboarding(session, plan.tenant_id, plan.store_id)
        if row is None or row.phone_number != plan.phone_number:
            raise errors.Conflict(
                f"The onboarding of store '{plan.store_id}' changed meanwhile. Retry the request."
            )
        for key, value in changes.items():
            setattr(row, key, value)
        row.updated_at = utcnow()
        if changes.get("status") == "onboarded":
            session.flush()
            mark_onboarded_if_ready(session, plan.tenant_id)
        return row


def _run_steps(
    runtime: Runtime, plan: Plan, *, enable: bool, renew: Callable[[], None]
) -> StoreOnboardingRead:
    try:
        renew()
        number = _ensure_number(runtime, plan)
        _record(runtime, plan, number_sid=number.sid, step="number_owned", last_error=None)
        renew()
        _ensure_in_messaging_service(runtime, plan, number)
        _record(runtime, plan, step="in_messaging_service")
        renew()
        if number.voice_application_sid != plan.voice_app_sid:
            runtime.gateway.set_number_voice_application(
                plan.account, number.sid, plan.voice_app_sid
            )
        row = _record(
            runtime,
            plan,
            step="onboarded",
            status="onboarded",
            onboarded_at=utcnow(),
            enabled=enable,
        )
    except ProviderError as exc:
        _record_failure(runtime, plan, exc)
        raise errors.from_provider(exc, f"Onboarding store '{plan.store_id}'") from exc
    return view(row)


def _ensure_number(runtime: Runtime, plan: Plan) -> OwnedNumber:
    refuse = (
        errors.BadRequest(
            f"'phone_number_already_purchased' is true, but {plan.phone_number} does not belong "
            "to the tenant's Twilio account. Send false to buy it, or use a number you own."
        )
        if plan.already_purchased
        else None
    )
    purchase = Purchase(
        account=plan.account,
        tenant_id=plan.tenant_id,
        phone_number=plan.phone_number,
        friendly_name=number_friendly_name(plan.tenant_id, plan.store_id),
        bundle_sid=plan.bundle_sid,
        address_sid=plan.address_sid,
        voice_app_sid=plan.voice_app_sid,
    )
    return ensure_number(
        runtime, purchase, release=lambda: _release_claim(runtime, plan), refuse_purchase=refuse
    )


def _ensure_in_messaging_service(runtime: Runtime, plan: Plan, number: OwnedNumber) -> None:
    members = runtime.gateway.list_messaging_service_numbers(
        plan.account, plan.messaging_service_sid
    )
    if number.sid not in members:
        runtime.gateway.add_number_to_messaging_service(
            plan.account, plan.messaging_service_sid, number.sid
        )


def _release_claim(runtime: Runtime, plan: Plan) -> None:
    with transaction(runtime.sessions) as session:
        repository.delete_claim(session, plan.tenant_id, plan.store_id, plan.phone_number)


def _record_failure(runtime: Runtime, plan: Plan, exc: ProviderError) -> None:
    with transaction(runtime.sessions) as session:
        row = repository.get_onboarding(session, plan.tenant_id, plan.store_id)
        if row is not None and row.status != "onboarded":
            row.last_error = f"{type(exc).__name__}: {exc.message}"[:1000]


def resume_unfinished(runtime: Runtime, tenant_id: str) -> int:
    """For `sync`: finish onboardings whose number is owned. Never buys anything itself."""
    with transaction(runtime.sessions) as session:
        tenant = require_tenant(session, tenant_id)
        rows = repository.unfinished_onboardings(session, tenant_id)
        account = runtime.credentials(tenant.subaccount_sid, tenant.auth_token_encrypted)
        voice_app_sid = tenant.voice_app_sid
    finished = 0
    for row in rows:
        plan = Plan(
            tenant_id=tenant_id,
            store_id=row.store_id,
            phone_number=row.phone_number,
            kind=row.kind,
            sender_group_id=row.sender_group_id,
            bundle_sid=row.bundle_sid,
            address_sid=row.address_sid,
            already_purchased=True,  # sync never spends money the caller did not confirm
            messaging_service_sid=row.messaging_service_sid or "",
            voice_app_sid=voice_app_sid,
            account=account,
        )
        holder = leases.new_holder()
        lease = f"onboard:{tenant_id}:{row.store_id}"
        if not leases.acquire(runtime.sessions, lease, holder, LEASE_SECONDS):
            continue
        try:
            if runtime.gateway.find_owned_number(account, row.phone_number) is None:
                continue  # the purchase never happened; the caller's retry decides
            _run_steps(
                runtime,
                plan,
                enable=row.enabled,
                renew=renewer(runtime, lease, holder, row.store_id),
            )
            finished += 1
        except (errors.AppError, ProviderError):
            continue
        finally:
            leases.release(runtime.sessions, lease, holder)
    return finished
