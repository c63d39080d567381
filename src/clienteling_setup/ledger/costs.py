"""Recording what starts or stops a cost, called by the workflows that buy and release numbers.

Call these inside the unit of work that records the purchase or the release itself, so that the
entry and the action are committed together: a crash before the commit loses neither alone,
and a retry that records the same action again writes nothing (`LedgerRepository.record`).
"""

from __future__ import annotations

from clienteling_setup.auth.actor import Actor
from clienteling_setup.db.base import RequestedBy
from clienteling_setup.ledger.models import NUMBER_BOUGHT, NUMBER_RELEASED, LedgerEntry
from clienteling_setup.providers.messaging import AccountCredentials, MonthlyPrice, OwnedNumber
from clienteling_setup.unit_of_work import UnitOfWork


def requested_by(row: RequestedBy) -> Actor:
    """Who the row says asked for its work (a row older than that record: the service)."""
    return Actor(row.actor or "clienteling-setup", row.request_id)


def record_number_bought(
    uow: UnitOfWork,
    actor: Actor,
    *,
    account_sid: str,
    number_sid: str,
    phone_number: str,
    store_id: str | None,
    price: MonthlyPrice | None,
    reason: str,
) -> LedgerEntry:
    """The purchase of `number_sid` (once per SID, whoever records it first)."""
    return uow.ledger.record(
        number_sid,
        NUMBER_BOUGHT,
        **_who(actor),
        **_price(price),
        account_sid=account_sid,
        phone_number=phone_number,
        store_id=store_id,
        reason=reason,
    )


def record_store_purchase(
    uow: UnitOfWork,
    claim: RequestedBy,
    account: AccountCredentials,
    number: OwnedNumber,
    price: MonthlyPrice | None,
    *,
    store_id: str,
    reason: str,
) -> LedgerEntry:
    """The purchase of a store's `number`, naming who asked for the work `claim` (the
    workflow's claim row) records: the request that bought, whoever records it."""
    return record_number_bought(
        uow,
        requested_by(claim),
        account_sid=account.account_sid,
        number_sid=number.sid,
        phone_number=number.phone_number,
        store_id=store_id,
        price=price,
        reason=reason,
    )


def record_number_released(
    uow: UnitOfWork,
    actor: Actor,
    *,
    account_sid: str,
    number_sid: str,
    phone_number: str,
    store_id: str | None,
    price: MonthlyPrice | None = None,
    reason: str,
) -> LedgerEntry:
    """The release of `number_sid` (once per SID), which drops its record among the numbers the
    account owns (`numbers.models.OwnedNumberRecord`). Without `price`, the price its purchase
    was recorded with: what stops costing is what started."""
    if price is None and (bought := uow.ledger.find(number_sid, NUMBER_BOUGHT)) is not None:
        if bought.monthly_price is not None and bought.price_unit is not None:
            price = MonthlyPrice(bought.monthly_price, bought.price_unit)
    # The account no longer owns it: the last listing's record of it goes with the release.
    uow.owned_numbers.forget(number_sid)
    return uow.ledger.record(
        number_sid,
        NUMBER_RELEASED,
        **_who(actor),
        **_price(price),
        account_sid=account_sid,
        phone_number=phone_number,
        store_id=store_id,
        reason=reason,
    )


def _who(actor: Actor) -> dict[str, str | None]:
    return {"actor": actor.subject[:255], "request_id": actor.request_id}


def _price(price: MonthlyPrice | None) -> dict[str, str | None]:
    if price is None:
        return {"monthly_price": None, "price_unit": None}
    return {"monthly_price": price.amount, "price_unit": price.currency}
