"""Bulk onboarding jobs: `python -m bench.jobs [--quick] [--stores N] [--servers 1 2]`.

One job onboards every store of a tenant (2,000 by default, 200 with --quick) across seven
countries, with Twilio (the emulator, a process of its own) 50 ms away, on a fresh PostgreSQL
database, once with one server process and once with two (each run its own database and
emulator, so each buys from a full pool). It prints, per run: the wall time of the job, Twilio
calls per store (every request the tenant's subaccount made while the job ran, over the
stores), the mean latency of a store (first claim to finish) among the first and the last tenth
to finish, duplicate purchases (numbers bought per store beyond one; must be 0), and the floor:
stores x calls per store x latency / concurrency, with the wall time's ratio to it.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections import Counter
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, insert

from bench import procs
from clienteling_setup.crypto import SecretBox
from clienteling_setup.db import migrate
from clienteling_setup.stores.models import Store

LATENCY = 0.05
WORKERS = 8  # per server process; the tenant's concurrency is WORKERS x processes
TENANT = "bulk"
# Share of the stores per country (US and CA need no bundle; the others one approved bundle).
MIX = {"US": 0.35, "CA": 0.15, "GB": 0.10, "DE": 0.10, "NL": 0.10, "ES": 0.10}
MIX["IT"] = 1 - sum(MIX.values())


@dataclass
class JobRun:
    servers: int
    stores: int
    concurrency: int
    wall_s: float
    calls: int
    onboarded: int
    failed: int
    first_tenth_s: float
    last_tenth_s: float
    duplicates: int

    @property
    def calls_per_store(self) -> float:
        return self.calls / self.stores

    @property
    def floor_s(self) -> float:
        return self.stores * self.calls_per_store * LATENCY / self.concurrency

    def row(self) -> str:
        return (
            f"| {self.servers} | {self.stores:,} | {self.concurrency} | {self.wall_s:.1f} s "
            f"| {self.calls_per_store:.2f} | {self.first_tenth_s * 1000:.0f} ms "
            f"| {self.last_tenth_s * 1000:.0f} ms | {self.last_tenth_s / self.first_tenth_s:.2f}x "
            f"| {self.duplicates} | {self.floor_s:.1f} s | {self.wall_s / self.floor_s:.2f}x "
            f"| {self.onboarded:,} / {self.failed} |"
        )


HEADER = (
    "| servers | stores | concurrency | wall time | Twilio calls per store "
    "| latency, first tenth | latency, last tenth | last / first | duplicates | floor "
    "| wall / floor | onboarded / failed |\n"
    "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
)


def _insert_stores(database_url: str, count: int) -> list[str]:
    shares = {cc: round(count * share) for cc, share in MIX.items()}
    shares["IT"] = count - sum(n for cc, n in shares.items() if cc != "IT")
    now = datetime.now(UTC)
    rows = [
        {
            "tenant_id": TENANT,
            "id": f"{cc.lower()}-{i:05d}",
            "name": f"Bulk {cc} {i}",
            "country_code": cc,
            "created_at": now,
            "updated_at": now,
        }
        for cc, n in shares.items()
        for i in range(n)
    ]
    engine = create_engine(database_url)
    with engine.begin() as conn:
        conn.execute(insert(Store), rows)
    engine.dispose()
    return [str(r["id"]) for r in rows]


def _seconds(value: str) -> float:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


def run(workdir: Path, servers: int, count: int) -> JobRun:
    concurrency = WORKERS * servers
    env = {
        # One key for every process: each must read the tenant's Twilio token the first wrote.
        "CLIENTELING_ENCRYPTION_KEYS": SecretBox.generate_key(),
        "CLIENTELING_JOBS__WORKERS": str(WORKERS),
        "CLIENTELING_JOBS__TENANT_CONCURRENCY": str(concurrency),
        "CLIENTELING_JOBS__POLL_SECONDS": "0.1",
        "CLIENTELING_LOG_LEVEL": "WARNING",
    }
    with ExitStack() as stack:
        emu = stack.enter_context(procs.emulator(workdir))
        url = stack.enter_context(procs.postgres_database())
        migrate.upgrade(url)
        first = stack.enter_context(procs.server(workdir, url, emu, extra_env=env))
        for _ in range(servers - 1):
            stack.enter_context(procs.server(workdir, url, emu, extra_env=env))
        with first.client(TENANT) as client:
            client.post(
                "/clienteling/configuration", json={"ecom_link": "https://bulk.example"}
            ).raise_for_status()
            stores = _insert_stores(url, count)
            subaccount = client.get("/clienteling/configuration").json()["twilio"]["sid"]
            emu.set_latency(LATENCY)
            emu.clear_requests()
            began = time.perf_counter()
            job = client.post("/clienteling/onboarding-jobs", json={"all": True})
            job.raise_for_status()
            path = f"/clienteling/onboarding-jobs/{job.json()['id']}"
            while client.get(path, params={"stores": "false"}).json()["status"] != "finished":
                time.sleep(0.2)
            wall = time.perf_counter() - began
            emu.set_latency(0)
            done = client.get(path).json()
        requests = emu.requests()
    return _figures(servers, concurrency, stores, wall, done, requests, subaccount)


def _figures(
    servers: int,
    concurrency: int,
    stores: list[str],
    wall: float,
    done: dict[str, Any],
    requests: list[dict[str, Any]],
    subaccount: str,
) -> JobRun:
    mine = [r for r in requests if r.get("account_sid") == subaccount]
    bought = [
        r
        for r in mine
        if r["method"] == "POST"
        and r["path"].endswith("IncomingPhoneNumbers.json")
        and r["status"] == 201
    ]
    per_store = Counter(str(r["params"].get("FriendlyName")) for r in bought)
    finished = sorted(
        (s for s in done["stores"] if s["finished_at"] and s["started_at"]),
        key=lambda s: _seconds(s["finished_at"]),
    )
    latencies = [_seconds(s["finished_at"]) - _seconds(s["started_at"]) for s in finished]
    tenth = max(1, len(latencies) // 10)
    return JobRun(
        servers=servers,
        stores=len(stores),
        concurrency=concurrency,
        wall_s=wall,
        calls=len(mine),
        onboarded=done["counts"]["onboarded"],
        failed=done["counts"]["failed"],
        first_tenth_s=statistics.fmean(latencies[:tenth]),
        last_tenth_s=statistics.fmean(latencies[-tenth:]),
        duplicates=sum(n - 1 for n in per_store.values()),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="200 stores instead of 2,000")
    parser.add_argument("--stores", type=int, help="stores in the job (default 2,000)")
    parser.add_argument(
        "--servers", type=int, action="append", help="server processes (repeatable; 1 and 2)"
    )
    args = parser.parse_args()
    count = args.stores or (200 if args.quick else 2000)
    print(
        f"Bulk onboarding job: {count:,} stores, Twilio {LATENCY * 1000:.0f} ms away, "
        f"PostgreSQL, {WORKERS} workers per server process\n"
    )
    print(HEADER)
    with tempfile.TemporaryDirectory(prefix="bench-jobs-") as tmp:
        for servers in args.servers or [1, 2]:
            result = run(Path(tmp), servers, count)
            print(result.row(), flush=True)


if __name__ == "__main__":
    main()
