"""One error model for the whole API.

Services raise `AppError` subclasses; `install_error_handlers` renders them, framework errors
and provider errors as ``{"request_id": ..., "message": ...}`` with an ``X-Request-ID`` header.
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING, Any

from clienteling_setup.db.session import UNAVAILABLE as DATABASE_UNAVAILABLE
from clienteling_setup.providers import messaging as provider

if TYPE_CHECKING:
    from fastapi import FastAPI, Request
    from fastapi.responses import JSONResponse

# The web framework is imported where responses are made, not here: the errors are raised by
# repositories and services that the command line (a store import) loads without a server.

log = logging.getLogger("clienteling_setup.errors")


class AppError(Exception):
    """An answer for the API's caller: `message`, rendered with the class's `status_code`.

    Each subclass names its status where it is declared: ``class NotFound(AppError,
    status_code=404)``.
    """

    status_code = 400

    def __init_subclass__(cls, *, status_code: int | None = None, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if status_code is not None:
            cls.status_code = status_code

    def __init__(self, message: str, *, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.headers = headers or {}


class BadRequest(AppError, status_code=400): ...


class NumberNoLongerAvailable(BadRequest):
    """Twilio no longer sells the number asked for: the caller may pick another."""


class Unauthorized(AppError, status_code=401): ...


class Forbidden(AppError, status_code=403): ...


class NotFound(AppError, status_code=404): ...


class Conflict(AppError, status_code=409): ...


class UpstreamFailed(AppError, status_code=502): ...


class UpstreamUnavailable(AppError, status_code=503):
    """Sent with a Retry-After header."""

    def __init__(self, message: str, *, retry_after: int = 5) -> None:
        super().__init__(message, headers={"Retry-After": str(retry_after)})


class DatabaseUnavailable(UpstreamUnavailable):
    """The database could not be reached, or the connection to it broke, during the request."""

    MESSAGE = (
        "The service's database is unavailable (it could not be reached, or the connection to "
        "it was lost during this request). Every request is safe to repeat: send the same "
        "request again in a few seconds."
    )

    def __init__(self) -> None:
        super().__init__(self.MESSAGE, retry_after=5)


def from_provider(exc: provider.ProviderError, action: str) -> AppError:
    """Translate a Twilio failure met while doing `action` into the API's answer."""
    reason = f"Twilio error {exc.code}: {exc.message}" if exc.code else exc.message
    if isinstance(exc, provider.NumberUnavailable):
        return NumberNoLongerAvailable(
            f"{action}: the phone number is no longer available ({reason}). "
            "Pick another number from the available-phone-numbers list."
        )
    if isinstance(exc, provider.InputRejected):
        return BadRequest(f"{action}: Twilio rejected the request ({reason}).")
    if isinstance(exc, provider.ProviderUnavailable):
        return UpstreamUnavailable(
            f"{action}: Twilio could not be reached ({exc.message}). Retry the same request later.",
            retry_after=exc.retry_after,
        )
    return UpstreamFailed(f"{action}: Twilio failed ({reason}). Retry the same request later.")


def request_id_of(request: Request) -> str:
    rid = getattr(request.state, "request_id", None)
    return str(rid) if rid else "unknown"


def error_response(
    request: Request, status: int, message: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    from fastapi.responses import JSONResponse

    rid = request_id_of(request)
    return JSONResponse(
        {"request_id": rid, "message": message},
        status_code=status,
        headers={**(headers or {}), "X-Request-ID": rid},
    )


def _field_path(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or "body"


def describe_validation_errors(errors: list[dict[str, Any]]) -> str:
    unknown = [_field_path(tuple(e["loc"])) for e in errors if e.get("type") == "extra_forbidden"]
    if unknown:
        return (
            f"Unknown field(s): {', '.join(sorted(unknown))}. "
            "Remove them or check their spelling against the API reference."
        )
    messages = []
    for err in errors:
        loc = tuple(err.get("loc", ()))
        kind = err.get("type", "")
        if kind == "json_invalid":
            return "The request body is not valid JSON. Send a JSON object."
        field = _field_path(loc)
        if kind == "missing":
            messages.append(f"'{field}' is required.")
        elif kind in ("model_attributes_type", "dict_type") and field == "body":
            messages.append("The request body must be a JSON object.")
        else:
            msg = str(err.get("msg", "is invalid"))
            msg = msg.removeprefix("Value error, ")
            messages.append(f"'{field}': {msg}")
    return " ".join(messages) or "The request is invalid."


def allowed_methods(request: Request) -> list[str]:
    """Every method the API documents on this path. Starlette's own 405 names only the first
    route that matched the path, though each method of a path is a route of its own."""
    methods: set[str] = set()
    for template, item in request.app.openapi().get("paths", {}).items():
        pattern = re.sub(r"\\\{[^}]*\\\}", "[^/]+", re.escape(template))
        if re.fullmatch(pattern, request.url.path):
            methods |= {m.upper() for m in item}
    if "GET" in methods:
        methods.add("HEAD")
    return sorted(methods)


def install_error_handlers(app: FastAPI) -> None:
    from fastapi.exceptions import RequestValidationError
    from starlette.exceptions import HTTPException as StarletteHTTPException

    @app.exception_handler(AppError)
    async def _app_error(request: Request, exc: AppError) -> JSONResponse:
        return error_response(request, exc.status_code, exc.message, exc.headers)

    @app.exception_handler(provider.ProviderError)
    async def _provider_error(request: Request, exc: provider.ProviderError) -> JSONResponse:
        err = from_provider(exc, "Twilio request")
        return error_response(request, err.status_code, err.message, err.headers)

    async def _database_unavailable(request: Request, exc: Exception) -> JSONResponse:
        # The driver's text names hosts and ports: it goes to the log, not to the caller.
        cause = getattr(exc, "orig", None) or exc
        log.warning(
            "database unavailable: %s: %s",
            type(cause).__name__,
            str(cause).strip().splitlines()[0] if str(cause).strip() else "",
            extra={"request_id": request_id_of(request)},
        )
        err = DatabaseUnavailable()
        return error_response(request, err.status_code, err.message, err.headers)

    for kind in DATABASE_UNAVAILABLE:
        app.add_exception_handler(kind, _database_unavailable)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        return error_response(request, 400, describe_validation_errors(list(exc.errors())))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        messages = {
            404: f"No route matches {request.method} {request.url.path}. See /docs for the API.",
            405: f"Method {request.method} is not allowed on {request.url.path}.",
        }
        message = messages.get(exc.status_code) or str(exc.detail)
        headers = dict(exc.headers) if exc.headers else {}
        if exc.status_code == 405 and (allowed := allowed_methods(request)):
            headers["Allow"] = ", ".join(allowed)
        return error_response(request, exc.status_code, message, headers)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error", extra={"request_id": request_id_of(request)})
        return error_response(
            request,
            500,
            "An unexpected error occurred. Retry the request; if it persists, report the "
            "request_id.",
        )
