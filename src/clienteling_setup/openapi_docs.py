"""What the operations share: the error body and the error responses each one documents, and
the answer of an operation that creates or finds (or updates) what it is asked for."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from fastapi import Response
from pydantic import BaseModel, Field

T = TypeVar("T")
R = TypeVar("R")


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


def write_responses(status: int, description: str, model: type[BaseModel]) -> dict[int | str, Any]:
    """The responses of a write whose other success, `status`, answers `model` too (201 for a
    PUT that created, 200 for a POST that found its work done), then `ERRORS_WRITE`."""
    return {status: {"description": description, "model": model}, **ERRORS_WRITE}


def answer(
    response: Response, result: tuple[T, bool], read: Callable[[T], R], *, created: int = 201
) -> R:
    """`read` of a service's (row, created) result, answered `created` (201, or 202 when the
    rest happens later) if the request created it, else 200."""
    row, was_created = result
    response.status_code = created if was_created else 200
    return read(row)
