"""`TwilioGateway`: the `MessagingGateway` port on the official `twilio` SDK.

Master credentials manage tenant subaccounts. Every tenant call uses the subaccount's own SID and
auth token: Twilio accepts main-account credentials for a subaccount only on the 2010 API, while
numbers v2, messaging v1/v2 and trusthub v1 need the subaccount's own. All calls go through
`GatewayHttpClient` (timeouts, retries of idempotent requests, emulator base URL) and run inside
`map_twilio_errors`, so only `ProviderError`s leave this module.
"""

from __future__ import annotations

import logging
from typing import Any, Unpack

from twilio.rest.messaging.v2.channels_sender import ChannelsSenderContext, ChannelsSenderList

from clienteling_setup.providers.messaging import (
    AccountCredentials,
    AvailableNumber,
    InputRejected,
    MessagingService,
    NewSender,
    NotFound,
    NumberPurchase,
    NumberSearch,
    NumberType,
    OwnedNumber,
    ProviderError,
    ProviderFailure,
    ProviderUnavailable,
    SenderSettings,
    Subaccount,
    VoiceApplication,
    WhatsAppSender,
)

from . import mapping
from .a2p import A2PCalls
from .compliance import ComplianceCalls
from .pricing import PricingCalls

__all__ = ["TwilioGateway"]

_logger = logging.getLogger(__name__)

#: Twilio's `AvailablePhoneNumbers/{country}/{type}` resources, by the port's number type.
_AVAILABLE_RESOURCE = {
    "local": "local",
    "mobile": "mobile",
    "national": "national",
    "toll-free": "toll_free",
}
#: 21710: "Phone number or short code is already in the Messaging Service".
_ALREADY_IN_SERVICE = 21710


class TwilioGateway(ComplianceCalls, A2PCalls, PricingCalls):
    """Implements `providers.messaging.MessagingGateway`.

    `TwilioGateway(sid, token, base_url=..., timeout=..., max_attempts=..., backoff_base=...,
    max_total_wait=..., price_ttl=...)`; see `GatewayBase` for the constructor. Compliance calls
    are in `compliance.py`, US A2P 10DLC registration in `a2p.py`, number prices in
    `pricing.py`.
    """

    # -- master account: tenant subaccounts -----------------------------------------------------
    def create_subaccount(self, friendly_name: str) -> Subaccount:
        accounts = self._master.api.v2010.accounts
        return self._create(
            "create subaccount", accounts, mapping.subaccount, friendly_name=friendly_name
        )

    def find_subaccount(self, friendly_name: str) -> Subaccount | None:
        accounts = self._call(
            "find subaccount",
            lambda: self._master.api.v2010.accounts.list(friendly_name=friendly_name),
        )
        matches = [
            mapping.subaccount(a)
            for a in accounts
            if mapping.text(a, "friendly_name") == friendly_name
            and mapping.text(a, "sid") != self._master_sid
        ]
        usable = [a for a in matches if a.status != "closed"]
        return usable[0] if usable else None

    def fetch_subaccount(self, sid: str) -> Subaccount:
        return self._call(
            "fetch subaccount",
            lambda: mapping.subaccount(self._master.api.v2010.accounts(sid).fetch()),
        )

    def close_subaccount(self, sid: str) -> Subaccount:
        # Setting the status is safe to repeat; Twilio answers a closed account as closed.
        account = self._master.api.v2010.accounts(sid)
        return self._update("close subaccount", account, mapping.subaccount, status="closed")

    def list_subaccounts(self) -> list[Subaccount]:
        accounts = self._call(
            "list subaccounts",
            lambda: self._master.api.v2010.accounts.list(page_size=1000),
        )
        return [
            mapping.subaccount(a) for a in accounts if mapping.text(a, "sid") != self._master_sid
        ]

    # -- tenant account: messaging services -----------------------------------------------------
    def find_messaging_service(
        self, account: AccountCredentials, friendly_name: str
    ) -> MessagingService | None:
        # The Services list has no FriendlyName filter: read every page.
        services = self._call("list messaging services", self._services(account).list)
        return mapping.first(services, "friendly_name", friendly_name, mapping.messaging_service)

    def create_messaging_service(
        self, account: AccountCredentials, friendly_name: str
    ) -> MessagingService:
        services = self._services(account)
        return self._create(
            "create messaging service",
            services,
            mapping.messaging_service,
            friendly_name=friendly_name,
        )

    def add_number_to_messaging_service(
        self, account: AccountCredentials, service_sid: str, number_sid: str
    ) -> None:
        service = self._services(account)(service_sid)
        try:
            # Safe to repeat: a number already in the service counts as success below.
            self._idempotent_write(
                "add number to messaging service",
                lambda: service.phone_numbers.create(phone_number_sid=number_sid),
            )
        except InputRejected as exc:
            if exc.code == _ALREADY_IN_SERVICE:
                return
            # Another refusal may still hide a number that is there (a repeat whose first
            # answer was lost): one fetch by SID tells, whatever the service's size.
            if self.messaging_service_has_number(account, service_sid, number_sid):
                return
            raise

    def messaging_service_has_number(
        self, account: AccountCredentials, service_sid: str, number_sid: str
    ) -> bool:
        entry = self._services(account)(service_sid).phone_numbers(number_sid)
        try:
            self._call("fetch messaging service number", entry.fetch)
        except NotFound:
            return False
        return True

    def remove_number_from_messaging_service(
        self, account: AccountCredentials, service_sid: str, number_sid: str
    ) -> None:
        member = self._services(account)(service_sid).phone_numbers(number_sid)
        self._delete("remove number from messaging service", member)

    def delete_messaging_service(self, account: AccountCredentials, sid: str) -> None:
        self._delete("delete messaging service", self._services(account)(sid))

    # -- voice applications (call forwarding) ---------------------------------------------------
    def find_application(
        self, account: AccountCredentials, friendly_name: str
    ) -> VoiceApplication | None:
        applications = self._account(account).applications
        return self._find(
            "find application", applications, mapping.voice_application, friendly_name=friendly_name
        )

    def create_application(
        self, account: AccountCredentials, friendly_name: str, voice_url: str
    ) -> VoiceApplication:
        applications = self._account(account).applications
        return self._create(
            "create application",
            applications,
            mapping.voice_application,
            friendly_name=friendly_name,
            voice_url=voice_url,
            voice_method="POST",
        )

    def update_application(
        self, account: AccountCredentials, sid: str, voice_url: str
    ) -> VoiceApplication:
        application = self._account(account).applications(sid)
        return self._update(
            "update application",
            application,
            mapping.voice_application,
            voice_url=voice_url,
            voice_method="POST",
        )

    def delete_application(self, account: AccountCredentials, sid: str) -> None:
        self._delete("delete application", self._account(account).applications(sid))

    # -- phone numbers --------------------------------------------------------------------------
    def search_available_numbers(
        self,
        account: AccountCredentials,
        iso_country: str,
        number_type: NumberType,
        **filters: Unpack[NumberSearch],
    ) -> list[AvailableNumber]:
        resource_name = _AVAILABLE_RESOURCE.get(number_type)
        if resource_name is None:
            raise ValueError(f"unknown number type {number_type!r}")
        limit = filters.pop("limit", 20)
        given = {key: value for key, value in filters.items() if value}
        country = iso_country.upper()

        def search() -> list[Any]:
            resource = getattr(
                self._account(account).available_phone_numbers(country), resource_name
            )
            return list(resource.list(sms_enabled=True, limit=max(1, limit), **given))

        try:
            found = self._call("search available numbers", search)
        except NotFound:
            return []  # this number type does not exist in this country
        numbers = [mapping.available_number(n, country) for n in found]
        return [n for n in numbers if n.sms][:limit]

    def buy_number(
        self, account: AccountCredentials, phone_number: str, **purchase: Unpack[NumberPurchase]
    ) -> OwnedNumber:
        # The friendly name is always sent; the sids only when given.
        params: dict[str, object] = {
            "phone_number": phone_number,
            "friendly_name": purchase["friendly_name"],
        }
        params.update((key, value) for key, value in purchase.items() if value)
        try:
            # Sent exactly once (POST is never retried by the HTTP client). Twilio answers a
            # purchase of a number this account already owns with success, as an update.
            numbers = self._account(account).incoming_phone_numbers
            return self._create("buy number", numbers, mapping.owned_number, **params)
        except (ProviderUnavailable, ProviderFailure) as exc:
            if exc.status is not None and exc.status < 500:
                raise  # Twilio answered (rate limit, our credentials): nothing was bought
            # Ambiguous: timed out, dropped, or Twilio failed. Did the purchase happen?
            try:
                owned = self.find_owned_number(account, phone_number)
            except ProviderError:
                _logger.warning(
                    "could not check ownership of %s after a failed purchase", phone_number
                )
                raise exc  # noqa: B904 - the purchase's error is the one to report
            if owned is None:
                raise
            _logger.info("purchase of %s failed ambiguously but the number is owned", phone_number)
            return owned

    def find_owned_number(
        self, account: AccountCredentials, phone_number: str
    ) -> OwnedNumber | None:
        numbers = self._account(account).incoming_phone_numbers
        return self._find(
            "find owned number", numbers, mapping.owned_number, phone_number=phone_number
        )

    def fetch_owned_number(self, account: AccountCredentials, number_sid: str) -> OwnedNumber:
        number = self._account(account).incoming_phone_numbers(number_sid)
        return self._call("fetch owned number", lambda: mapping.owned_number(number.fetch()))

    def list_owned_numbers(self, account: AccountCredentials) -> list[OwnedNumber]:
        # Twilio's largest page: one call per 1,000 numbers (its default page holds 50).
        numbers = self._call(
            "list owned numbers",
            lambda: self._account(account).incoming_phone_numbers.list(page_size=1000),
        )
        return [mapping.owned_number(n) for n in numbers]

    def set_number_voice_application(
        self, account: AccountCredentials, number_sid: str, application_sid: str
    ) -> OwnedNumber:
        number = self._account(account).incoming_phone_numbers(number_sid)
        return self._update(
            "set number voice application",
            number,
            mapping.owned_number,
            voice_application_sid=application_sid,
        )

    def release_number(self, account: AccountCredentials, number_sid: str) -> None:
        number = self._account(account).incoming_phone_numbers(number_sid)
        try:
            # DELETE is safe to repeat: after an ambiguous failure the retry answers 404.
            self._idempotent_write("release number", number.delete)
        except NotFound:
            _logger.info("number %s was already released", number_sid)

    # -- WhatsApp senders (/v2/Channels/Senders) ------------------------------------------------
    def create_sender(
        self, account: AccountCredentials, **sender: Unpack[NewSender]
    ) -> WhatsAppSender:
        request = ChannelsSenderList.MessagingV2ChannelsSenderRequestsCreate(
            {
                "sender_id": sender["sender_id"],
                "configuration": {"waba_id": sender["waba_id"]},
                **mapping.sender_settings(sender),
            }
        )
        senders = self._senders(account)
        return self._create("create sender", senders, mapping.whatsapp_sender, request)

    def fetch_sender(self, account: AccountCredentials, sid: str) -> WhatsAppSender:
        sender = self._senders(account)(sid)
        return self._call("fetch sender", lambda: mapping.whatsapp_sender(sender.fetch()))

    def update_sender(
        self, account: AccountCredentials, sid: str, **settings: Unpack[SenderSettings]
    ) -> WhatsAppSender:
        request = ChannelsSenderContext.MessagingV2ChannelsSenderRequestsUpdate(
            mapping.sender_settings(settings)
        )
        sender = self._senders(account)(sid)
        return self._update("update sender", sender, mapping.whatsapp_sender, request)

    def list_senders(self, account: AccountCredentials) -> list[WhatsAppSender]:
        found = self._call(
            "list senders",
            lambda: self._senders(account).list(channel="whatsapp"),
        )
        return [mapping.whatsapp_sender(s) for s in found]

    def delete_sender(self, account: AccountCredentials, sid: str) -> None:
        self._delete("delete sender", self._senders(account)(sid))

    # -- the tenant's resources -----------------------------------------------------------------
    def _services(self, account: AccountCredentials) -> Any:
        """Messaging Services (messaging v1) of the tenant's subaccount."""
        return self._tenant(account).messaging.v1.services

    def _delete(self, operation: str, resource: Any) -> None:
        """`resource.delete()`, safe to repeat: a resource gone already (404, an earlier
        attempt's DELETE applied without its answer) counts as deleted."""
        try:
            self._idempotent_write(operation, resource.delete)
        except NotFound:
            _logger.info("%s: already gone", operation)

    def _senders(self, account: AccountCredentials) -> Any:
        """WhatsApp senders (messaging v2 Channels/Senders) of the tenant's subaccount."""
        return self._tenant(account).messaging.v2.channels_senders
