"""Bulk onboarding: stores onboarded through the API by 16 concurrent clients, Twilio 50 ms
away, against the same number of stores onboarded one after another.

Every store buys a distinct number of the emulator's pool (computed from the emulator's seed,
so no client has to search). The concurrent run also sends a second, identical request for
every tenth store right behind the first: the service must buy at most one number per store.
"""

from __future__ import annotations

import queue
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import create_engine, insert

from bench import emulator as bench_emulator
from bench import procs
from clienteling_setup.status.fragments import NUMBER_READY
from clienteling_setup.stores.models import Store
from twilio_emulator.countries import sms_number_type

LATENCY = 0.05
CLIENTS = 16
# Share of the stores per country (US and CA need no bundle; the others an approved one).
MIX = {"US": 0.40, "CA": 0.12, "GB": 0.08, "DE": 0.08, "NL": 0.08, "ES": 0.08, "IT": 0.08}
MIX["AU"] = 1 - sum(MIX.values())


@dataclass
class BulkResult:
    mode: str
    stores: int
    clients: int
    wall_s: float
    statuses: Counter[int] = field(default_factory=Counter)
    onboarded: int = 0
    purchases: int = 0
    duplicate_purchases: int = 0
    errors: list[str] = field(default_factory=list)


def _plan(count: int, run_index: int) -> list[tuple[str, str]]:
    """(country, number) for `count` stores; each run takes its own slice of the pool."""
    state = bench_emulator.state()
    shares = {cc: round(count * share) for cc, share in MIX.items()}
    shares["AU"] = count - sum(n for cc, n in shares.items() if cc != "AU")
    plan: list[tuple[str, str]] = []
    for cc, n in shares.items():
        pool = state.pool(cc, sms_number_type(cc))[run_index * n : (run_index + 1) * n]
        assert len(pool) == n, f"the emulator pool of {cc} is too small"
        plan += [(cc, number.phone_number) for number in pool]
    return plan


def prepare(
    srv: procs.Server, database_url: str, tenant: str, count: int, run_index: int
) -> list[tuple[str, dict[str, str]]]:
    """Enable the tenant through the API, insert its stores, find each country's bundle."""
    with srv.client(tenant) as client:
        client.post(
            "/clienteling/configuration", json={"ecom_link": f"https://{tenant}.example"}
        ).raise_for_status()
    plan = _plan(count, run_index)
    now = datetime.now(UTC)
    rows = [
        {
            "tenant_id": tenant,
            "id": f"{cc.lower()}-{i:04d}",
            "name": f"{tenant} {cc} {i}",
            "country_code": cc,
            "created_at": now,
            "updated_at": now,
        }
        for i, (cc, _number) in enumerate(plan)
    ]
    engine = create_engine(database_url)
    with engine.begin() as conn:
        conn.execute(insert(Store), rows)
    engine.dispose()
    bundles: dict[str, dict[str, str]] = {}
    with srv.client(tenant) as client:
        for row in rows:
            cc = str(row["country_code"])
            if cc in bundles or cc in ("US", "CA"):
                continue
            found = client.get(f"/clienteling/stores/{row['id']}/regulatory-bundles").json()
            approved = [
                b
                for b in found
                if b["status"] == "twilio-approved" and b["number_type"] == sms_number_type(cc)
            ]
            bundles[cc] = {
                "bundle_sid": approved[0]["sid"],
                "address_sid": approved[0]["address_sid"],
            }
    return [
        (str(row["id"]), {"phone_number": number, **bundles.get(str(row["country_code"]), {})})
        for row, (_cc, number) in zip(rows, plan, strict=True)
    ]


def run(
    srv: procs.Server,
    emu: procs.Emulator,
    tenant: str,
    requests: list[tuple[str, dict[str, str]]],
    *,
    clients: int,
    duplicates: bool,
) -> BulkResult:
    work: queue.Queue[tuple[str, dict[str, str]]] = queue.Queue()
    for i, item in enumerate(requests):
        work.put(item)
        if duplicates and i % 10 == 0:
            work.put(item)  # the same request again, right behind the first
    result = BulkResult("concurrent" if clients > 1 else "sequential", len(requests), clients, 0)
    lock = threading.Lock()

    def client_loop() -> None:
        with srv.client(tenant) as client:
            while True:
                try:
                    store_id, body = work.get_nowait()
                except queue.Empty:
                    return
                response = client.post(f"/clienteling/stores/{store_id}/onboard", json=body)
                with lock:
                    result.statuses[response.status_code] += 1
                    if response.status_code not in (200, 201, 409):
                        result.errors.append(f"{store_id}: {response.status_code} {response.text}")

    emu.set_latency(LATENCY)
    started = time.perf_counter()
    threads = [threading.Thread(target=client_loop) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    result.wall_s = time.perf_counter() - started
    emu.set_latency(0)
    _count(srv, emu, tenant, requests, result)
    return result


def _count(
    srv: procs.Server,
    emu: procs.Emulator,
    tenant: str,
    requests: list[tuple[str, dict[str, str]]],
    result: BulkResult,
) -> None:
    """Onboarded stores (status view) and numbers bought per store (the emulator's own log)."""
    with srv.client(tenant) as client:
        doc = client.get("/clienteling/onboarding-status").json()
    wanted = {store_id for store_id, _ in requests}
    result.onboarded = sum(
        1
        for s in doc["stores"]
        # A US store's number is ready before its A2P 10DLC campaign is verified.
        if s["id"] in wanted and s["channels"]["sms"]["status"] in NUMBER_READY
    )
    subaccount = doc["twilio"]["sid"]
    bought = [
        r
        for r in emu.requests(path="IncomingPhoneNumbers.json$")
        if r["method"] == "POST" and r["status"] == 201 and r["account_sid"] == subaccount
    ]
    per_store = Counter(str(r["params"].get("FriendlyName")) for r in bought)
    result.purchases = len(bought)
    result.duplicate_purchases = sum(n - 1 for n in per_store.values())
