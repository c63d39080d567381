"""WhatsApp senders: their life on the emulator clock and the status callbacks they send.

Lifecycle (emulator-clock seconds, set on the state)::

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
``Timestamp`` (ISO 8601), each present only when it has a value. The request carries
``X-Twilio-Signature`` computed exactly as Twilio signs webhooks (see `twilio_signature`), with
the owning account's auth token, so the ``twilio`` SDK's
``RequestValidator(auth_token).validate(url, params, signature)`` accepts it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import queue
import threading
from collections.abc import Mapping
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import httpx

from .models import Callback, Sender

if TYPE_CHECKING:
    from .state import EmulatorState

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

Pending = tuple[str, str, dict[str, str], str]  # url, method, params, auth token


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


def _params(state: EmulatorState, sender: Sender, previous: str | None) -> dict[str, str]:
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
        "Timestamp": state.now().strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    return {k: str(v) for k, v in values.items() if v}


def _pending(state: EmulatorState, sender: Sender, previous: str | None) -> list[Pending]:
    url = sender.webhook.get("status_callback_url")
    account = state.accounts.get(sender.account_sid)
    if not url or account is None:
        return []
    method = (sender.webhook.get("status_callback_method") or "POST").upper()
    return [(url, method, _params(state, sender, previous), account.auth_token)]


def _change(state: EmulatorState, sender: Sender, status: str, at: float) -> list[Pending]:
    previous = sender.status
    sender.status = status
    sender.status_since = at
    if status == "ONLINE":
        sender.offline_reasons = None
        if sender.quality_rating is None:
            sender.quality_rating = "UNKNOWN"
        if sender.messaging_limit is None:
            sender.messaging_limit = "1K Customers/24hr"
    return _pending(state, sender, previous)


def _next(state: EmulatorState, sender: Sender) -> tuple[str, float] | None:
    """The sender's next automatic status and when it happens, if any."""
    if sender.status == "CREATING":
        at = sender.status_since + state.sender_creating_seconds
        if sender.configuration.get("waba_id") in state.bad_wabas:
            return "OFFLINE", at
        phone = sender.sender_id.split(":", 1)[1]
        owned = state.number_owner(phone)
        return (
            "ONLINE"
            if owned and owned.account_sid == sender.account_sid
            else "PENDING_VERIFICATION"
        ), at
    if sender.status == "VERIFYING":
        return "ONLINE", sender.status_since + state.sender_verifying_seconds
    if sender.status == "ONLINE:UPDATING":
        return "ONLINE", sender.status_since + state.sender_updating_seconds
    return None


def advance(state: EmulatorState, seconds: float) -> list[Callback]:
    if seconds < 0:
        raise ValueError("the clock only moves forward")
    pending: list[Pending] = []
    with state.lock:
        state.clock += seconds
        moved = True
        while moved:
            moved = False
            for sender in state.senders_by_sid.values():
                step = _next(state, sender)
                if step is None or step[1] > state.clock:
                    continue
                status, at = step
                if status == "OFFLINE":
                    reason = state.bad_wabas[sender.configuration["waba_id"]]
                    sender.offline_reasons = [
                        {
                            "code": OFFLINE_CODE,
                            "message": reason,
                            "more_info": f"https://www.twilio.com/docs/errors/{OFFLINE_CODE}",
                        }
                    ]
                pending += _change(state, sender, status, at)
                moved = True
    return deliver(state, pending)


def on_update(
    state: EmulatorState, sender: Sender, *, verification_code: Any, profile_changed: bool
) -> None:
    """Called by the update handler (under the state lock); callbacks go out in the background."""
    pending: list[Pending] = []
    if sender.status == "PENDING_VERIFICATION" and verification_code:
        pending = _change(state, sender, "VERIFYING", state.clock)
    elif sender.status == "ONLINE" and profile_changed:
        pending = _change(state, sender, "ONLINE:UPDATING", state.clock)
    if pending:
        # Queued now, under the state lock, so it goes out before any later change's callback.
        _outbox(state).submit(pending)


def set_status(
    state: EmulatorState, sender_sid: str, status: str, offline_reasons: list[dict[str, Any]] | None
) -> Sender:
    if status not in STATUSES:
        raise ValueError(f"sender status must be one of {STATUSES}")
    with state.lock:
        sender = state.senders_by_sid[sender_sid]
        if offline_reasons is not None:
            sender.offline_reasons = offline_reasons
        pending = _change(state, sender, status, state.clock)
    deliver(state, pending)
    return sender


def set_properties(
    state: EmulatorState, sender_sid: str, quality_rating: str | None, messaging_limit: str | None
) -> Sender:
    with state.lock:
        sender = state.senders_by_sid[sender_sid]
        if quality_rating is not None:
            sender.quality_rating = quality_rating
        if messaging_limit is not None:
            sender.messaging_limit = messaging_limit
        pending = _pending(state, sender, sender.status)
    deliver(state, pending)
    return sender


class Outbox:
    """One worker sends every callback of a state, in the order the changes happened."""

    def __init__(self, state: EmulatorState) -> None:
        self._state = state
        self._queue: queue.Queue[tuple[list[Pending], Future[list[Callback]]]] = queue.Queue()
        threading.Thread(target=self._run, name="emulator-callbacks", daemon=True).start()

    def submit(self, pending: list[Pending]) -> Future[list[Callback]]:
        future: Future[list[Callback]] = Future()
        self._queue.put((pending, future))
        return future

    def _run(self) -> None:
        while True:
            pending, future = self._queue.get()
            try:
                future.set_result(_send(self._state, pending))
            except Exception as exc:  # noqa: BLE001 - hand any failure to the waiting caller
                future.set_exception(exc)


_outboxes_lock = threading.Lock()


def _outbox(state: EmulatorState) -> Outbox:
    with _outboxes_lock:
        outbox: Outbox | None = getattr(state, "_outbox", None)
        if outbox is None:
            outbox = Outbox(state)
            state._outbox = outbox  # type: ignore[attr-defined]
        return outbox


def deliver(state: EmulatorState, pending: list[Pending]) -> list[Callback]:
    """Send status callbacks (in order, outside the state lock) and wait until they went."""
    if not pending:
        return []
    return _outbox(state).submit(pending).result()


def twilio_signature(auth_token: str, url: str, params: Mapping[str, str]) -> str:
    """The ``X-Twilio-Signature`` of a request, as Twilio computes it for its webhooks.

    Base64 of the HMAC-SHA1, keyed with the account's auth token, of the full URL followed by
    each parameter's name and value, in name order (for a GET, the parameters are in the URL and
    `params` is empty).
    """
    payload = url + "".join(name + params[name] for name in sorted(params))
    digest = hmac.new(auth_token.encode(), payload.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def _send(state: EmulatorState, pending: list[Pending]) -> list[Callback]:
    """Send status callbacks signed like Twilio's; record each."""
    done: list[Callback] = []
    for url, method, params, token in pending:
        if method == "GET":
            target = url + ("&" if "?" in url else "?") + urlencode(params)
            signature = twilio_signature(token, target, {})
        else:
            target = url
            signature = twilio_signature(token, url, params)
        callback = Callback(url, method, params, signature, None)
        if state.drop_callbacks:
            callback.error = "dropped: state.drop_callbacks is set"
            with state.lock:
                state.callbacks.append(callback)
            done.append(callback)
            continue
        try:
            response = httpx.request(
                method,
                target,
                data=None if method == "GET" else params,
                headers={"X-Twilio-Signature": signature, "User-Agent": "TwilioProxy/1.1"},
                timeout=state.callback_timeout,
            )
            callback.status_code = response.status_code
        except httpx.HTTPError as exc:
            callback.error = f"{type(exc).__name__}: {exc}"
        with state.lock:
            state.callbacks.append(callback)
        done.append(callback)
    return done
