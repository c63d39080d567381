"""Bulk onboarding jobs: `python -m bench.jobs [--quick] [--stores N] [--servers 1 2]`.

One job onboards every store of a tenant (2,000 by default, 200 with --quick) across seven
countries, with Twilio (the emulator, a process of its own) 50 ms away, on a fresh PostgreSQL
database, once with one server process and once with two (each run its own database and
emulator, so each buys from a full pool). It prints, per run: the wall time of the job, Twilio
calls per store (every request the tenant's subaccount made while the job ran, over the
stores), the mean latency of a store (first claim to finish) among the first and the last tenth
to finish, duplicate purchases (numbers bought per store beyond one; must be 0), and the floor:
stores x calls per store x latency / concurrency, with the wall time's ratio to it.

The tenant's directory is filled up to 10,000 stores (French stores the job does not name), and
while the one-server job runs a client reads the onboarding status back to back: its p50 and
p99 stand beside the pre-serialised baseline route of the same size in the same server, read
after the job. It writes its own section of docs/performance.md (between the markers below).
"""

from __future__ import annotations

import argparse
import signal
import statistics
import subprocess
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import insert

from bench import procs, report
from clienteling_setup.crypto import SecretBox
from clienteling_setup.db import changes, migrate
from clienteling_setup.db.session import make_engine, make_sessionmaker
from clienteling_setup.status.fragments import keep_current
from clienteling_setup.stores.models import Store

LATENCY = 0.05
START = "<!-- bench.jobs: start -->"
END = "<!-- bench.jobs: end -->"
#: The tenant's directory while the status is read during the job (the job's stores included).
STATUS_STORES = 10_000
TARGET_FLOOR_RATIO = 1.5
TARGET_TENTHS_RATIO = 1.3
TARGET_STATUS_RATIO = 5.0
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
    #: Status reads during the job (p50, p99, count) and the baseline's (p50, p99), in ms.
    status: dict[str, float] | None = None
    baseline: dict[str, float] | None = None

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
    """The job's `count` stores, and French ones up to STATUS_STORES (not in the job); the
    status entries of all of them written as the service's writers do. Returns the job's."""
    shares = {cc: round(count * share) for cc, share in MIX.items()}
    shares["IT"] = count - sum(n for cc, n in shares.items() if cc != "IT")
    shares["FR"] = max(0, STATUS_STORES - count)
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
    engine = make_engine(database_url)
    try:
        sessions = make_sessionmaker(engine)
        keep_current(sessions)
        with sessions.begin() as session:
            session.execute(insert(Store), rows)
            changes.stores_touched(session, TENANT, [str(r["id"]) for r in rows])
    finally:
        engine.dispose()
    return [str(r["id"]) for r in rows if r["country_code"] != "FR"]


class _Reader:
    """Reads the onboarding status back to back in a thread until stopped: the latency a
    client following the job sees."""

    def __init__(self, server: procs.Server) -> None:
        self.client = server.client(TENANT)
        self.samples: list[float] = []
        self.size = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> _Reader:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(60)
        self.client.close()

    def _run(self) -> None:
        while not self._stop.is_set():
            started = time.perf_counter()
            response = self.client.get("/clienteling/onboarding-status")
            self.samples.append((time.perf_counter() - started) * 1000)
            response.raise_for_status()
            self.size = len(response.content)

    def figures(self) -> dict[str, float]:
        cuts = statistics.quantiles(self.samples, n=100)
        return {
            "p50_ms": statistics.median(self.samples),
            "p99_ms": cuts[98],
            "requests": len(self.samples),
        }


def _seconds(value: str) -> float:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


@contextmanager
def _profiled(pid: int, out: Path | None) -> Iterator[None]:
    """py-spy (when installed, with --profile) samples the server's threads while the job
    runs: collapsed stacks, one line per distinct stack, to see where a store's time goes."""
    if out is None:
        yield
        return
    spy = subprocess.Popen(
        [
            "py-spy",
            "record",
            "--pid",
            str(pid),
            "--format",
            "raw",
            "--rate",
            "50",
            "--threads",
            "--idle",
            "--nonblocking",
            "--output",
            str(out),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield
    finally:
        spy.send_signal(signal.SIGINT)
        spy.wait(60)


def run(workdir: Path, servers: int, count: int, profile: Path | None = None) -> JobRun:
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
            reading = _Reader(first) if servers == 1 else ExitStack()
            with _profiled(first.pid, profile), reading:
                began = time.perf_counter()
                job = client.post("/clienteling/onboarding-jobs", json={"store_ids": stores})
                job.raise_for_status()
                path = f"/clienteling/onboarding-jobs/{job.json()['id']}"
                while client.get(path, params={"stores": "false"}).json()["status"] != "finished":
                    time.sleep(0.2)
                wall = time.perf_counter() - began
            emu.set_latency(0)
            done = client.get(path).json()
            status = baseline = None
            if isinstance(reading, _Reader):
                status = reading.figures()
                base = f"{first.base_url}/clienteling/_bench/baseline?bytes={reading.size}"
                kwargs: dict[str, Any] = {"concurrency": 1, "duration": 4.0, "min_requests": 40}
                baseline = procs.load(base, first.headers(TENANT), **kwargs)
        requests = emu.requests()
    result = _figures(servers, concurrency, stores, wall, done, requests, subaccount)
    result.status, result.baseline = status, baseline
    return result


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


def render(runs: list[JobRun], count: int, started: datetime, machine: str, command: str) -> str:
    out = [
        START,
        "## Bulk onboarding jobs (issue 16)",
        "",
        f"Measured {started:%Y-%m-%d %H:%M} UTC on {machine}.",
        f"Command: `.venv/bin/python -m {command}`. One job onboards {count:,} named stores of "
        "a tenant of "
        f"{STATUS_STORES:,} (seven countries; five need the country's one approved bundle) on "
        f"a fresh PostgreSQL database, Twilio (the emulator, a process of its own) "
        f"{LATENCY * 1000:.0f} ms away per call, {WORKERS} workers per server process. Floor: "
        "stores x Twilio calls per store x latency / concurrency. Latency of a store: first "
        "claim to finish, mean of the first and of the last tenth to finish.",
        "",
        HEADER,
        *(r.row() for r in runs),
    ]
    with_status = [r for r in runs if r.status is not None and r.baseline is not None]
    if with_status:
        out += [
            "",
            f"Status reads at {STATUS_STORES:,} stores while the one-server job runs (a client "
            "reading back to back), beside the pre-serialised baseline route of the same size:",
            "",
            "| read | p50 ms | p99 ms | requests |",
            "| --- | ---: | ---: | ---: |",
        ]
        for r in with_status:
            assert r.status is not None
            assert r.baseline is not None
            out.append(
                f"| status during the job | {r.status['p50_ms']:.1f} | {r.status['p99_ms']:.1f} "
                f"| {r.status['requests']:.0f} |"
            )
            out.append(
                f"| baseline | {r.baseline['p50_ms']:.1f} | {r.baseline['p99_ms']:.1f} "
                f"| {r.baseline['requests']:.0f} |"
            )
    out += ["", "| target | result | met |", "| --- | --- | --- |"]
    for r in runs:
        ratio = r.wall_s / r.floor_s
        tenths = r.last_tenth_s / r.first_tenth_s
        out.append(
            f"| {r.servers} server(s): wall within {TARGET_FLOOR_RATIO}x the floor "
            f"| {ratio:.2f}x | {report.mark(ratio <= TARGET_FLOOR_RATIO)} |"
        )
        out.append(
            f"| {r.servers} server(s): last tenth within {TARGET_TENTHS_RATIO}x the first "
            f"| {tenths:.2f}x | {report.mark(tenths <= TARGET_TENTHS_RATIO)} |"
        )
        out.append(
            f"| {r.servers} server(s): no duplicate | {r.duplicates} "
            f"| {report.mark(not r.duplicates)} |"
        )
    for r in with_status:
        assert r.status is not None
        assert r.baseline is not None
        ratio = r.status["p50_ms"] / r.baseline["p50_ms"]
        out.append(
            f"| status p50 during the job within {TARGET_STATUS_RATIO:.0f}x the baseline "
            f"| {ratio:.1f}x | {report.mark(ratio <= TARGET_STATUS_RATIO)} |"
        )
    out += ["", END, ""]
    return "\n".join(out)


def section_of(text: str) -> str:
    """This benchmark's section of `text`, with a blank line before it, or ""."""
    return report.section_of(text, START, END)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="200 stores instead of 2,000")
    parser.add_argument("--stores", type=int, help="stores in the job (default 2,000)")
    parser.add_argument(
        "--servers", type=int, action="append", help="server processes (repeatable; 1 and 2)"
    )
    parser.add_argument(
        "--profile", type=Path, help="py-spy the first server into this file (raw stacks)"
    )
    parser.add_argument("--output", default=str(procs.ROOT / "docs" / "performance.md"))
    args = parser.parse_args()
    count = args.stores or (200 if args.quick else 2000)
    started, machine = datetime.now(UTC), report.machine()
    runs: list[JobRun] = []
    print(
        f"Bulk onboarding job: {count:,} stores, Twilio {LATENCY * 1000:.0f} ms away, "
        f"PostgreSQL, {WORKERS} workers per server process\n"
    )
    print(HEADER)
    with tempfile.TemporaryDirectory(prefix="bench-jobs-") as tmp:
        for servers in args.servers or [1, 2]:
            result = run(Path(tmp), servers, count, args.profile)
            print(result.row(), flush=True)
            runs.append(result)
    command = "bench.jobs" + (" --quick" if args.quick else "")
    section = render(runs, count, started, machine, command)
    print(section)
    report.write_section(Path(args.output), section, START, END)
    print(f"written to {args.output}")


if __name__ == "__main__":
    main()
