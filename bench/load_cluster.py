"""Load across processes: two `clienteling-setup serve` processes on one PostgreSQL database,
sharing one Twilio emulator process, under a mixed workload from concurrent clients on loopback.

    .venv/bin/python -m bench.load_cluster [--duration 60] [--clients 16] [--json out.json]

Workload (each client thread picks by weight, alternating between the two servers): status
reads, store-directory and available-number list calls, onboardings of distinct stores, and
duplicate onboardings (the same request again for a store already onboarded or in flight, sent
to the *other* process). Prints, and with --json writes: total requests, p50/p99 per operation,
status counts, the 5xx count, and duplicate purchases (numbers the emulator says the tenant owns
minus distinct stores onboarded; goal 0), plus orphans (owned numbers no store records).

Needs PostgreSQL on 127.0.0.1:5432 (trust auth, database `test`, as for the tests); it creates
and drops a database of its own. Not part of `scripts/test`.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psycopg

from clienteling_setup.auth.tokens import issue_token
from clienteling_setup.crypto import SecretBox
from clienteling_setup.status.fragments import NUMBER_READY
from twilio_emulator import EmulatorState

PG_ADMIN_DSN = "postgresql://postgres@127.0.0.1:5432/test"
JWT_SECRET = "load-cluster-signing-secret-long-enough-for-hs256"
TENANT = "loadco"
POOL_SCALE = 5  # 480 US local numbers: more than the onboardings of a 60 s run
WEIGHTS = {
    "status": 40,
    "list stores": 15,
    "available numbers": 15,
    "onboard": 20,
    "onboard duplicate": 10,
}
EMULATOR_SCRIPT = """
import sys, time
from twilio_emulator import EmulatorServer, EmulatorState
server = EmulatorServer(EmulatorState(seed=1, pool_scale=int(sys.argv[2])), port=int(sys.argv[1]))
server.start()
print(server.base_url, flush=True)
while True:
    time.sleep(3600)
"""


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_ready(url: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not become ready")


@contextmanager
def postgres_database() -> Iterator[str]:
    name = f"clienteling_load_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    finally:
        with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def cluster(
    processes: int = 2,
    *,
    database_via: Callable[[str], str] | None = None,
    twilio_via: Callable[[str], str] | None = None,
) -> Iterator[tuple[list[str], str]]:
    """The emulator and `processes` servers; yields the servers' and the emulator's URLs.
    `database_via` and `twilio_via` map the database URL and the emulator's base URL to those
    the servers use (a proxy the outage benchmark cuts, `bench.outages`)."""
    procs: list[subprocess.Popen[bytes]] = []
    data_dir = Path(tempfile.mkdtemp(prefix="clienteling-load-"))
    try:
        with postgres_database() as database_url:
            emulator_port = free_port()
            procs.append(
                subprocess.Popen(
                    [sys.executable, "-c", EMULATOR_SCRIPT, str(emulator_port), str(POOL_SCALE)],
                    stdout=subprocess.DEVNULL,
                )
            )
            emulator_url = f"http://127.0.0.1:{emulator_port}"
            wait_ready(f"{emulator_url}/_emulator/state")
            state = EmulatorState(seed=1)  # same master credentials as the emulator process
            env = {
                **os.environ,
                "CLIENTELING_DATA_DIR": str(data_dir),
                "CLIENTELING_DATABASE_URL": database_url,
                "CLIENTELING_TWILIO__MODE": "emulator",
                "CLIENTELING_TWILIO__API_BASE_URL": emulator_url,
                "CLIENTELING_TWILIO__ACCOUNT_SID": state.master_account_sid,
                "CLIENTELING_TWILIO__AUTH_TOKEN": state.master_auth_token,
                "CLIENTELING_JWT__SECRET": JWT_SECRET,
                "CLIENTELING_ENCRYPTION_KEYS": SecretBox.generate_key(),
                "CLIENTELING_SYNC_INTERVAL_SECONDS": "0",
                "CLIENTELING_LOG_LEVEL": "WARNING",
            }
            cli = str(Path(sys.executable).with_name("clienteling-setup"))
            subprocess.run([cli, "migrate"], env=env, check=True, capture_output=True)
            if database_via is not None:
                env["CLIENTELING_DATABASE_URL"] = database_via(database_url)
            if twilio_via is not None:
                env["CLIENTELING_TWILIO__API_BASE_URL"] = twilio_via(emulator_url)
            urls = []
            for _ in range(processes):
                port = free_port()
                procs.append(
                    subprocess.Popen(
                        [cli, "serve", "--port", str(port)],
                        env={**env, "CLIENTELING_PUBLIC_BASE_URL": f"http://127.0.0.1:{port}"},
                        stdout=subprocess.DEVNULL,
                        stderr=subprocess.DEVNULL,
                    )
                )
                urls.append(f"http://127.0.0.1:{port}")
            for url in urls:
                wait_ready(f"{url}/healthz")
            try:
                yield urls, emulator_url
            finally:
                for proc in reversed(procs):
                    proc.terminate()
                for proc in procs:
                    try:
                        proc.wait(timeout=15)
                    except subprocess.TimeoutExpired:
                        proc.kill()
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()


@dataclass
class Results:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    statuses: dict[str, Counter[int]] = field(default_factory=lambda: defaultdict(Counter))
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, operation: str, seconds: float, status: int) -> None:
        with self.lock:
            self.latencies[operation].append(seconds * 1000)
            self.statuses[operation][status] += 1


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


class Workload:
    def __init__(self, urls: list[str], stores: int) -> None:
        self.urls = urls
        self.headers = {
            "Authorization": "Bearer "
            + issue_token(
                JWT_SECRET, [TENANT], issuer="clienteling-setup", audience="clienteling-setup"
            ),
            "Tenant": TENANT,
        }
        self.stores = [f"store-{i:04d}" for i in range(stores)]
        self.next_store = 0
        self.started: list[tuple[str, dict[str, Any]]] = []  # (store, body) sent at least once
        self.lock = threading.Lock()
        self.results = Results()

    def setup(self) -> None:
        with httpx.Client(base_url=self.urls[0], headers=self.headers, timeout=60) as client:
            r = client.post(
                "/clienteling/configuration", json={"ecom_link": "https://load.example"}
            )
            assert r.status_code == 201, r.text
            client.put("/clienteling/opt-in-template", json={"body": "Reply YES."})
            # Warm-up: the emulator builds its number pools on first use.
            client.get(f"/clienteling/stores/{self.stores[0]}/available-phone-numbers")
            for store in self.stores:
                r = client.put(
                    f"/clienteling/stores/{store}",
                    json={"name": store, "country_code": "US", "region": "NY"},
                )
                assert r.status_code in (200, 201), r.text

    def run(self, clients: int, duration: float, seed: int) -> float:
        stop = time.monotonic() + duration
        threads = [
            threading.Thread(target=self._client, args=(i, stop, seed), daemon=True)
            for i in range(clients)
        ]
        began = time.monotonic()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return time.monotonic() - began

    def _client(self, index: int, stop: float, seed: int) -> None:
        rng = random.Random(seed * 1000 + index)
        sessions = [
            httpx.Client(base_url=url, headers=self.headers, timeout=60) for url in self.urls
        ]
        operations = list(WEIGHTS)
        weights = list(WEIGHTS.values())
        turn = index
        try:
            while time.monotonic() < stop:
                turn += 1
                client = sessions[turn % len(sessions)]
                operation = rng.choices(operations, weights)[0]
                self._one(operation, client, sessions[(turn + 1) % len(sessions)], rng)
        finally:
            for session in sessions:
                session.close()

    def _timed(
        self, operation: str, client: httpx.Client, method: str, path: str, **kw: Any
    ) -> httpx.Response:
        began = time.perf_counter()
        response = client.request(method, path, **kw)
        self.results.add(operation, time.perf_counter() - began, response.status_code)
        return response

    def _untimed(self, operation: str, client: httpx.Client, path: str) -> httpx.Response:
        """A GET that prepares an operation (not counted in the load figures)."""
        return client.get(path)

    def _one(
        self, operation: str, client: httpx.Client, other: httpx.Client, rng: random.Random
    ) -> None:
        if operation == "status":
            self._timed(operation, client, "GET", "/clienteling/onboarding-status")
        elif operation == "list stores":
            self._timed(operation, client, "GET", "/clienteling/stores", params={"limit": 50})
        elif operation == "available numbers":
            store = rng.choice(self.stores)
            self._timed(
                operation, client, "GET", f"/clienteling/stores/{store}/available-phone-numbers"
            )
        elif operation == "onboard":
            with self.lock:
                if self.next_store >= len(self.stores):
                    return
                store = self.stores[self.next_store]
                self.next_store += 1
            numbers = self._untimed(
                "available numbers", client, f"/clienteling/stores/{store}/available-phone-numbers"
            )
            if numbers.status_code != 200 or not numbers.json():
                return
            body = {"phone_number": rng.choice(numbers.json())["phone_number"]}
            with self.lock:
                self.started.append((store, body))
            self._timed(
                operation, client, "POST", f"/clienteling/stores/{store}/onboard", json=body
            )
        elif operation == "onboard duplicate":
            with self.lock:
                if not self.started:
                    return
                store, body = rng.choice(self.started[-8:])
            self._timed(operation, other, "POST", f"/clienteling/stores/{store}/onboard", json=body)


def measure(duration: float, clients: int, stores: int, seed: int = 7) -> dict[str, Any]:
    with cluster() as (urls, emulator_url):
        workload = Workload(urls, stores)
        workload.setup()
        elapsed = workload.run(clients, duration, seed)
        with httpx.Client(base_url=urls[1], headers=workload.headers, timeout=60) as client:
            status = client.get("/clienteling/onboarding-status").json()
        snapshot = httpx.get(f"{emulator_url}/_emulator/state", timeout=60).json()
    sub = status["twilio"]["sid"]
    owned = [n["phone_number"] for n in snapshot["numbers"].get(sub, [])]
    onboarded = {
        s["id"]: s["phone_number"]
        for s in status["stores"]
        if s["channels"]["sms"]["status"] in NUMBER_READY
    }
    results = workload.results
    operations: dict[str, dict[str, Any]] = {
        op: {
            "requests": len(samples),
            "p50_ms": round(percentile(samples, 0.50), 1),
            "p99_ms": round(percentile(samples, 0.99), 1),
            "mean_ms": round(statistics.fmean(samples), 1),
            "statuses": {str(k): v for k, v in sorted(results.statuses[op].items())},
        }
        for op, samples in sorted(results.latencies.items())
    }
    total = sum(op["requests"] for op in operations.values())
    server_errors = 0
    for counts in results.statuses.values():
        server_errors += sum(n for status, n in counts.items() if status >= 500)
    return {
        "processes": len(urls),
        "clients": clients,
        "duration_s": round(elapsed, 1),
        "requests": total,
        "requests_per_s": round(total / elapsed, 1),
        "server_errors": server_errors,
        "operations": operations,
        "stores_onboarded": len(onboarded),
        "numbers_owned": len(owned),
        "duplicate_purchases": len(owned) - len(set(onboarded.values())),
        "orphan_numbers": len(set(owned) - set(onboarded.values())),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of load (60)")
    parser.add_argument("--clients", type=int, default=16, help="concurrent clients (16)")
    parser.add_argument("--stores", type=int, default=400, help="stores in the directory (400)")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()
    figures = measure(args.duration, args.clients, args.stores)
    text = json.dumps(figures, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")


if __name__ == "__main__":
    main()
