"""Plumbing shared by the gateway's parts: SDK clients per account, the error map, retries."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from opentelemetry import trace
from opentelemetry.trace import SpanKind
from twilio.rest import Client

from clienteling_setup.metrics import TWILIO_CALLS
from clienteling_setup.providers.messaging import (
    AccountCredentials,
    InputRejected,
    MonthlyPrice,
    NotFound,
    ProviderError,
    ProviderUnavailable,
    Regulation,
)

from . import mapping
from .errors import map_twilio_errors
from .http import GatewayHttpClient, idempotent_writes
from .retry import RetryPolicy

__all__ = ["CountryPrices", "GatewayBase"]

T = TypeVar("T")

_tracer = trace.get_tracer(__name__)

#: Without this, the SDK reads TWILIO_EDGE/TWILIO_REGION from os.environ and changes hosts.
_NO_ENVIRONMENT = {"TWILIO_CLIENT": "clienteling-setup"}


@dataclass(frozen=True)
class CountryPrices:
    """A country's number prices as last read, kept until `until` (the gateway's clock); with
    `error`, the read failed and is not tried again before then."""

    until: float
    prices: dict[str, MonthlyPrice]
    error: ProviderError | None = None


class GatewayBase:
    """Builds SDK clients (master, and one per tenant subaccount) on one `GatewayHttpClient`."""

    def __init__(
        self,
        master_account_sid: str,
        master_auth_token: str,
        *,
        base_url: str | None = None,
        timeout: float = 10.0,
        max_attempts: int = 4,
        backoff_base: float = 0.2,
        max_total_wait: float = 10.0,
        http_client: GatewayHttpClient | None = None,
        price_ttl: float = 900.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """`http_client` replaces the one built from `base_url`, `timeout` and the retry
        settings (tests use it to observe the wire or to control sleeping). Number prices are
        kept `price_ttl` seconds of `clock`."""
        self._master_sid = master_account_sid
        self._http = http_client or GatewayHttpClient(
            base_url=base_url,
            timeout=timeout,
            retry=RetryPolicy(
                max_attempts=max_attempts,
                backoff_base=backoff_base,
                max_total_wait=max_total_wait,
            ),
        )
        self._master = self._client(master_account_sid, master_auth_token)
        self._lock = threading.Lock()
        self._clients: dict[str, tuple[str, Any]] = {}
        self._regulations: dict[str, Regulation] = {}
        #: Held while every regulation is listed once (`compliance._regulation`).
        self._regulations_listing = threading.Lock()
        self._regulations_listed = False
        self._price_ttl = price_ttl
        self._clock = clock
        self._prices: dict[str, CountryPrices] = {}

    def __repr__(self) -> str:
        return f"{type(self).__name__}(master_account_sid={self._master_sid!r})"

    def close(self) -> None:
        """Close the pooled HTTP connections (the gateway must not be used afterwards)."""
        session = getattr(self._http, "session", None)
        if session is not None:
            session.close()

    @property
    def http_client(self) -> GatewayHttpClient:
        """The SDK HTTP client every call of this gateway goes through."""
        return self._http

    # -- plumbing -----------------------------------------------------------------------------
    def _client(self, account_sid: str, auth_token: str) -> Any:
        return Client(
            username=account_sid,
            password=auth_token,
            account_sid=account_sid,
            http_client=self._http,
            environment=_NO_ENVIRONMENT,
        )

    def _tenant(self, account: AccountCredentials) -> Any:
        """The SDK client acting as the subaccount itself (one per account, reused)."""
        with self._lock:
            cached = self._clients.get(account.account_sid)
            if cached is not None and cached[0] == account.auth_token:
                return cached[1]
            client = self._client(account.account_sid, account.auth_token)
            self._clients[account.account_sid] = (account.auth_token, client)
            return client

    def _account(self, account: AccountCredentials) -> Any:
        """The 2010 API's `Accounts/{sid}` of the tenant."""
        return self._tenant(account).api.v2010.accounts(account.account_sid)

    def _call(self, operation: str, fn: Callable[[], T]) -> T:
        """Every Twilio call: errors mapped to the port's, counted and timed for /metrics."""
        started = time.perf_counter()
        outcome = "error"
        # A client span per call when traces are on (a no-op otherwise).
        with _tracer.start_as_current_span(f"twilio {operation}", kind=SpanKind.CLIENT) as span:
            try:
                with map_twilio_errors(operation, retry_after=lambda: self._http.last_retry_after):
                    value = fn()
                outcome = "ok"
                return value
            except ProviderError as exc:
                outcome = _outcome(exc)
                raise
            finally:
                TWILIO_CALLS.labels(operation, outcome).observe(time.perf_counter() - started)
                span.set_attribute("twilio.outcome", outcome)

    def _create(
        self, operation: str, resource: Any, convert: Callable[[Any], T], *args: Any, **values: Any
    ) -> T:
        """`resource.create(...)`, converted. Sent once: a POST is never retried blindly."""
        return self._call(operation, lambda: convert(resource.create(*args, **values)))

    def _update(
        self, operation: str, resource: Any, convert: Callable[[Any], T], *args: Any, **values: Any
    ) -> T:
        """`resource.update(...)`, converted. It sets values, so it is safe to retry."""
        return self._idempotent_write(operation, lambda: convert(resource.update(*args, **values)))

    def _find(
        self, operation: str, resource: Any, convert: Callable[[Any], T], **match: str
    ) -> T | None:
        """The instance of the SDK list `resource` whose one field in `match` has the value
        given, converted; None if none. Twilio's list filter matches loosely (prefixes, case),
        so the list is filtered by `match` and then checked exactly."""
        ((name, value),) = match.items()
        found = self._call(operation, lambda: resource.list(**match))
        return mapping.first(found, name, value, convert)

    def _idempotent_write(self, operation: str, fn: Callable[[], T]) -> T:
        """A write that is safe to repeat (it sets values), so it may be retried like a GET."""
        with idempotent_writes():
            return self._call(operation, fn)


def _outcome(exc: ProviderError) -> str:
    """The `outcome` label of a failed call: what the caller can do about it."""
    if isinstance(exc, NotFound):
        return "not_found"
    if isinstance(exc, InputRejected):
        return "rejected"
    if isinstance(exc, ProviderUnavailable):
        return "unavailable"
    return "failure"
