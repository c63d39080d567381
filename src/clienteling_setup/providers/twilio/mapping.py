"""SDK instances -> the port's neutral dataclasses. Tolerant of missing fields, never raises."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

from clienteling_setup.providers.messaging import (
    Address,
    AvailableNumber,
    MessagingService,
    MonthlyPrice,
    OwnedNumber,
    Regulation,
    SenderProfile,
    SenderSettings,
    Subaccount,
    SupportingDocument,
    TrustProduct,
    VoiceApplication,
    WhatsAppSender,
)

T = TypeVar("T")


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


def texts(obj: Any, *names: str) -> dict[str, Any]:
    """`text` of each named attribute, "" where absent: the port's required string fields."""
    return {name: text(obj, name) or "" for name in names}


def optional_texts(obj: Any, *names: str) -> dict[str, Any]:
    """`text` of each named attribute, None where absent: the port's optional fields."""
    return {name: text(obj, name) for name in names}


def first(items: Iterable[Any], name: str, value: str, convert: Callable[[Any], T]) -> T | None:
    """`convert` of the first SDK instance whose attribute `name` is `value` (Twilio's list
    filters are prefix or case-insensitive matches); None if there is none."""
    return next((convert(item) for item in items if text(item, name) == value), None)


def subaccount(obj: Any) -> Subaccount:
    return Subaccount(**texts(obj, "sid", "friendly_name", "status", "auth_token"))


def messaging_service(obj: Any) -> MessagingService:
    return MessagingService(**texts(obj, "sid", "friendly_name"))


def voice_application(obj: Any) -> VoiceApplication:
    return VoiceApplication(
        **texts(obj, "sid", "friendly_name"), **optional_texts(obj, "voice_url")
    )


def available_number(obj: Any, iso_country: str) -> AvailableNumber:
    return AvailableNumber(
        **texts(obj, "phone_number"),
        **optional_texts(obj, "locality", "region", "postal_code"),
        iso_country=text(obj, "iso_country") or iso_country.upper(),
        sms=sms_capable(getattr(obj, "capabilities", None)),
    )


def sms_capable(capabilities: Any) -> bool:
    """Twilio spells the capability `SMS` on available numbers and `sms` on owned ones."""
    if not isinstance(capabilities, Mapping):
        return False
    return any(bool(value) for key, value in capabilities.items() if str(key).lower() == "sms")


#: The Pricing API's names of number types, in the port's terms.
_PRICED_TYPES = {
    "local": "local",
    "mobile": "mobile",
    "national": "national",
    "toll free": "toll-free",
}


def number_prices(obj: Any) -> dict[str, MonthlyPrice]:
    """A Pricing API country (`phone_number_prices`, `price_unit`) as the monthly price of each
    number type the port knows (the current price: the base price less any discount)."""
    unit = (text(obj, "price_unit") or "").upper()
    entries = getattr(obj, "phone_number_prices", None)
    prices: dict[str, MonthlyPrice] = {}
    if not unit or not isinstance(entries, list):
        return prices
    for entry in entries:
        if not isinstance(entry, Mapping):
            continue
        kind = _PRICED_TYPES.get(str(entry.get("number_type") or "").lower())
        amount = entry.get("current_price")
        if amount is None:
            amount = entry.get("base_price")
        try:
            value = Decimal(str(amount))
        except InvalidOperation:
            continue
        if kind is not None and value.is_finite() and value >= 0:
            prices[kind] = MonthlyPrice(f"{value:f}", unit)
    return prices


def owned_number(obj: Any) -> OwnedNumber:
    return OwnedNumber(
        **texts(obj, "sid", "phone_number", "friendly_name"),
        **optional_texts(obj, "voice_application_sid", "address_sid", "bundle_sid"),
        number_type=text(obj, "type"),
    )


def address(obj: Any) -> Address:
    return Address(
        **texts(obj, "sid", "iso_country"),
        **optional_texts(
            obj, "friendly_name", "street", "street_secondary", "city", "region", "postal_code"
        ),
    )


def regulation(obj: Any) -> Regulation:
    return Regulation(
        **texts(obj, "sid", "friendly_name", "iso_country", "number_type", "end_user_type")
    )


def supporting_document(obj: Any) -> SupportingDocument:
    return SupportingDocument(
        **texts(obj, "sid", "friendly_name", "status"),
        date_created=timestamp(getattr(obj, "date_created", None)),
        date_updated=timestamp(getattr(obj, "date_updated", None)),
    )


def trust_product(obj: Any) -> TrustProduct:
    """A trust product or customer profile; a rejected one's `errors` give its failure."""
    errors = getattr(obj, "errors", None)
    reasons = [
        str(e.get("message"))
        for e in (errors if isinstance(errors, list) else [])
        if isinstance(e, Mapping) and e.get("message")
    ]
    return TrustProduct(
        **texts(obj, "sid", "friendly_name", "status"),
        **optional_texts(obj, "policy_sid"),
        failure_reason="; ".join(reasons) or None,
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
        **texts(obj, "sid", "sender_id", "status"),
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


def sender_settings(settings: SenderSettings) -> dict[str, object]:
    """The Senders API `webhook` and `profile` objects of a create or an update."""
    return {
        "webhook": {
            "status_callback_url": settings["status_callback_url"],
            "status_callback_method": "POST",
        },
        "profile": sender_profile(settings["profile"]),
    }
