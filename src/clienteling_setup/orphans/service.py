"""Finding orphan numbers (what reconciliation lists) and releasing one, exactly once.

Reconciliation records what the tenant's account owns (`refresh_owned_numbers`: one list call
per 1,000 numbers); `orphans.repository` decides, when read, which of those nothing holds.

Releasing an orphan runs on the durable-workflow core (`workflow.core`):

1. validate: the tenant is open, the SID is the account's (one fetch from Twilio, 404 if not);
2. under the number's lease, claim: the number's entry in the registry of claimed numbers, on
   channel `releasing`, and the `number_releases` row, committed together before Twilio is
   asked. The registry's key (tenant, number) decides a race with a store that wants the
   number in the database: whoever commits first holds it, and the other gets 409. A number a
   store claims, or an offboarding or a job item still working names, is refused with 409;
3. step: Twilio releases it (a number already gone counts as released);
4. record, in one unit of work: the release row finished, the claim gone, and the ledger's
   entry (actor, request id, the price that stops), which drops the listing's record.

A crash after the claim leaves the row and the claim: the same request, or `sync`
(`resume_releases`), finishes it, and nobody can claim the number meanwhile. A finished
release answers the same again.
"""

from __future__ import annotations

import logging
from contextlib import AbstractContextManager
from typing import cast, get_args

import phonenumbers

from clienteling_setup import errors
from clienteling_setup.auth.actor import Actor
from clienteling_setup.compliance.rules import load_rules
from clienteling_setup.db.base import utcnow
from clienteling_setup.ledger.costs import record_number_released
from clienteling_setup.ledger.models import NUMBER_BOUGHT, NUMBER_RELEASED
from clienteling_setup.numbers.models import (
    RELEASE_IN_PROGRESS,
    RELEASED,
    RELEASING,
    NumberRelease,
    OwnedNumberRecord,
)
from clienteling_setup.orphans.repository import Orphan
from clienteling_setup.providers.messaging import (
    AccountCredentials,
    MessagingGateway,
    MonthlyPrice,
    NotFound,
    NumberType,
    OwnedNumber,
    ProviderError,
)
from clienteling_setup.unit_of_work import UnitOfWork, UnitsOfWork
from clienteling_setup.workflow.core import Run, claim, exclusive, resume_each, try_exclusive

log = logging.getLogger("clienteling_setup.orphans")

NUMBER_TYPES: tuple[str, ...] = get_args(NumberType)
#: How long a request waits for another request releasing the same number before 409.
WAIT_SECONDS = 10.0
REASON = "orphan"


def _lease(tenant_id: str, number_sid: str) -> str:
    return f"release-number:{tenant_id}:{number_sid}"


def _busy(number_sid: str) -> errors.Conflict:
    return errors.Conflict(
        f"Number {number_sid} is being released by another request. Retry the same request "
        "in a few seconds."
    )


# -- what the account owns -------------------------------------------------------------------


def refresh_owned_numbers(
    uows: UnitsOfWork, gateway: MessagingGateway, tenant_id: str, account: AccountCredentials
) -> int:
    """Record every number the account owns now (one list call per 1,000 numbers); returns
    how many. Raises `ProviderError`."""
    listed = gateway.list_owned_numbers(account)
    at = utcnow()
    with uows.of(tenant_id) as uow:
        released = uow.ledger.recorded_among([n.sid for n in listed], NUMBER_RELEASED)
        uow.owned_numbers.record_listing((_record(n) for n in listed), at, released=released)
        unpriced = [o for o in uow.orphans.orphans() if o.monthly_price is None]
    _price(uows, gateway, tenant_id, unpriced)
    return len(listed)


def _price(
    uows: UnitsOfWork, gateway: MessagingGateway, tenant_id: str, orphans: list[Orphan]
) -> None:
    """Read the monthly price of orphans that have none (no purchase in the ledger: bought
    by hand) from Twilio's Pricing API, which the gateway keeps a while per country, so this
    costs at most one call per country. Best effort: a price that cannot be read stays
    unknown until a later pass."""
    prices: dict[str, MonthlyPrice] = {}
    for orphan in orphans:
        number_type = _priced_type(orphan.iso_country, orphan.number_type)
        if orphan.iso_country is None or number_type is None:
            continue
        try:
            price = gateway.monthly_number_price(orphan.iso_country, number_type)
        except ProviderError as exc:
            log.warning(
                "orphan number not priced", extra={"tenant": tenant_id, "error": exc.message}
            )
            continue
        if price is not None:
            prices[orphan.number_sid] = price
    if prices:
        with uows.of(tenant_id) as uow:
            for number_sid, price in prices.items():
                uow.owned_numbers.set_price(number_sid, price.amount, price.currency)


def _priced_type(iso_country: str | None, number_type: str | None) -> NumberType | None:
    """The type Twilio gave the number, else the type the service buys in its country."""
    if number_type in NUMBER_TYPES:
        return cast(NumberType, number_type)
    rule = load_rules().get(iso_country or "")
    return rule.sms_number_type if rule is not None else None


def _record(number: OwnedNumber) -> OwnedNumberRecord:
    return OwnedNumberRecord(
        number_sid=number.sid,
        phone_number=number.phone_number,
        friendly_name=number.friendly_name[:64],
        iso_country=country_of(number.phone_number),
        number_type=_number_type(number.number_type),
        monthly_price=None,
        price_unit=None,
    )


def country_of(phone_number: str) -> str | None:
    """The ISO country of an E.164 number, None when it names none."""
    try:
        region = phonenumbers.region_code_for_number(phonenumbers.parse(phone_number))
    except phonenumbers.NumberParseException:
        return None
    return region if region and region != "ZZ" else None


def _number_type(twilio_type: str | None) -> str | None:
    """Twilio's `type` as the rules table spells types (`tollfree` is `toll-free`)."""
    if twilio_type is None:
        return None
    spelled = twilio_type.strip().lower().replace("_", "-")
    return "toll-free" if spelled in ("tollfree", "toll-free") else spelled[:16] or None


def list_orphans(uows: UnitsOfWork, tenant_id: str) -> list[Orphan]:
    with uows.of(tenant_id) as uow:
        uow.tenants.require()
        return uow.orphans.orphans()


# -- releasing one ---------------------------------------------------------------------------


def release_orphan(
    uows: UnitsOfWork,
    gateway: MessagingGateway,
    tenant_id: str,
    number_sid: str,
    *,
    actor: Actor,
) -> NumberRelease:
    """Release the orphan `number_sid` (or answer its release done earlier)."""
    with uows.of(tenant_id) as uow:
        account = uow.tenants.account(uow.tenants.require_open())
    with exclusive(
        uows,
        _lease(tenant_id, number_sid),
        busy=_busy(number_sid),
        lost=_busy(number_sid),
        wait=WAIT_SECONDS,
    ) as run:
        row = _claim(uows, gateway, account, tenant_id, number_sid, actor, run)
        if row.status == RELEASED:
            return row
        return _run(uows, gateway, account, row, run)


def _claim(
    uows: UnitsOfWork,
    gateway: MessagingGateway,
    account: AccountCredentials,
    tenant_id: str,
    number_sid: str,
    actor: Actor,
    run: Run,
) -> NumberRelease:
    """Under the number's lease: the release under way or done, else a new one claimed."""
    with uows.of(tenant_id) as uow:
        found = uow.number_releases.get(number_sid)
    if found is not None:
        return found
    try:
        owned = run.step(lambda: gateway.fetch_owned_number(account, number_sid))
    except NotFound as exc:
        raise errors.NotFound(
            f"The tenant's Twilio account owns no number {number_sid}. "
            "GET /clienteling/onboarding-status counts the orphans; "
            "`clienteling-setup numbers orphans` lists them."
        ) from exc
    except ProviderError as exc:
        raise errors.from_provider(exc, f"Looking up number {number_sid}") from exc
    phone_number = owned.phone_number
    listed_price = run.step(lambda: _listed_price(gateway, owned))

    def write(uow: UnitOfWork) -> NumberRelease:
        held_by = uow.orphans.holder(phone_number)
        if held_by is not None:
            raise _held(phone_number, number_sid, held_by)
        price = _price_of(uow, number_sid) or listed_price
        uow.numbers.claim(phone_number, number_sid, RELEASING)
        row = uow.number_releases.add(
            NumberRelease(
                number_sid=number_sid,
                phone_number=phone_number,
                iso_country=country_of(phone_number),
                status=RELEASE_IN_PROGRESS,
                actor=actor.subject[:255],
                request_id=actor.request_id,
                monthly_price=price[0] if price else None,
                price_unit=price[1] if price else None,
            )
        )
        uow.flush()
        return row

    def conflict(uow: UnitOfWork) -> errors.AppError:
        again = uow.number_releases.get(number_sid)
        if again is not None:  # cannot happen under the lease; said plainly if it does
            return _busy(number_sid)
        holder = uow.numbers.holder(phone_number)
        who = holder.describe() if holder is not None else "a store"
        return _held(phone_number, number_sid, who)

    return claim(uows, tenant_id, write, conflict)


def _held(phone_number: str, number_sid: str, who: str) -> errors.Conflict:
    return errors.Conflict(
        f"{phone_number} ({number_sid}) is not an orphan: it is held by {who}. "
        "Offboard the store (POST /clienteling/stores/{store_id}/offboard) to release a "
        "store's number."
    )


def _listed_price(gateway: MessagingGateway, owned: OwnedNumber) -> tuple[str, str] | None:
    """Twilio's list price of the number (best effort: None when it cannot be read)."""
    country = country_of(owned.phone_number)
    number_type = _priced_type(country, _number_type(owned.number_type))
    if country is None or number_type is None:
        return None
    try:
        price = gateway.monthly_number_price(country, number_type)
    except ProviderError:
        return None
    return (price.amount, price.currency) if price is not None else None


def _price_of(uow: UnitOfWork, number_sid: str) -> tuple[str, str] | None:
    """The monthly price that stops, as the status showed it: its purchase's (the ledger),
    else the list price the last reconciliation read for it."""
    bought = uow.ledger.find(number_sid, NUMBER_BOUGHT)
    if bought is not None and bought.monthly_price is not None and bought.price_unit:
        return bought.monthly_price, bought.price_unit
    record = uow.owned_numbers.get(number_sid)
    if record is None or record.monthly_price is None or record.price_unit is None:
        return None
    return record.monthly_price, record.price_unit


def _run(
    uows: UnitsOfWork,
    gateway: MessagingGateway,
    account: AccountCredentials,
    row: NumberRelease,
    run: Run,
) -> NumberRelease:
    tenant_id, number_sid = row.tenant_id, row.number_sid
    try:
        run.step(lambda: gateway.release_number(account, number_sid))
    except ProviderError as exc:
        with uows.of(tenant_id) as uow:
            failed = uow.number_releases.get(number_sid)
            if failed is not None and failed.status == RELEASE_IN_PROGRESS:
                failed.last_error = f"{type(exc).__name__}: {exc.message}"[:1000]
        raise errors.from_provider(exc, f"Releasing number {number_sid}") from exc
    with uows.of(tenant_id) as uow:
        done = uow.number_releases.get(number_sid)
        if done is None or done.status != RELEASE_IN_PROGRESS:
            raise _busy(number_sid)
        uow.numbers.release(done.phone_number, number_sid, RELEASING)
        record_number_released(
            uow,
            Actor(done.actor, done.request_id),
            account_sid=account.account_sid,
            number_sid=number_sid,
            phone_number=done.phone_number,
            store_id=None,
            price=_monthly(done),
            reason=REASON,
        )
        done.status = RELEASED
        done.released_at = utcnow()
        done.last_error = None
        return done


def _monthly(row: NumberRelease) -> MonthlyPrice | None:
    if row.monthly_price is None or row.price_unit is None:
        return None
    return MonthlyPrice(row.monthly_price, row.price_unit)


def resume_releases(uows: UnitsOfWork, gateway: MessagingGateway, tenant_id: str) -> int:
    """For `sync`: finish every release a crash or a Twilio failure left under way (its
    request confirmed it). Returns how many finished."""
    with uows.of(tenant_id) as uow:
        account = uow.tenants.enabled_account()
        if account is None:
            return 0
        pending = [row.number_sid for row in uow.number_releases.unfinished()]

    def hold(number_sid: str) -> AbstractContextManager[Run | None]:
        return try_exclusive(uows, _lease(tenant_id, number_sid), lost=_busy(number_sid))

    def finish(number_sid: str, run: Run) -> bool:
        with uows.of(tenant_id) as uow:
            row = uow.number_releases.get(number_sid)
        if row is None or row.status != RELEASE_IN_PROGRESS:
            return False
        _run(uows, gateway, account, row, run)
        return True

    return resume_each(pending, hold, finish)
