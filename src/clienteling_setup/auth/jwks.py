"""The identity provider's signing keys (JWKS), cached, refreshed off the event loop.

Rules, so that an identity provider that stalls or is down never freezes the service:

- keys are kept for `lifetime` seconds; past that they are still served (the last good keys)
  while one refresh runs in a background thread;
- a token whose `kid` is not among the keys triggers a refresh, but at most one fetch starts per
  `refresh_interval` seconds, whatever the tokens say (a flood of made-up kids costs nothing);
- a fetch gives up after `timeout` seconds; requests that need its answer wait for it (without
  holding the event loop or a worker thread) at most that long, then answer 503 with
  `Retry-After` through `IdentityProviderUnavailable`.

The fetch runs in a thread of its own and is shared by every waiter through a
`concurrent.futures.Future`, so no asyncio object outlives one event loop (tests run several).
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

import httpx
import jwt

_logger = logging.getLogger(__name__)

#: The largest JWKS document read; identity providers publish a few keys (a few KB).
MAX_JWKS_BYTES = 512 * 1024


class IdentityProviderUnavailable(Exception):
    """The keys needed to check a token could not be fetched in time: answer 503."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class UnknownSigningKey(Exception):
    """The identity provider answered, and does not publish the token's key."""


@dataclass(frozen=True)
class KeySet:
    keys: dict[str, Any]  # kid -> verification key (cryptography public key)
    fetched_at: float


Fetch = Callable[[str, float], bytes]


def fetch_jwks(url: str, timeout: float) -> bytes:
    """GET the JWKS document, giving up `timeout` seconds after starting, even against a
    server that trickles bytes (httpx's timeouts apply to each read, not to the whole)."""
    deadline = time.monotonic() + timeout
    with (
        httpx.Client(timeout=timeout, follow_redirects=False) as client,
        client.stream("GET", url, headers={"Accept": "application/json"}) as response,
    ):
        response.raise_for_status()
        body = bytearray()
        for chunk in response.iter_bytes():
            body.extend(chunk)
            if len(body) > MAX_JWKS_BYTES:
                raise ValueError(f"the JWKS document is larger than {MAX_JWKS_BYTES} bytes")
            if time.monotonic() > deadline:
                raise TimeoutError(f"the JWKS document took longer than {timeout} s")
        return bytes(body)


def parse_jwks(document: bytes) -> dict[str, Any]:
    """kid -> key of every usable key in a JWKS document (keys without a kid are skipped)."""
    data = json.loads(document)
    key_set = jwt.PyJWKSet.from_dict(data)
    return {key.key_id: key.key for key in key_set.keys if key.key_id}


class JwksKeys:
    """The signing keys of one JWKS URL. Thread-safe; `key_for` is awaited on any loop."""

    def __init__(
        self,
        url: str,
        *,
        lifetime: float = 300.0,
        refresh_interval: float = 10.0,
        timeout: float = 3.0,
        fetch: Fetch = fetch_jwks,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._url = url
        self._lifetime = lifetime
        self._refresh_interval = refresh_interval
        self._timeout = timeout
        self._fetch = fetch
        self._clock = clock
        self._lock = threading.Lock()
        self._keys: KeySet | None = None
        self._last_error: str | None = None
        self._last_started = -math.inf
        self._in_flight: Future[KeySet] | None = None

    async def key_for(self, kid: str | None) -> Any:
        """The key a token names, fetching the keys when needed (see the module's rules)."""
        keys, refresh, last_error = self._plan(kid)
        if keys is not None:
            key = self._pick(keys, kid)
            if key is not None:
                return key  # stale keys too: a refresh, if due, runs meanwhile
        if refresh is None:
            if keys is not None and last_error is None:
                raise UnknownSigningKey(self._unknown(kid))
            raise IdentityProviderUnavailable(
                f"The identity provider's keys could not be fetched ({last_error}).",
                self._retry_after(),
            )
        try:
            fresh = await asyncio.wait_for(asyncio.wrap_future(refresh), self._timeout)
        except TimeoutError:
            raise IdentityProviderUnavailable(
                f"The identity provider did not answer within {self._timeout:g} s.",
                self._retry_after(),
            ) from None
        except Exception as exc:  # noqa: BLE001 - any fetch failure means unavailable
            raise IdentityProviderUnavailable(
                f"The identity provider's keys could not be fetched ({_describe(exc)}).",
                self._retry_after(),
            ) from None
        key = self._pick(fresh, kid)
        if key is None:
            raise UnknownSigningKey(self._unknown(kid))
        return key

    def _plan(self, kid: str | None) -> tuple[KeySet | None, Future[KeySet] | None, str | None]:
        """The keys held now, the refresh running (started here if due and allowed), and the
        last fetch's error."""
        with self._lock:
            now = self._clock()
            keys = self._keys
            stale = keys is None or now - keys.fetched_at >= self._lifetime
            unknown = keys is None or self._pick(keys, kid) is None
            if (stale or unknown) and self._in_flight is None:
                self._start_refresh(now)
            return keys, self._in_flight, self._last_error

    def _start_refresh(self, now: float) -> None:
        """Start one fetch, unless one started less than `refresh_interval` ago (lock held)."""
        if now - self._last_started < self._refresh_interval:
            return
        self._last_started = now
        future: Future[KeySet] = Future()
        future.set_running_or_notify_cancel()  # waiters giving up must not cancel it
        self._in_flight = future
        threading.Thread(target=self._refresh, args=(future,), daemon=True).start()

    def _refresh(self, future: Future[KeySet]) -> None:
        try:
            keys = KeySet(parse_jwks(self._fetch(self._url, self._timeout)), self._clock())
        except Exception as exc:  # noqa: BLE001 - reported to waiters, logged, keys kept
            _logger.warning("JWKS fetch from %s failed: %s", self._url, _describe(exc))
            with self._lock:
                self._last_error = _describe(exc)
                self._in_flight = None
            future.set_exception(exc)
            return
        with self._lock:
            self._keys = keys
            self._last_error = None
            self._in_flight = None
        future.set_result(keys)

    @staticmethod
    def _pick(keys: KeySet, kid: str | None) -> Any:
        if kid is None:
            # A token without a kid is accepted only when there is no choice to make.
            return next(iter(keys.keys.values())) if len(keys.keys) == 1 else None
        return keys.keys.get(kid)

    def _retry_after(self) -> int:
        with self._lock:
            wait = self._last_started + self._refresh_interval - self._clock()
        return max(1, math.ceil(wait))

    def _unknown(self, kid: str | None) -> str:
        if kid is None:
            return "the token names no signing key (kid) and the identity provider has several"
        return f"the identity provider does not publish the signing key {kid!r}"


def _describe(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text[:200]
