"""Fault injection: rules that make Twilio slow or failing for matching requests.

A rule matches a request by HTTP method (or any) and a regular expression searched in the
emulator path, e.g. ``/api/2010-04-01/Accounts/AC.../IncomingPhoneNumbers.json``. Kinds:

``latency``      wait `delay` seconds, then answer normally;
``error``        answer `status` (429, 500, 503, ...) with Twilio's error body and, when given,
                 a ``Retry-After`` header; nothing is applied;
``drop``         close the connection without answering; nothing is applied;
``timeout``      hold the request for `delay` seconds (default 30, longer than a client's timeout)
                 then close the connection; nothing is applied;
``after_apply``  perform the request (the change happens), then answer `status` (default 500) or,
                 with ``status=0``, close the connection; an optional `delay` holds the answer
                 first (the ambiguous case a client must resolve by looking the change up).

`times` limits how many requests a rule hits (None: unlimited); `rate` makes it hit only that
fraction of matching requests (deterministic given the emulator seed). Rules are checked in the
order they were added; the first that hits wins.
"""

from __future__ import annotations

import random
import re
import threading
from dataclasses import dataclass, field
from typing import Any, Literal, TypedDict, Unpack

FaultKind = Literal["latency", "error", "drop", "timeout", "after_apply"]
KINDS = ("latency", "error", "drop", "timeout", "after_apply")


class FaultRule(TypedDict, total=False):
    """A rule as `EmulatorState.add_fault` takes it (and the admin API's ``POST /_emulator/faults``
    body); what is left out takes `Fault`'s default."""

    method: str | None
    path: str
    kind: FaultKind
    status: int | None
    code: int | None
    retry_after: float | None
    times: int | None
    rate: float | None
    delay: float | None


FIELDS = tuple(FaultRule.__annotations__)


@dataclass
class Fault:
    id: int
    kind: FaultKind = "error"
    method: str | None = None  # None (or "*"): any method
    path: str = ""  # searched in the emulator path; "" matches every request
    status: int | None = None
    code: int | None = None
    retry_after: float | None = None
    times: int | None = 1
    rate: float | None = None
    delay: float | None = None
    message: str | None = None
    hits: int = 0
    active: bool = True
    _regex: re.Pattern[str] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; one of {', '.join(KINDS)}")
        self._regex = re.compile(self.path)
        if self.method is not None:
            self.method = self.method.upper()
        if self.status is None:
            self.status = (
                503 if self.kind == "error" else 500 if self.kind == "after_apply" else None
            )
        if self.rate is not None and not 0.0 <= self.rate <= 1.0:
            raise ValueError("rate must be between 0 and 1")

    def matches(self, method: str, path: str) -> bool:
        if not self.active or (self.times is not None and self.hits >= self.times):
            return False
        if self.method is not None and self.method not in ("*", method.upper()):
            return False
        return self._regex.search(path) is not None

    @property
    def remaining(self) -> int | None:
        return None if self.times is None else max(0, self.times - self.hits)

    def cancel(self) -> None:
        self.active = False

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "method": self.method,
            "path": self.path,
            "status": self.status,
            "code": self.code,
            "retry_after": self.retry_after,
            "times": self.times,
            "rate": self.rate,
            "delay": self.delay,
            "hits": self.hits,
            "active": self.active,
        }


class FaultRegistry:
    def __init__(self, seed: int) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self._next_id = 1
        self._seed = seed
        self._rng = random.Random(f"faults:{seed}")

    def add(self, **rule: Unpack[FaultRule]) -> Fault:
        with self._lock:
            fault = Fault(self._next_id, **rule)
            self._next_id += 1
            self._faults.append(fault)
            return fault

    def clear(self) -> None:
        with self._lock:
            for fault in self._faults:
                fault.active = False
            self._faults.clear()
            self._rng = random.Random(f"faults:{self._seed}")

    def list(self) -> list[Fault]:
        with self._lock:
            return list(self._faults)

    def remove(self, fault_id: int) -> bool:
        with self._lock:
            for fault in self._faults:
                if fault.id == fault_id:
                    fault.active = False
                    self._faults.remove(fault)
                    return True
            return False

    def take(self, method: str, path: str) -> Fault | None:
        """The first rule that hits this request (its hit is counted), if any."""
        with self._lock:
            for fault in self._faults:
                if not fault.matches(method, path):
                    continue
                if fault.rate is not None and self._rng.random() >= fault.rate:
                    continue
                fault.hits += 1
                return fault
            return None
