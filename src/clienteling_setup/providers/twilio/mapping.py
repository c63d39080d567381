"""SDK instances -> the port's neutral dataclasses. Tolerant of missing fields, never raises."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from clienteling_setup.providers.messaging import (
    Address,
    AvailableNumber,
    MessagingService,
    OwnedNumber,
    Regulation,
    SenderProfile,
    Subaccount,
    SupportingDocument,
    TrustProduct,
    VoiceApplication,
    WhatsAppSender,
)


def text(obj: Any, name: str) -> str | None:
    """Attribute `name` of an SDK instance (or key of a dict) as a string, None if absent/empty."""
    value = obj.get(name) if isinstance(obj, Mapping) else getattr(obj, name, None)
    if value is None:
        return None
    value = str(value)
    return value or None


def timestamp(value: Any) -> str | None:
    """An SDK datetime as ISO 8601 (UTC as `Z`); strings pass through."""
    if value is None:
        return None
    if isinstance(value, datetime):
        if value.tzinfo is not None and value.utcoffset() == UTC.utcoffset(None):
            return value.replace(tzinfo=None).isoformat() + "Z"
        return value.isoformat()
    return str(value) or None


def subaccount(obj: Any) -> Subaccount:
    return Subaccount(
        sid=text(obj, "sid") or "",
        friendly_name=text(obj, "friendly_name") or "",
        status=text(obj, "status") or "",
        auth_token=text(obj, "auth_token") or "",
    )


def messaging_service(obj: Any) -> MessagingService:
    return MessagingService(
        sid=text(obj, "sid") or "", friendly_name=text(obj, "friendly_name") or ""
    )


def voice_application(obj: Any) -> VoiceApplication:
    return VoiceApplication(
        sid=text(obj, "sid") or "",
        friendly_name=text(obj, "friendly_name") or "",
        voice_url=text(obj, "voice_url"),
    )


def available_number(obj: Any, iso_country: str) -> AvailableNumber:
    return AvailableNumber(
        phone_number=text(obj, "phone_number") or "",
        locality=text(obj, "locality"),
        region=text(obj, "region"),
        postal_code=text(obj, "postal_code"),
        iso_country=text(obj, "iso_country") or iso_country.upper(),
        sms=sms_capable(getattr(obj, "capabilities", None)),
    )


def sms_capable(capabilities: Any) -> bool:
    """Twilio spells the capability `SMS` on available numbers and `sms` on owned ones."""
    if not isinstance(capabilities, Mapping):
        return False
    return any(bool(value) for key, value in capabilities.items() if str(key).lower() == "sms")


def owned_number(obj: Any) -> OwnedNumber:
    return OwnedNumber(
        sid=text(obj, "sid") or "",
        phone_number=text(obj, "phone_number") or "",
        friendly_name=text(obj, "friendly_name") or "",
        voice_application_sid=text(obj, "voice_application_sid"),
        address_sid=text(obj, "address_sid"),
        bundle_sid=text(obj, "bundle_sid"),
    )


def address(obj: Any) -> Address:
    return Address(
        sid=text(obj, "sid") or "",
        friendly_name=text(obj, "friendly_name"),
        street=text(obj, "street"),
        street_secondary=text(obj, "street_secondary"),
        city=text(obj, "city"),
        region=text(obj, "region"),
        postal_code=text(obj, "postal_code"),
        iso_country=text(obj, "iso_country") or "",
    )


def regulation(obj: Any) -> Regulation:
    return Regulation(
        sid=text(obj, "sid") or "",
        friendly_name=text(obj, "friendly_name") or "",
        iso_country=text(obj, "iso_country") or "",
        number_type=text(obj, "number_type") or "",
        end_user_type=text(obj, "end_user_type") or "",
    )


def supporting_document(obj: Any) -> SupportingDocument:
    return SupportingDocument(
        sid=text(obj, "sid") or "",
        friendly_name=text(obj, "friendly_name") or "",
        status=text(obj, "status") or "",
        date_created=timestamp(getattr(obj, "date_created", None)),
        date_updated=timestamp(getattr(obj, "date_updated", None)),
    )


def trust_product(obj: Any) -> TrustProduct:
    return TrustProduct(
        sid=text(obj, "sid") or "",
        friendly_name=text(obj, "friendly_name") or "",
        status=text(obj, "status") or "",
        policy_sid=text(obj, "policy_sid"),
    )


def evaluation_failure(results: Any) -> str | None:
    """The failure reasons in a bundle evaluation's `results`, joined; None if none given.

    Each result is a requirement: `passed`, `failure_reason`, and `invalid[]` fields that carry
    their own `failure_reason`.
    """
    if not isinstance(results, list):
        return None
    reasons: list[str] = []
    for result in results:
        if not isinstance(result, Mapping) or result.get("passed") is True:
            continue
        invalid = result.get("invalid")
        field_reasons = [
            reason
            for item in (invalid if isinstance(invalid, list) else [])
            if isinstance(item, Mapping) and (reason := text(item, "failure_reason"))
        ]
        own = text(result, "failure_reason")
        for reason in [own, *field_reasons] if own else field_reasons:
            if reason not in reasons:
                reasons.append(reason)
    return "; ".join(reasons) or None


def whatsapp_sender(obj: Any) -> WhatsAppSender:
    configuration = getattr(obj, "configuration", None)
    properties = getattr(obj, "properties", None)
    return WhatsAppSender(
        sid=text(obj, "sid") or "",
        sender_id=text(obj, "sender_id") or "",
        status=text(obj, "status") or "",
        waba_id=text(configuration, "waba_id") if isinstance(configuration, Mapping) else None,
        quality_rating=(
            text(properties, "quality_rating") if isinstance(properties, Mapping) else None
        ),
        messaging_limit=(
            text(properties, "messaging_limit") if isinstance(properties, Mapping) else None
        ),
        offline_reasons=tuple(_offline_reasons(getattr(obj, "offline_reasons", None))),
    )


def _offline_reasons(reasons: Any) -> Iterable[str]:
    if not isinstance(reasons, list):
        return
    for reason in reasons:
        if isinstance(reason, Mapping):
            code, message = text(reason, "code"), text(reason, "message")
            if code and message:
                yield f"{code}: {message}"
            elif code or message:
                yield code or message or ""
        elif reason:
            yield str(reason)


def sender_profile(profile: SenderProfile) -> dict[str, object]:
    """The Senders API `profile` object (None fields are dropped by the SDK)."""
    body: dict[str, object] = {
        "name": profile.name,
        "about": profile.about,
        "address": profile.address,
        "description": profile.description,
        "logo_url": profile.logo_url,
    }
    if profile.emails:
        body["emails"] = [{"email": email} for email in profile.emails]
    if profile.websites:
        body["websites"] = [{"website": website} for website in profile.websites]
    return {key: value for key, value in body.items() if value is not None}


def status_webhook(status_callback_url: str) -> dict[str, object]:
    return {"status_callback_url": status_callback_url, "status_callback_method": "POST"}
