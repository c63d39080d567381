"""Shared OpenAPI pieces: the error body and the error responses each operation documents."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class ErrorBody(BaseModel):
    request_id: str = Field(examples=["ckdk5bwy00009ztlo16062bce"])
    message: str = Field(examples=["Something is wrong with the request."])


def _err(description: str) -> dict[str, Any]:
    return {"model": ErrorBody, "description": description}


ERRORS_READ: dict[int | str, dict[str, Any]] = {
    400: _err("Bad request: the message names the field and the fix."),
    401: _err("The Authorization header is missing."),
    403: _err("The token is not valid or does not grant the tenant."),
    404: _err("Not found."),
    500: _err("Unexpected error."),
}
ERRORS_WRITE: dict[int | str, dict[str, Any]] = {
    **ERRORS_READ,
    409: _err("Conflict with the current state."),
    413: _err("The request body is too large."),
    502: _err("Twilio answered with an error the caller cannot fix."),
    503: _err("Twilio could not be reached; retry after Retry-After seconds."),
}
