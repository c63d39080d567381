"""The SDK's HTTP hook: where Twilio requests go, how long they may take, and when to retry.

`GatewayHttpClient` is a `twilio.http.http_client.TwilioHttpClient`, so the official SDK builds and
signs every request exactly as in production. It adds three things, identical for Twilio and for
the emulator:

* with a `base_url`, `https://{sub}.twilio.com{path}` goes to `{base_url}/{sub}{path}` (the
  emulator serves exactly that); without one, URLs are left alone;
* every request has a timeout;
* idempotent requests (GET, or writes inside `idempotent_writes()`) are retried on 429, 5xx and
  connection errors according to a `RetryPolicy`. Anything else is sent exactly once.

The `Retry-After` of the last response seen by the current thread is kept for the error map.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import re
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import requests
from twilio.http.http_client import TwilioHttpClient

from .retry import RetryPolicy, is_retryable_status, parse_retry_after

__all__ = ["GatewayHttpClient", "idempotent_writes", "rewrite_url"]

_logger = logging.getLogger(__name__)

_TWILIO_URL = re.compile(r"^https://(?P<sub>[a-z0-9-]+)\.twilio\.com(?P<rest>[/?#].*)?$")
_IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_TRANSIENT_ERRORS: tuple[type[Exception], ...] = (
    requests.ConnectionError,
    requests.Timeout,
    requests.exceptions.ChunkedEncodingError,
)

_writes_idempotent: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "twilio_writes_idempotent", default=False
)


@contextlib.contextmanager
def idempotent_writes() -> Iterator[None]:
    """Declare the writes made inside the block safe to repeat (e.g. setting a field)."""
    token = _writes_idempotent.set(True)
    try:
        yield
    finally:
        _writes_idempotent.reset(token)


def rewrite_url(url: str, base_url: str | None) -> str:
    """`https://{sub}.twilio.com{path}` -> `{base_url}/{sub}{path}`; other URLs unchanged."""
    if not base_url:
        return url
    match = _TWILIO_URL.match(url)
    if match is None:
        return url
    return f"{base_url.rstrip('/')}/{match['sub']}{match['rest'] or ''}"


class GatewayHttpClient(TwilioHttpClient):  # type: ignore[misc]  # twilio is untyped
    def __init__(
        self,
        *,
        base_url: str | None = None,
        timeout: float = 10.0,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if timeout <= 0:
            raise ValueError("timeout must be positive")
        super().__init__(pool_connections=True, timeout=timeout)
        self.base_url = base_url.rstrip("/") if base_url else None
        self.retry = retry or RetryPolicy(max_attempts=1)
        self._sleep = sleep
        self._clock = clock
        self._local = threading.local()

    @property
    def last_retry_after(self) -> float | None:
        """`Retry-After` (seconds) of the last response this thread received, if it had one."""
        value: float | None = getattr(self._local, "retry_after", None)
        return value

    def request(
        self,
        method: str,
        url: str,
        params: dict[str, object] | None = None,
        data: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,
        allow_redirects: bool = False,
    ) -> Any:
        url = rewrite_url(url, self.base_url)
        if timeout is None or timeout <= 0:
            timeout = self.timeout
        method = method.upper()
        retryable = method in _IDEMPOTENT_METHODS or _writes_idempotent.get()
        self._local.retry_after = None

        started = self._clock()
        attempts = 0
        while True:
            attempts += 1
            try:
                response = super().request(
                    method,
                    url,
                    params=params,
                    data=data,
                    headers=headers,
                    auth=auth,
                    timeout=timeout,
                    allow_redirects=allow_redirects,
                )
            except _TRANSIENT_ERRORS as exc:
                delay = (
                    self.retry.next_delay(attempts, elapsed=self._clock() - started)
                    if retryable
                    else None
                )
                if delay is None:
                    raise
                _logger.warning(
                    "twilio %s %s failed (%s); retry %d in %.2fs",
                    method,
                    _path(url),
                    type(exc).__name__,
                    attempts,
                    delay,
                )
                self._sleep(delay)
                continue

            status = int(response.status_code)
            retry_after = parse_retry_after(_header(response, "Retry-After"))
            self._local.retry_after = retry_after
            if not retryable or not is_retryable_status(status):
                return response
            delay = self.retry.next_delay(
                attempts, elapsed=self._clock() - started, retry_after=retry_after
            )
            if delay is None:
                return response
            _logger.warning(
                "twilio %s %s answered %d; retry %d in %.2fs",
                method,
                _path(url),
                status,
                attempts,
                delay,
            )
            self._sleep(delay)


def _header(response: Any, name: str) -> str | None:
    headers = getattr(response, "headers", None)
    if headers is None:
        return None
    value = headers.get(name)
    return str(value) if value is not None else None


def _path(url: str) -> str:
    """The URL without query string, for logs (no credentials are ever part of a URL)."""
    return url.split("?", 1)[0]
