"""Status read at 100, 2,000 and 10,000 stores against the same-size baseline document."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bench import procs

SIZES = (100, 2_000, 10_000)


def tenant_for(size: int) -> str:
    return f"bench-{size}"


@dataclass
class StatusResult:
    backend: str
    stores: int
    bytes: int
    status: dict[str, Any]
    baseline: dict[str, Any]
    twilio_calls: int

    @property
    def ratio(self) -> float:
        return float(self.status["p50_ms"]) / float(self.baseline["p50_ms"])


def measure(
    backend: str,
    srv: procs.Server,
    emu: procs.Emulator,
    size: int,
    *,
    duration: float,
    concurrency: int,
) -> StatusResult:
    tenant = tenant_for(size)
    headers = srv.headers(tenant)
    url = f"{srv.base_url}/clienteling/onboarding-status"
    with srv.client(tenant) as client:
        first = client.get("/clienteling/onboarding-status")
        first.raise_for_status()
        body = first.content
        doc = first.json()
    assert len(doc["stores"]) == size, (len(doc["stores"]), size)
    baseline_url = f"{srv.base_url}/clienteling/_bench/baseline?bytes={len(body)}"
    before = len(emu.requests())
    kwargs: dict[str, Any] = {
        "concurrency": concurrency,
        "duration": duration,
        "min_requests": 20,
    }
    status = procs.load(url, headers, **kwargs)
    twilio_calls = len(emu.requests()) - before
    baseline = procs.load(baseline_url, headers, **kwargs)
    for result in (status, baseline):
        assert set(result["statuses"]) == {"200"}, result["statuses"]
    return StatusResult(backend, size, len(body), status, baseline, twilio_calls)
