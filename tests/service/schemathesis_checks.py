"""Schemathesis hooks for the hostile-input suite (loaded with SCHEMATHESIS_HOOKS).

Adds the one check of ours the built-in ones do not make: every error body is exactly
``{"request_id", "message"}``, with a non-empty message and the request id of the
``X-Request-ID`` header.
"""

from __future__ import annotations

from typing import Any

import schemathesis


def _header(response: Any, name: str) -> str | None:
    value = response.headers.get(name.lower()) or response.headers.get(name)
    if isinstance(value, list):
        return str(value[0]) if value else None
    return None if value is None else str(value)


@schemathesis.check
def error_body_is_request_id_and_message(
    ctx: schemathesis.CheckContext, response: schemathesis.Response, case: schemathesis.Case
) -> bool | None:
    if response.status_code < 400 or case.path.startswith("/storage/"):
        return None
    try:
        body = response.json()
    except ValueError as exc:
        raise AssertionError(f"error {response.status_code} without a JSON body") from exc
    if not isinstance(body, dict) or set(body) != {"request_id", "message"}:
        raise AssertionError(f"error body is not exactly request_id and message: {body!r}")
    if not isinstance(body["message"], str) or not body["message"].strip():
        raise AssertionError(f"error body without a message: {body!r}")
    if body["request_id"] != _header(response, "X-Request-ID"):
        raise AssertionError("the error body's request_id differs from X-Request-ID")
    return True
