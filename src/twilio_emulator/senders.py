"""WhatsApp senders: their life on the emulator clock and the status callbacks they send.

Lifecycle (emulator-clock seconds, set on the world)::

    CREATING --sender_creating_seconds--> ONLINE                 number owned by the account
                                      `-> PENDING_VERIFICATION   number not a Twilio number of
                                      |                          the account (needs an OTP)
                                      `-> OFFLINE (+offline_reasons) WABA marked bad
    PENDING_VERIFICATION --update with configuration.verification_code--> VERIFYING
    VERIFYING --sender_verifying_seconds--> ONLINE
    ONLINE --update with a profile--> ONLINE:UPDATING --sender_updating_seconds--> ONLINE

Going ONLINE the first time sets ``properties`` to quality_rating ``UNKNOWN`` and messaging_limit
``1K Customers/24hr``; tests change them with `EmulatorState.set_sender_properties`.

Status callbacks. Twilio does not publish the body of the Senders API status callback, so the
emulator sends what Twilio's other status callbacks send: a form-encoded request (method
``webhook.status_callback_method``, default POST; GET puts the fields in the query string) to
``webhook.status_callback_url`` on every change of status or properties, with the fields
``AccountSid``, ``SenderSid``, ``SenderId`` (``whatsapp:+E164``), ``Status``, ``PreviousStatus``,
``WabaId``, ``QualityRating``, ``MessagingLimit``, ``OfflineReasons`` (a JSON array) and
``Timestamp`` (ISO 8601), each present only when it has a value, signed with the owning
account's auth token (see `callbacks.py`).

The functions here change senders (under the world's lock) and return the status callbacks that
the change sends; the caller delivers them (`EmulatorState.deliver`), outside the lock.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from .models import PendingCallback, Sender

if TYPE_CHECKING:
    from .world import World

STATUSES = (
    "CREATING",
    "ONLINE",
    "OFFLINE",
    "PENDING_VERIFICATION",
    "VERIFYING",
    "ONLINE:UPDATING",
    "TWILIO_REVIEW",
    "DRAFT",
    "STUBBED",
)
_CONFIG_KEYS = (
    "waba_id",
    "verification_method",
    "verification_code",
    "voice_application_sid",
    "account_type",
)
_WEBHOOK_KEYS = (
    "callback_url",
    "callback_method",
    "fallback_url",
    "fallback_method",
    "status_callback_url",
    "status_callback_method",
)
_PROFILE_KEYS = (
    "name",
    "about",
    "address",
    "description",
    "logo_url",
    "banner_url",
    "privacy_url",
    "terms_of_service_url",
    "accent_color",
    "vertical",
)
OFFLINE_CODE = "63112"


def configuration(raw: dict[str, Any]) -> dict[str, Any]:
    config = {k: raw.get(k) for k in _CONFIG_KEYS}
    config["verification_method"] = config["verification_method"] or "sms"
    config["verification_code"] = None  # never echoed back
    return config


def webhook(raw: dict[str, Any]) -> dict[str, Any]:
    return {k: raw.get(k) for k in _WEBHOOK_KEYS}


def _labelled(value: Any, key: str) -> list[dict[str, str]] | None:
    if value is None:
        return None
    items = value if isinstance(value, list) else [value]
    out = []
    for item in items:
        if isinstance(item, dict):
            out.append(
                {key: str(item.get(key, "")), "label": str(item.get("label") or key.title())}
            )
        else:
            out.append({key: str(item), "label": key.title()})
    return out


def profile(raw: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = {k: raw.get(k) for k in _PROFILE_KEYS}
    result["websites"] = _labelled(raw.get("websites"), "website")
    result["emails"] = _labelled(raw.get("emails"), "email")
    result["phone_numbers"] = _labelled(raw.get("phone_numbers"), "phone_number")
    return result


def _params(world: World, sender: Sender, previous: str | None) -> dict[str, str]:
    values = {
        "AccountSid": sender.account_sid,
        "SenderSid": sender.sid,
        "SenderId": sender.sender_id,
        "Status": sender.status,
        "PreviousStatus": previous,
        "WabaId": sender.configuration.get("waba_id"),
        "QualityRating": sender.quality_rating,
        "MessagingLimit": sender.messaging_limit,
        "OfflineReasons": json.dumps(sender.offline_reasons) if sender.offline_reasons else None,
        "Timestamp": world.now().strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    return {k: str(v) for k, v in values.items() if v}


def _pending(world: World, sender: Sender, previous: str | None) -> list[PendingCallback]:
    url = sender.webhook.get("status_callback_url")
    account = world.accounts.get(sender.account_sid)
    if not url or account is None:
        return []
    method = (sender.webhook.get("status_callback_method") or "POST").upper()
    return [PendingCallback(url, method, _params(world, sender, previous), account.auth_token)]


def _change(world: World, sender: Sender, status: str, at: float) -> list[PendingCallback]:
    previous = sender.status
    sender.status = status
    sender.status_since = at
    if status == "ONLINE":
        sender.offline_reasons = None
        if sender.quality_rating is None:
            sender.quality_rating = "UNKNOWN"
        if sender.messaging_limit is None:
            sender.messaging_limit = "1K Customers/24hr"
    return _pending(world, sender, previous)


def _next(world: World, sender: Sender) -> tuple[str, float] | None:
    """The sender's next automatic status and when it happens, if any."""
    if sender.status == "CREATING":
        at = sender.status_since + world.sender_creating_seconds
        if sender.configuration.get("waba_id") in world.bad_wabas:
            return "OFFLINE", at
        phone = sender.sender_id.split(":", 1)[1]
        owned = world.number_owner(phone)
        return (
            "ONLINE"
            if owned and owned.account_sid == sender.account_sid
            else "PENDING_VERIFICATION"
        ), at
    if sender.status == "VERIFYING":
        return "ONLINE", sender.status_since + world.sender_verifying_seconds
    if sender.status == "ONLINE:UPDATING":
        return "ONLINE", sender.status_since + world.sender_updating_seconds
    return None


def advance(world: World, seconds: float) -> list[PendingCallback]:
    """Move the clock; senders whose time has come change status. Returns their callbacks."""
    if seconds < 0:
        raise ValueError("the clock only moves forward")
    pending: list[PendingCallback] = []
    with world.lock:
        world.clock += seconds
        moved = True
        while moved:
            moved = False
            for sender in world.senders_by_sid.values():
                step = _next(world, sender)
                if step is None or step[1] > world.clock:
                    continue
                status, at = step
                if status == "OFFLINE":
                    reason = world.bad_wabas[sender.configuration["waba_id"]]
                    sender.offline_reasons = [
                        {
                            "code": OFFLINE_CODE,
                            "message": reason,
                            "more_info": f"https://www.twilio.com/docs/errors/{OFFLINE_CODE}",
                        }
                    ]
                pending += _change(world, sender, status, at)
                moved = True
    return pending


def on_update(
    world: World, sender: Sender, *, verification_code: Any, profile_changed: bool
) -> list[PendingCallback]:
    """After an update over the API: an OTP starts verification, a new profile an update."""
    if sender.status == "PENDING_VERIFICATION" and verification_code:
        return _change(world, sender, "VERIFYING", world.clock)
    if sender.status == "ONLINE" and profile_changed:
        return _change(world, sender, "ONLINE:UPDATING", world.clock)
    return []


def set_status(
    world: World, sender: Sender, status: str, offline_reasons: list[dict[str, Any]] | None
) -> list[PendingCallback]:
    if status not in STATUSES:
        raise ValueError(f"sender status must be one of {STATUSES}")
    if offline_reasons is not None:
        sender.offline_reasons = offline_reasons
    return _change(world, sender, status, world.clock)


def set_properties(
    world: World, sender: Sender, quality_rating: str | None, messaging_limit: str | None
) -> list[PendingCallback]:
    if quality_rating is not None:
        sender.quality_rating = quality_rating
    if messaging_limit is not None:
        sender.messaging_limit = messaging_limit
    return _pending(world, sender, sender.status)
