"""The four-lists' cost with Twilio 100 ms away: the first (uncached) call and cached calls."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from bench import procs

TENANT = "bench-lists"
LATENCY = 0.1
STORE = {
    "name": "Lists Potsdamer Platz",
    "country_code": "DE",
    "region": "BE",
    "locality": "Berlin",
    "postal_code": "10785",
    "phone": "+4930901820",
}
PATHS = {
    "available numbers": "/clienteling/stores/de-lists/available-phone-numbers",
    "addresses": "/clienteling/stores/de-lists/addresses",
    "regulatory bundles": "/clienteling/stores/de-lists/regulatory-bundles",
    "trust products": "/clienteling/trust-products",
}


@dataclass
class ListResult:
    name: str
    items: int
    first_ms: float
    first_twilio_calls: list[str]
    cached: dict[str, Any]


def prepare(srv: procs.Server) -> None:
    """A configured tenant (its Twilio subaccount in the emulator), one store, one sync pass."""
    with srv.client(TENANT) as client:
        client.post(
            "/clienteling/configuration", json={"ecom_link": "https://lists.example"}
        ).raise_for_status()
        client.put("/clienteling/stores/de-lists", json=STORE).raise_for_status()
    srv.cli("sync", "--tenant", TENANT)


def measure(srv: procs.Server, emu: procs.Emulator, *, duration: float) -> list[ListResult]:
    results = []
    emu.set_latency(LATENCY)
    try:
        with srv.client(TENANT) as client:
            for name, path in PATHS.items():
                emu.clear_requests()
                started = time.perf_counter()
                response = client.get(path)
                first_ms = (time.perf_counter() - started) * 1000
                response.raise_for_status()
                calls = emu.requests()
                cached = procs.load(
                    srv.base_url + path,
                    srv.headers(TENANT),
                    concurrency=1,
                    duration=duration,
                    min_requests=50,
                )
                assert set(cached["statuses"]) == {"200"}, cached
                calls_made = [f"{c['method']} {c['path']}" for c in calls]
                results.append(ListResult(name, len(response.json()), first_ms, calls_made, cached))
    finally:
        emu.set_latency(0)
    return results
