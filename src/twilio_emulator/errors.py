"""Twilio's error answers as the emulator gives them.

Every error body is Twilio's: ``{"code", "message", "more_info", "status"}``. Handlers raise
`TwilioError`; the application renders it once.
"""

from __future__ import annotations

from typing import Any

MORE_INFO = "https://www.twilio.com/docs/errors/{code}"


class TwilioError(Exception):
    """An error answer: HTTP `status` with Twilio error `code` and `message`."""

    def __init__(
        self, status: int, code: int, message: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        return error_body(self.status, self.code, self.message)


def error_body(status: int, code: int, message: str) -> dict[str, Any]:
    return {
        "code": code,
        "message": message,
        "more_info": MORE_INFO.format(code=code),
        "status": status,
    }


def authenticate() -> TwilioError:
    return TwilioError(401, 20003, "Authenticate")


def not_found(path: str) -> TwilioError:
    return TwilioError(404, 20404, f"The requested resource {path} was not found")


def invalid_param(message: str) -> TwilioError:
    return TwilioError(400, 20001, message)


def missing_param(name: str) -> TwilioError:
    return TwilioError(400, 20001, f"Missing required parameter {name}.")


DEFAULT_CODES = {429: 20429, 500: 20500, 502: 20500, 503: 20503, 504: 20504}
DEFAULT_MESSAGES = {
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}
