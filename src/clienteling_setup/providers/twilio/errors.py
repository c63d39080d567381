"""The one place where `twilio` and `requests` exceptions become the port's `ProviderError`s.

Like httpx's `map_httpcore_exceptions`: every gateway call runs inside `map_twilio_errors()`, so
no SDK or transport exception ever leaves the adapter. Twilio's code, HTTP status and message are
kept; credentials never appear in a message.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator

import requests
from twilio.base.exceptions import TwilioException, TwilioRestException, TwilioServiceException

from clienteling_setup.providers.messaging import (
    InputRejected,
    NotFound,
    NumberUnavailable,
    ProviderError,
    ProviderFailure,
    ProviderUnavailable,
    RegulatoryRejected,
)

from .retry import parse_retry_after, retry_after_seconds

__all__ = ["REGULATORY_CODES", "map_twilio_errors", "provider_error"]

NUMBER_UNAVAILABLE = 21422
NOT_FOUND = 20404
RATE_LIMITED = 20429
#: Address, bundle and document problems: the caller's compliance setup is not acceptable.
REGULATORY_CODES = frozenset({21613, 21615, 21631, 21649, 22205, 22217, 18012, 18039})


def provider_error(
    *, status: int | None, code: int | None, message: str, retry_after: float | None = None
) -> ProviderError:
    """The most specific `ProviderError` for an error answer from Twilio."""
    if code is not None and code == status:
        code = None  # the SDK repeats the HTTP status when Twilio gave no code
    if code == RATE_LIMITED or status in (429, 503):
        # Rate limited, or Twilio says it is unavailable: the caller should come back later.
        return ProviderUnavailable(
            message, code=code, status=status, retry_after=retry_after_seconds(retry_after)
        )
    cls: type[ProviderError]
    if code == NUMBER_UNAVAILABLE:
        cls = NumberUnavailable
    elif code in REGULATORY_CODES:
        cls = RegulatoryRejected
    elif code == NOT_FOUND or status == 404:
        cls = NotFound
    elif status is not None and 400 <= status < 500 and status not in (401, 403):
        cls = InputRejected
    else:
        # 5xx, or our own credentials refused (401/403): nothing the caller can fix.
        cls = ProviderFailure
    return cls(message, code=code, status=status)


@contextlib.contextmanager
def map_twilio_errors(
    operation: str, *, retry_after: Callable[[], float | None] = lambda: None
) -> Iterator[None]:
    """Translate SDK/transport exceptions raised in the block; `operation` names the call."""
    try:
        yield
    except ProviderError:
        raise
    except TwilioRestException as exc:
        raise provider_error(
            status=_int(exc.status),
            code=_int(exc.code),
            message=_twilio_message(str(exc.msg or ""), operation),
            retry_after=retry_after(),
        ) from exc
    except TwilioServiceException as exc:
        message = str(exc.detail or exc.title or "")
        raise provider_error(
            status=_int(exc.status),
            code=_int(exc.code),
            message=message or f"Twilio refused {operation}",
            retry_after=retry_after(),
        ) from exc
    except requests.Timeout as exc:
        raise ProviderUnavailable(f"Twilio did not answer in time ({operation})") from exc
    except requests.ConnectionError as exc:
        raise ProviderUnavailable(f"could not reach Twilio ({operation})") from exc
    except requests.RequestException as exc:
        raise ProviderUnavailable(
            f"the connection to Twilio failed ({operation}): {type(exc).__name__}"
        ) from exc
    except json.JSONDecodeError as exc:
        raise ProviderFailure(f"Twilio sent an unreadable answer ({operation})") from exc
    except TwilioException as exc:
        answered = _page_error(exc, operation, retry_after)
        if answered is not None:
            raise answered from exc
        raise ProviderFailure(f"Twilio SDK error ({operation}): {type(exc).__name__}") from exc


def _page_error(
    exc: TwilioException, operation: str, retry_after: Callable[[], float | None]
) -> ProviderError | None:
    """List pages fail differently: `TwilioException("Unable to fetch page", response)`, with
    Twilio's answer (status, error body, headers) as the second argument."""
    response = exc.args[1] if len(exc.args) > 1 else None
    status = _int(getattr(response, "status_code", None))
    if status is None:
        return None
    code: int | None = None
    message = ""
    try:
        body = json.loads(str(getattr(response, "text", "") or ""))
    except ValueError:
        body = None
    if isinstance(body, dict):
        code = _int(body.get("code"))
        message = str(body.get("message") or body.get("detail") or body.get("title") or "")
    headers = getattr(response, "headers", None)
    header = headers.get("Retry-After") if headers is not None else None
    wait = parse_retry_after(str(header)) if header is not None else retry_after()
    return provider_error(
        status=status,
        code=code,
        message=message or f"Twilio answered {status} ({operation})",
        retry_after=wait,
    )


def _twilio_message(sdk_message: str, operation: str) -> str:
    """Twilio's own message: the SDK prefixes it with 'Unable to <verb> record: '."""
    if sdk_message.startswith("Unable to ") and ": " in sdk_message:
        return sdk_message.split(": ", 1)[1]
    return sdk_message or f"Twilio refused {operation}"


def _int(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None
