"""An in-memory Twilio behind the messaging port, for unit tests of the workflows.

`FakeMessagingGateway` keeps subaccounts, Messaging Services, applications, numbers and
WhatsApp senders in dictionaries and follows Twilio's rules where the workflows depend on
them (a purchase of an owned number answers success, as an update). It records every call,
and can be told to crash (a `SimulatedCrash`, which no handler in the service catches, like a
killed process) or to fail ambiguously after a call has taken effect, so a test can stop a
workflow between any two steps and then resume it.
"""

from __future__ import annotations

import itertools
from collections import Counter
from dataclasses import dataclass, field, replace

from clienteling_setup.providers.messaging import (
    AccountCredentials,
    Address,
    AvailableNumber,
    Bundle,
    InputRejected,
    MessagingService,
    MonthlyPrice,
    NotFound,
    NumberType,
    NumberUnavailable,
    OwnedNumber,
    ProviderUnavailable,
    Regulation,
    SenderProfile,
    Subaccount,
    SupportingDocument,
    TrustProduct,
    VoiceApplication,
    WhatsAppSender,
)


class SimulatedCrash(BaseException):  # noqa: N818 - a process dying is not an error to handle
    """The process died here: nothing in the service catches a BaseException."""


@dataclass
class _Account:
    sub: Subaccount
    services: dict[str, MessagingService] = field(default_factory=dict)
    members: dict[str, list[str]] = field(default_factory=dict)
    apps: dict[str, VoiceApplication] = field(default_factory=dict)
    numbers: dict[str, OwnedNumber] = field(default_factory=dict)
    senders: dict[str, WhatsAppSender] = field(default_factory=dict)
    bundles: dict[str, Bundle] = field(default_factory=dict)


class FakeMessagingGateway:
    def __init__(self) -> None:
        self.accounts: dict[str, _Account] = {}
        self.calls: Counter[str] = Counter()
        self.purchases: list[str] = []
        self.unavailable: set[str] = set()  # numbers Twilio refuses to sell (21422)
        self._sids = itertools.count(1)
        self._crash_after: dict[str, int] = {}
        self._crash_before: dict[str, int] = {}
        self._fail_after: dict[str, int] = {}
        #: Monthly prices by (country, number type); `pricing_down` makes the Pricing API fail.
        self.prices: dict[tuple[str, str], MonthlyPrice] = {
            ("US", "local"): MonthlyPrice("1.15", "USD")
        }
        self.pricing_down = False

    # -- scripting ----------------------------------------------------------------------
    def crash_after(self, operation: str, nth: int = 1) -> None:
        """The nth call of `operation` from now takes effect, then the process dies."""
        self._crash_after[operation] = self.calls[operation] + nth

    def crash_before(self, operation: str, nth: int = 1) -> None:
        """The process dies as the nth call of `operation` from now starts (nothing happens)."""
        self._crash_before[operation] = self.calls[operation] + nth

    def fail_after_apply(self, operation: str, nth: int = 1) -> None:
        """The nth call from now takes effect but its answer is lost (a timeout, to the caller)."""
        self._fail_after[operation] = self.calls[operation] + nth

    def _enter(self, operation: str) -> None:
        self.calls[operation] += 1
        if self._crash_before.get(operation) == self.calls[operation]:
            del self._crash_before[operation]
            raise SimulatedCrash(f"before {operation}")

    def _leave(self, operation: str) -> None:
        if self._crash_after.get(operation) == self.calls[operation]:
            del self._crash_after[operation]
            raise SimulatedCrash(f"after {operation}")
        if self._fail_after.get(operation) == self.calls[operation]:
            del self._fail_after[operation]
            raise ProviderUnavailable(f"{operation} timed out", status=None)

    def _sid(self, prefix: str) -> str:
        return f"{prefix}{next(self._sids):032x}"

    def _account(self, account: AccountCredentials) -> _Account:
        return self.accounts[account.account_sid]

    # -- inspection ---------------------------------------------------------------------
    def only_account(self) -> _Account:
        (only,) = self.accounts.values()
        return only

    def add_bundle(self, account_sid: str, iso_country: str, status: str) -> Bundle:
        bundle = Bundle(self._sid("BU"), "bundle", status, None, iso_country, "local")
        self.accounts[account_sid].bundles[bundle.sid] = bundle
        return bundle

    # -- subaccounts ----------------------------------------------------------------------
    def create_subaccount(self, friendly_name: str) -> Subaccount:
        self._enter("create_subaccount")
        sub = Subaccount(self._sid("AC"), friendly_name, "active", self._sid("tok"))
        self.accounts[sub.sid] = _Account(sub)
        self._leave("create_subaccount")
        return sub

    def find_subaccount(self, friendly_name: str) -> Subaccount | None:
        self._enter("find_subaccount")
        found = [a.sub for a in self.accounts.values() if a.sub.friendly_name == friendly_name]
        return found[0] if found else None

    def fetch_subaccount(self, sid: str) -> Subaccount:
        self._enter("fetch_subaccount")
        return self.accounts[sid].sub

    def close_subaccount(self, sid: str) -> Subaccount:
        self._enter("close_subaccount")
        account = self.accounts[sid]
        account.sub = replace(account.sub, status="closed")
        for phone_number in account.numbers:
            self.unavailable.add(phone_number)  # Twilio releases what a closed account owned
        account.numbers.clear()
        self._leave("close_subaccount")
        return account.sub

    def list_subaccounts(self) -> list[Subaccount]:
        self._enter("list_subaccounts")
        return [a.sub for a in self.accounts.values()]

    # -- messaging services ---------------------------------------------------------------
    def find_messaging_service(
        self, account: AccountCredentials, friendly_name: str
    ) -> MessagingService | None:
        self._enter("find_messaging_service")
        services = self._account(account).services.values()
        return next((s for s in services if s.friendly_name == friendly_name), None)

    def create_messaging_service(
        self, account: AccountCredentials, friendly_name: str
    ) -> MessagingService:
        self._enter("create_messaging_service")
        service = MessagingService(self._sid("MG"), friendly_name)
        self._account(account).services[service.sid] = service
        self._account(account).members[service.sid] = []
        self._leave("create_messaging_service")
        return service

    def add_number_to_messaging_service(
        self, account: AccountCredentials, service_sid: str, number_sid: str
    ) -> None:
        self._enter("add_number_to_messaging_service")
        members = self._account(account).members[service_sid]
        if number_sid not in members:  # Twilio's 21710, which the port counts as success
            members.append(number_sid)
        self._leave("add_number_to_messaging_service")

    def messaging_service_has_number(
        self, account: AccountCredentials, service_sid: str, number_sid: str
    ) -> bool:
        self._enter("messaging_service_has_number")
        return number_sid in self._account(account).members.get(service_sid, [])

    def remove_number_from_messaging_service(
        self, account: AccountCredentials, service_sid: str, number_sid: str
    ) -> None:
        self._enter("remove_number_from_messaging_service")
        members = self._account(account).members.get(service_sid, [])
        if number_sid in members:
            members.remove(number_sid)
        self._leave("remove_number_from_messaging_service")

    def delete_messaging_service(self, account: AccountCredentials, sid: str) -> None:
        self._enter("delete_messaging_service")
        self._account(account).services.pop(sid, None)
        self._account(account).members.pop(sid, None)
        self._leave("delete_messaging_service")

    # -- applications ---------------------------------------------------------------------
    def find_application(
        self, account: AccountCredentials, friendly_name: str
    ) -> VoiceApplication | None:
        self._enter("find_application")
        apps = self._account(account).apps.values()
        return next((a for a in apps if a.friendly_name == friendly_name), None)

    def create_application(
        self, account: AccountCredentials, friendly_name: str, voice_url: str
    ) -> VoiceApplication:
        self._enter("create_application")
        app = VoiceApplication(self._sid("AP"), friendly_name, voice_url)
        self._account(account).apps[app.sid] = app
        self._leave("create_application")
        return app

    def update_application(
        self, account: AccountCredentials, sid: str, voice_url: str
    ) -> VoiceApplication:
        self._enter("update_application")
        app = replace(self._account(account).apps[sid], voice_url=voice_url)
        self._account(account).apps[sid] = app
        return app

    def delete_application(self, account: AccountCredentials, sid: str) -> None:
        self._enter("delete_application")
        self._account(account).apps.pop(sid, None)
        self._leave("delete_application")

    # -- numbers --------------------------------------------------------------------------
    def search_available_numbers(
        self,
        account: AccountCredentials,
        iso_country: str,
        number_type: NumberType,
        **_filters: object,
    ) -> list[AvailableNumber]:
        raise NotImplementedError("not used by the workflows")

    def buy_number(
        self,
        account: AccountCredentials,
        phone_number: str,
        *,
        friendly_name: str,
        address_sid: str | None = None,
        bundle_sid: str | None = None,
        voice_application_sid: str | None = None,
    ) -> OwnedNumber:
        self._enter("buy_number")
        if phone_number in self.unavailable:
            raise NumberUnavailable(f"{phone_number} is not available", code=21422, status=400)
        numbers = self._account(account).numbers
        owned = numbers.get(phone_number)
        # Twilio answers a purchase of a number the account owns with success, as an update.
        number = OwnedNumber(
            owned.sid if owned else self._sid("PN"),
            phone_number,
            friendly_name,
            voice_application_sid,
            address_sid,
            bundle_sid,
        )
        if owned is None:
            self.purchases.append(phone_number)
        numbers[phone_number] = number
        self._leave("buy_number")
        return number

    def find_owned_number(
        self, account: AccountCredentials, phone_number: str
    ) -> OwnedNumber | None:
        self._enter("find_owned_number")
        return self._account(account).numbers.get(phone_number)

    def fetch_owned_number(self, account: AccountCredentials, number_sid: str) -> OwnedNumber:
        self._enter("fetch_owned_number")
        for number in self._account(account).numbers.values():
            if number.sid == number_sid:
                return number
        raise NotFound(f"number {number_sid} not found", code=20404, status=404)

    def list_owned_numbers(self, account: AccountCredentials) -> list[OwnedNumber]:
        self._enter("list_owned_numbers")
        return list(self._account(account).numbers.values())

    def set_number_voice_application(
        self, account: AccountCredentials, number_sid: str, application_sid: str
    ) -> OwnedNumber:
        self._enter("set_number_voice_application")
        numbers = self._account(account).numbers
        number = next(n for n in numbers.values() if n.sid == number_sid)
        numbers[number.phone_number] = replace(number, voice_application_sid=application_sid)
        self._leave("set_number_voice_application")
        return numbers[number.phone_number]

    def monthly_number_price(
        self, iso_country: str, number_type: NumberType
    ) -> MonthlyPrice | None:
        self._enter("monthly_number_price")
        if self.pricing_down:
            raise ProviderUnavailable("Twilio's Pricing API is down", status=503)
        price = self.prices.get((iso_country.upper(), number_type))
        self._leave("monthly_number_price")
        return price

    def release_number(self, account: AccountCredentials, number_sid: str) -> None:
        self._enter("release_number")
        numbers = self._account(account).numbers
        for phone_number, number in list(numbers.items()):
            if number.sid == number_sid:
                del numbers[phone_number]
                self.unavailable.add(phone_number)  # Twilio ages a released number
        for members in self._account(account).members.values():
            if number_sid in members:
                members.remove(number_sid)
        self._leave("release_number")

    # -- compliance -----------------------------------------------------------------------
    def list_addresses(self, account: AccountCredentials, iso_country: str) -> list[Address]:
        return []

    def list_bundles(
        self,
        account: AccountCredentials,
        iso_country: str | None = None,
        *,
        failure_reasons: bool = True,
    ) -> list[Bundle]:
        bundles = self._account(account).bundles.values()
        return [b for b in bundles if iso_country is None or b.iso_country == iso_country]

    def fetch_bundle(self, account: AccountCredentials, sid: str) -> Bundle:
        self._enter("fetch_bundle")
        bundle = self._account(account).bundles.get(sid)
        if bundle is None:
            raise NotFound(f"bundle {sid} not found", code=20404, status=404)
        return bundle

    def bundle_address_sid(self, account: AccountCredentials, bundle_sid: str) -> str | None:
        return None

    def list_bundle_documents(
        self, account: AccountCredentials, bundle_sid: str
    ) -> list[SupportingDocument]:
        return []

    def list_regulations(
        self, account: AccountCredentials, iso_country: str, number_type: NumberType
    ) -> list[Regulation]:
        return []

    def list_trust_products(self, account: AccountCredentials) -> list[TrustProduct]:
        return []

    def fetch_trust_product(self, account: AccountCredentials, sid: str) -> TrustProduct:
        raise NotFound(f"trust product {sid} not found", code=20404, status=404)

    def list_trust_product_documents(
        self, account: AccountCredentials, trust_product_sid: str
    ) -> list[SupportingDocument]:
        return []

    # -- WhatsApp senders -----------------------------------------------------------------
    def create_sender(
        self,
        account: AccountCredentials,
        *,
        sender_id: str,
        waba_id: str,
        profile: SenderProfile,
        status_callback_url: str,
    ) -> WhatsAppSender:
        self._enter("create_sender")
        senders = self._account(account).senders.values()
        if any(s.sender_id == sender_id for s in senders):
            raise InputRejected(f"Sender {sender_id} is already registered", code=20001, status=409)
        sender = WhatsAppSender(self._sid("XE"), sender_id, "CREATING", waba_id, None, None)
        self._account(account).senders[sender.sid] = sender
        self._leave("create_sender")
        return sender

    def fetch_sender(self, account: AccountCredentials, sid: str) -> WhatsAppSender:
        self._enter("fetch_sender")
        return self._account(account).senders[sid]

    def update_sender(
        self,
        account: AccountCredentials,
        sid: str,
        *,
        profile: SenderProfile,
        status_callback_url: str,
    ) -> WhatsAppSender:
        self._enter("update_sender")
        return self._account(account).senders[sid]

    def list_senders(self, account: AccountCredentials) -> list[WhatsAppSender]:
        self._enter("list_senders")
        return list(self._account(account).senders.values())

    def delete_sender(self, account: AccountCredentials, sid: str) -> None:
        self._enter("delete_sender")
        self._account(account).senders.pop(sid, None)
        self._leave("delete_sender")
