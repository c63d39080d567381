"""When and how long to wait before retrying an idempotent Twilio request.

Pure policy, no I/O: exponential backoff with jitter, `Retry-After` honoured, bounded both by a
number of attempts and by a total wait. `http.GatewayHttpClient` applies it to GET requests (and
to writes the gateway declares idempotent); purchases are never retried.
"""

from __future__ import annotations

import email.utils
import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime


def is_retryable_status(status: int) -> bool:
    """429 (rate limited) and every 5xx are worth another attempt for an idempotent request."""
    return status == 429 or 500 <= status <= 599


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a `Retry-After` header (delta-seconds or HTTP-date); None if absent
    or unreadable. A date in the past means zero."""
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - (now or datetime.now(UTC))).total_seconds()
    if math.isnan(seconds) or math.isinf(seconds):
        return None
    return max(0.0, seconds)


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with jitter, bounded by `max_attempts` and `max_total_wait`.

    The n-th retry waits `backoff_base * 2**(n-1)` seconds (capped at `max_backoff`), jittered
    into `[delay/2, delay]`; a `Retry-After` from Twilio replaces the computed delay. No retry
    starts if it would end later than `max_total_wait` after the first attempt began.
    """

    max_attempts: int = 4
    backoff_base: float = 0.2
    max_backoff: float = 5.0
    max_total_wait: float = 10.0
    rand: Callable[[], float] = field(default=random.random, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if self.backoff_base < 0 or self.max_backoff < 0 or self.max_total_wait < 0:
            raise ValueError("backoff and total wait must not be negative")

    def backoff(self, retry_number: int) -> float:
        """The un-jittered wait before retry number `retry_number` (1 = the first retry)."""
        exponent = max(0, retry_number - 1)
        if exponent > 60:  # 2**60 * anything positive is already far above any cap
            return self.max_backoff
        return min(self.max_backoff, self.backoff_base * (2.0**exponent))

    def jittered_backoff(self, retry_number: int) -> float:
        delay = self.backoff(retry_number)
        return delay * (0.5 + 0.5 * self.rand())

    def next_delay(
        self, attempts_made: int, *, elapsed: float, retry_after: float | None = None
    ) -> float | None:
        """How long to sleep before the next attempt, or None to give up.

        `attempts_made` counts the attempts so far (>= 1); `elapsed` is the time since the first
        attempt started; `retry_after` is what Twilio asked for, if anything.
        """
        if attempts_made >= self.max_attempts:
            return None
        if retry_after is not None:
            delay = max(0.0, retry_after)
        else:
            delay = self.jittered_backoff(attempts_made)
        if elapsed + delay > self.max_total_wait:
            return None
        return delay

    def schedule(self) -> list[float]:
        """The un-jittered waits of a request that fails every time (for documentation/tests)."""
        waits: list[float] = []
        total = 0.0
        for attempt in range(1, self.max_attempts):
            delay = self.backoff(attempt)
            if total + delay > self.max_total_wait:
                break
            waits.append(delay)
            total += delay
        return waits


def retry_after_seconds(value: float | None, *, default: int = 5) -> int:
    """A whole number of seconds (at least 1) for `ProviderUnavailable.retry_after`."""
    if value is None:
        return default
    return max(1, math.ceil(value))
