"""Owning a store's number exactly once.

Shared by SMS onboarding and WhatsApp registration (a dedicated WhatsApp number). The caller
has committed the number's claim in the registry (`numbers.models.NumberClaim`) first, and
knows whether an earlier attempt of the same workflow exists (its row was there before this
request's claim). A first attempt buys at once, with the friendly name, voice application,
bundle and address set in the purchase itself: its claim was committed just now, so nothing
this service did can own the number yet. Only a retry looks the number up in the tenant's
account (one filtered call): Twilio answers a purchase of an owned number with success, as an
update, so a blind repeat proves nothing, and a number bought for another store or purpose is
never taken. The bundle is not read before buying either: Twilio's refusal of the purchase is
the check, and only then is the bundle read, to say precisely what is wrong with it.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass

from clienteling_setup import errors
from clienteling_setup.numbers.models import SMS
from clienteling_setup.providers.messaging import (
    AccountCredentials,
    InputRejected,
    MessagingGateway,
    NotFound,
    OwnedNumber,
    ProviderError,
    RegulatoryRejected,
)
from clienteling_setup.unit_of_work import UnitsOfWork
from clienteling_setup.workflow.core import Run, exclusive, try_exclusive


def number_friendly_name(tenant_id: str, store_id: str, channel: str = SMS) -> str:
    """Names tenant, store (and purpose, for a WhatsApp number): the purchase is keyed to its
    store, and orphans are findable."""
    suffix = "" if channel == SMS else f":{channel}"
    return f"clienteling:{tenant_id}:store:{store_id}{suffix}"[:64]


def check_bundle(
    gateway: MessagingGateway,
    account: AccountCredentials,
    bundle_sid: str,
    store_id: str,
    store_country: str,
) -> None:
    """The bundle exists in the tenant's account, is of the store's country and approved."""
    try:
        bundle = gateway.fetch_bundle(account, bundle_sid)
    except NotFound as exc:
        raise errors.BadRequest(
            f"'bundle_sid': bundle {bundle_sid} does not exist in the tenant's Twilio "
            f"account. Pick one from GET /clienteling/stores/{store_id}/regulatory-bundles."
        ) from exc
    except ProviderError as exc:
        raise errors.from_provider(exc, "Checking the regulatory bundle") from exc
    if bundle.iso_country is not None and bundle.iso_country != store_country:
        raise errors.BadRequest(
            f"'bundle_sid': bundle {bundle.sid} is for {bundle.iso_country}, but store "
            f"'{store_id}' is in {store_country}. Use a bundle of {store_country}."
        )
    if bundle.status != "twilio-approved":
        raise errors.BadRequest(
            f"'bundle_sid': bundle {bundle.sid} is '{bundle.status}', not 'twilio-approved'. "
            "Twilio sells regulated numbers only with an approved bundle; wait for the review "
            "or use an approved bundle."
        )


def explain_refusal(
    gateway: MessagingGateway,
    account: AccountCredentials,
    refusal: ProviderError,
    *,
    bundle_sid: str | None,
    store_id: str,
    store_country: str,
) -> None:
    """After Twilio refused a purchase over its compliance terms: raise `check_bundle`'s
    precise 400 when the bundle explains it (read only now, off the happy path). Returns when
    it does not, or cannot be read, so the caller reports Twilio's own reason."""
    if bundle_sid is None or not isinstance(refusal, RegulatoryRejected):
        return
    try:
        check_bundle(gateway, account, bundle_sid, store_id, store_country)
    except errors.BadRequest:
        raise
    except errors.AppError:
        return  # the bundle could not be read: Twilio's reason stands


@dataclass(frozen=True)
class Purchase:
    """A number a store needs: adopted if the tenant's account owns it, else bought so."""

    account: AccountCredentials
    tenant_id: str
    phone_number: str
    friendly_name: str  # names tenant, store (and purpose): keys the purchase to its store
    bundle_sid: str | None
    address_sid: str | None
    voice_app_sid: str | None


@dataclass(frozen=True)
class StoreWorkflow:
    """A workflow a store goes through one request at a time (SMS onboarding, WhatsApp
    registration): the lease it holds, and the 409s of a request that meets another."""

    name: str  # the lease is `<name>:<tenant>:<store>`
    title: str  # "the <title> of store 'x'": what the messages call it
    doing: str  # "store 'x' is being <doing> by another request"

    def lease(self, tenant_id: str, store_id: str) -> str:
        return f"{self.name}:{tenant_id}:{store_id}"

    def busy(self, store_id: str) -> errors.Conflict:
        return errors.Conflict(
            f"Store '{store_id}' is being {self.doing} by another request. "
            "Retry the same request in a few seconds."
        )

    def lost(self, store_id: str) -> errors.Conflict:
        return errors.Conflict(
            f"The {self.title} of store '{store_id}' was taken over by another request. "
            "Retry the same request in a few seconds."
        )

    def changed(self, store_id: str) -> errors.Conflict:
        """A step found the store's claim changed (another request, or a release) meanwhile."""
        return errors.Conflict(
            f"The {self.title} of store '{store_id}' changed meanwhile. Retry the request."
        )

    def exclusive(
        self, uows: UnitsOfWork, tenant_id: str, store_id: str
    ) -> AbstractContextManager[Run]:
        """Run the block as the store's only request in this workflow (`workflow.core`)."""
        return exclusive(
            uows,
            self.lease(tenant_id, store_id),
            busy=self.busy(store_id),
            lost=self.lost(store_id),
        )

    def try_exclusive(
        self, uows: UnitsOfWork, tenant_id: str, store_id: str
    ) -> AbstractContextManager[Run | None]:
        """For reconciliation: the run, or None while a request works on the store."""
        return try_exclusive(uows, self.lease(tenant_id, store_id), lost=self.lost(store_id))


@dataclass(frozen=True)
class StoreNumber:
    """A number a store's workflow (SMS onboarding, WhatsApp registration) owns, and what
    buying it needs; each workflow's plan extends it."""

    tenant_id: str
    store_id: str
    country: str
    account: AccountCredentials
    voice_app_sid: str
    phone_number: str
    bundle_sid: str | None
    address_sid: str | None

    def purchase(self, channel: str = SMS) -> Purchase:
        """The number as bought for the store's `channel` (its friendly name says which)."""
        return Purchase(
            account=self.account,
            tenant_id=self.tenant_id,
            phone_number=self.phone_number,
            friendly_name=number_friendly_name(self.tenant_id, self.store_id, channel),
            bundle_sid=self.bundle_sid,
            address_sid=self.address_sid,
            voice_app_sid=self.voice_app_sid,
        )


def ensure_number(
    gateway: MessagingGateway,
    purchase: Purchase,
    *,
    earlier_attempt: bool,
    release: Callable[[], None],
    refuse_purchase: errors.AppError | None = None,
) -> OwnedNumber:
    """Own `purchase.phone_number` exactly once. The caller has committed its claim already.

    The number is looked up (one filtered call) only when it may be owned already: an
    `earlier_attempt` of the workflow exists, or `refuse_purchase` forbids buying (the caller
    says the account owns it). A first attempt buys it in one call. `release` frees the
    caller's claim when no number was bought and none will be (Twilio definitely refused, or
    `refuse_purchase`); it is not called otherwise, so a retry finds the number by lookup.
    Raises `ProviderError`s.
    """
    if earlier_attempt or refuse_purchase is not None:
        owned = gateway.find_owned_number(purchase.account, purchase.phone_number)
        if owned is not None:
            check_owner(purchase, owned)
            return owned
        if refuse_purchase is not None:
            release()
            raise refuse_purchase
    try:
        # An ambiguous failure is resolved inside: the gateway looks the number up then.
        return gateway.buy_number(
            purchase.account,
            purchase.phone_number,
            friendly_name=purchase.friendly_name,
            address_sid=purchase.address_sid,
            bundle_sid=purchase.bundle_sid,
            voice_application_sid=purchase.voice_app_sid,
        )
    except InputRejected:
        # Twilio definitely did not sell the number: free the store for another choice.
        release()
        raise


def check_owner(purchase: Purchase, owned: OwnedNumber) -> None:
    """A number bought by this service for another store (or purpose) is not ours to take."""
    prefix = f"clienteling:{purchase.tenant_id}:store:"
    if owned.friendly_name.startswith(prefix) and owned.friendly_name != purchase.friendly_name:
        other, _, purpose = owned.friendly_name.removeprefix(prefix).partition(":")
        what = f"store '{other}'" + (f" ({purpose})" if purpose else "")
        raise errors.Conflict(
            f"{purchase.phone_number} was bought for {what}. "
            "Pick another number from the available-phone-numbers list."
        )
