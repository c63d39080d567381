"""`TwilioGateway`: the `MessagingGateway` port on the official `twilio` SDK.

Master credentials manage tenant subaccounts. Every tenant call uses the subaccount's own SID and
auth token: Twilio accepts main-account credentials for a subaccount only on the 2010 API, while
numbers v2, messaging v1/v2 and trusthub v1 need the subaccount's own. All calls go through
`GatewayHttpClient` (timeouts, retries of idempotent requests, emulator base URL) and run inside
`map_twilio_errors`, so only `ProviderError`s leave this module.
"""

from __future__ import annotations

import logging
from typing import Any

from twilio.rest.messaging.v2.channels_sender import ChannelsSenderContext, ChannelsSenderList

from clienteling_setup.providers.messaging import (
    AccountCredentials,
    AvailableNumber,
    InputRejected,
    MessagingService,
    NotFound,
    NumberType,
    OwnedNumber,
    ProviderError,
    ProviderFailure,
    ProviderUnavailable,
    SenderProfile,
    Subaccount,
    VoiceApplication,
    WhatsAppSender,
)

from . import mapping
from .compliance import ComplianceCalls

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


class TwilioGateway(ComplianceCalls):
    """Implements `providers.messaging.MessagingGateway`.

    `TwilioGateway(sid, token, base_url=..., timeout=..., max_attempts=..., backoff_base=...,
    max_total_wait=...)`; see `GatewayBase` for the constructor.
    """

    # -- master account: tenant subaccounts -----------------------------------------------------
    def create_subaccount(self, friendly_name: str) -> Subaccount:
        return self._call(
            "create subaccount",
            lambda: mapping.subaccount(
                self._master.api.v2010.accounts.create(friendly_name=friendly_name)
            ),
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

    # -- tenant account: messaging services -----------------------------------------------------
    def find_messaging_service(
        self, account: AccountCredentials, friendly_name: str
    ) -> MessagingService | None:
        # The Services list has no FriendlyName filter: read every page.
        services = self._call(
            "list messaging services",
            lambda: self._tenant(account).messaging.v1.services.list(),
        )
        for service in services:
            if mapping.text(service, "friendly_name") == friendly_name:
                return mapping.messaging_service(service)
        return None

    def create_messaging_service(
        self, account: AccountCredentials, friendly_name: str
    ) -> MessagingService:
        return self._call(
            "create messaging service",
            lambda: mapping.messaging_service(
                self._tenant(account).messaging.v1.services.create(friendly_name=friendly_name)
            ),
        )

    def add_number_to_messaging_service(
        self, account: AccountCredentials, service_sid: str, number_sid: str
    ) -> None:
        service = self._tenant(account).messaging.v1.services(service_sid)
        try:
            # Safe to repeat: a number already in the service counts as success below.
            self._idempotent_write(
                "add number to messaging service",
                lambda: service.phone_numbers.create(phone_number_sid=number_sid),
            )
        except InputRejected as exc:
            if exc.code == _ALREADY_IN_SERVICE:
                return
            if number_sid in self.list_messaging_service_numbers(account, service_sid):
                return
            raise

    def list_messaging_service_numbers(
        self, account: AccountCredentials, service_sid: str
    ) -> list[str]:
        numbers = self._call(
            "list messaging service numbers",
            lambda: self._tenant(account).messaging.v1.services(service_sid).phone_numbers.list(),
        )
        return [sid for n in numbers if (sid := mapping.text(n, "sid"))]

    # -- voice applications (call forwarding) ---------------------------------------------------
    def find_application(
        self, account: AccountCredentials, friendly_name: str
    ) -> VoiceApplication | None:
        apps = self._call(
            "find application",
            lambda: self._account(account).applications.list(friendly_name=friendly_name),
        )
        for app in apps:
            if mapping.text(app, "friendly_name") == friendly_name:
                return mapping.voice_application(app)
        return None

    def create_application(
        self, account: AccountCredentials, friendly_name: str, voice_url: str
    ) -> VoiceApplication:
        return self._call(
            "create application",
            lambda: mapping.voice_application(
                self._account(account).applications.create(
                    friendly_name=friendly_name, voice_url=voice_url, voice_method="POST"
                )
            ),
        )

    def update_application(
        self, account: AccountCredentials, sid: str, voice_url: str
    ) -> VoiceApplication:
        return self._idempotent_write(
            "update application",
            lambda: mapping.voice_application(
                self._account(account)
                .applications(sid)
                .update(voice_url=voice_url, voice_method="POST")
            ),
        )

    # -- phone numbers --------------------------------------------------------------------------
    def search_available_numbers(
        self,
        account: AccountCredentials,
        iso_country: str,
        number_type: NumberType,
        *,
        in_region: str | None = None,
        in_postal_code: str | None = None,
        area_code: str | None = None,
        near_lat_long: str | None = None,
        contains: str | None = None,
        limit: int = 20,
    ) -> list[AvailableNumber]:
        resource_name = _AVAILABLE_RESOURCE.get(number_type)
        if resource_name is None:
            raise ValueError(f"unknown number type {number_type!r}")
        filters: dict[str, object] = {
            key: value
            for key, value in {
                "in_region": in_region,
                "in_postal_code": in_postal_code,
                "area_code": area_code,
                "near_lat_long": near_lat_long,
                "contains": contains,
            }.items()
            if value
        }
        country = iso_country.upper()

        def search() -> list[Any]:
            resource = getattr(
                self._account(account).available_phone_numbers(country), resource_name
            )
            return list(resource.list(sms_enabled=True, limit=max(1, limit), **filters))

        try:
            found = self._call("search available numbers", search)
        except NotFound:
            return []  # this number type does not exist in this country
        numbers = [mapping.available_number(n, country) for n in found]
        return [n for n in numbers if n.sms][:limit]

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
        params: dict[str, object] = {"phone_number": phone_number, "friendly_name": friendly_name}
        if address_sid:
            params["address_sid"] = address_sid
        if bundle_sid:
            params["bundle_sid"] = bundle_sid
        if voice_application_sid:
            params["voice_application_sid"] = voice_application_sid
        try:
            # Sent exactly once (POST is never retried by the HTTP client). Twilio answers a
            # purchase of a number this account already owns with success, as an update.
            return self._call(
                "buy number",
                lambda: mapping.owned_number(
                    self._account(account).incoming_phone_numbers.create(**params)
                ),
            )
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
        numbers = self._call(
            "find owned number",
            lambda: self._account(account).incoming_phone_numbers.list(phone_number=phone_number),
        )
        for number in numbers:
            if mapping.text(number, "phone_number") == phone_number:
                return mapping.owned_number(number)
        return None

    def list_owned_numbers(self, account: AccountCredentials) -> list[OwnedNumber]:
        numbers = self._call(
            "list owned numbers", lambda: self._account(account).incoming_phone_numbers.list()
        )
        return [mapping.owned_number(n) for n in numbers]

    def set_number_voice_application(
        self, account: AccountCredentials, number_sid: str, application_sid: str
    ) -> OwnedNumber:
        return self._idempotent_write(
            "set number voice application",
            lambda: mapping.owned_number(
                self._account(account)
                .incoming_phone_numbers(number_sid)
                .update(voice_application_sid=application_sid)
            ),
        )

    # -- WhatsApp senders (/v2/Channels/Senders) ------------------------------------------------
    def create_sender(
        self,
        account: AccountCredentials,
        *,
        sender_id: str,
        waba_id: str,
        profile: SenderProfile,
        status_callback_url: str,
    ) -> WhatsAppSender:
        request = ChannelsSenderList.MessagingV2ChannelsSenderRequestsCreate(
            {
                "sender_id": sender_id,
                "configuration": {"waba_id": waba_id},
                "webhook": mapping.status_webhook(status_callback_url),
                "profile": mapping.sender_profile(profile),
            }
        )
        return self._call(
            "create sender",
            lambda: mapping.whatsapp_sender(
                self._tenant(account).messaging.v2.channels_senders.create(request)
            ),
        )

    def fetch_sender(self, account: AccountCredentials, sid: str) -> WhatsAppSender:
        return self._call(
            "fetch sender",
            lambda: mapping.whatsapp_sender(
                self._tenant(account).messaging.v2.channels_senders(sid).fetch()
            ),
        )

    def update_sender(
        self,
        account: AccountCredentials,
        sid: str,
        *,
        profile: SenderProfile,
        status_callback_url: str,
    ) -> WhatsAppSender:
        request = ChannelsSenderContext.MessagingV2ChannelsSenderRequestsUpdate(
            {
                "webhook": mapping.status_webhook(status_callback_url),
                "profile": mapping.sender_profile(profile),
            }
        )
        return self._idempotent_write(
            "update sender",
            lambda: mapping.whatsapp_sender(
                self._tenant(account).messaging.v2.channels_senders(sid).update(request)
            ),
        )

    def list_senders(self, account: AccountCredentials) -> list[WhatsAppSender]:
        found = self._call(
            "list senders",
            lambda: self._tenant(account).messaging.v2.channels_senders.list(channel="whatsapp"),
        )
        return [mapping.whatsapp_sender(s) for s in found]
