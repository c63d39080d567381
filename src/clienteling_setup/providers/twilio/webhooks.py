"""Twilio's side of webhooks: signature checks and TwiML, built with the SDK's own classes."""

from __future__ import annotations

from collections.abc import Mapping

from twilio.request_validator import RequestValidator
from twilio.twiml.voice_response import VoiceResponse


def signature_is_valid(
    auth_token: str, url: str, params: Mapping[str, str], signature: str | None
) -> bool:
    """Twilio signs the full URL it called plus the sorted POST parameters with HMAC-SHA1."""
    if not signature:
        return False
    return bool(RequestValidator(auth_token).validate(url, dict(params), signature))


def compute_signature(auth_token: str, url: str, params: Mapping[str, str]) -> str:
    return str(RequestValidator(auth_token).compute_signature(url, dict(params)))


def forward_call_twiml(store_phone: str | None, store_name: str) -> str:
    response = VoiceResponse()
    if store_phone:
        response.dial(store_phone)
    else:
        response.say(
            f"Thank you for calling {store_name}. This store cannot take calls at the moment. "
            "Please send us a text message instead."
        )
    return str(response)
