"""Data paths at their floor (issue 18): `.venv/bin/python -m bench.data_paths [--quick]`.

Each figure stands beside a baseline measured in the same run:

- server memory while 70 tenants of 10,000 stores are read in turn (the status cache bounded
  by bytes), beside the server's RSS before the first read;
- cold status rebuilds at 10,000 stores (a server whose cache holds nothing, so every read
  rebuilds), with the collector as `serve` sets it and as CPython leaves it, beside the
  pre-serialised baseline route of the same size in the same server;
- concurrent readers right after a change, and how many builds they caused;
- a status read right after each write to one store (as while a bulk job writes), at 10,000
  stores, beside the same baseline route;
- `clienteling-setup stores import` of 10,000 and 100,000 rows on SQLite and PostgreSQL,
  beside a plain bulk insert of the same rows (`bench.bulk_insert`: a process that reads the
  same file and executemany-inserts it), with the import's peak RSS over that of a 100-row
  import.

It writes its own section of docs/performance.md (between the markers below), leaving the
sections of `bench.run` as they are.
"""

from __future__ import annotations

import argparse
import csv
import os
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import phonenumbers
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import update

from bench import fixtures, procs, report
from clienteling_setup.db import migrate
from clienteling_setup.db.base import utcnow
from clienteling_setup.db.session import make_engine, make_sessionmaker
from clienteling_setup.status.cache import DEFAULT_MAX_BYTES
from clienteling_setup.status.fragments import keep_current
from clienteling_setup.status.repository import StatusRepository
from clienteling_setup.stores.models import Store
from clienteling_setup.stores.repository import FIELDS
from clienteling_setup.validation import phone_of_country

START = "<!-- bench.data_paths: start -->"
END = "<!-- bench.data_paths: end -->"
BACKENDS = ("sqlite", "postgresql")
RSS_TENANTS = 70
STORES = 10_000
IMPORT_SIZES = (10_000, 100_000)
SMALL_IMPORT = 100
READERS = 8

# Targets of issue 18.
RSS_TARGET_MB = 200.0
COLD_P50_RATIO = 5.0
COLD_P99_RATIO = 10.0
IMPORT_RATIO = 3.0
IMPORT_GROWTH_MB = 50.0


@dataclass
class ColdResult:
    backend: str
    collector: str
    status: dict[str, Any]
    baseline: dict[str, Any]
    #: p50 ms of reading the stored per-store entries alone (one scan, the driver's tuples).
    fetch_p50_ms: float

    @property
    def p50_ratio(self) -> float:
        return float(self.status["p50_ms"]) / float(self.baseline["p50_ms"])

    @property
    def p99_ratio(self) -> float:
        return float(self.status["p99_ms"]) / float(self.baseline["p99_ms"])


@dataclass
class AfterWriteResult:
    backend: str
    status: dict[str, Any]  # p50_ms, p99_ms, requests: reads right after a write
    baseline: dict[str, Any]

    @property
    def p50_ratio(self) -> float:
        return float(self.status["p50_ms"]) / float(self.baseline["p50_ms"])

    @property
    def p99_ratio(self) -> float:
        return float(self.status["p99_ms"]) / float(self.baseline["p99_ms"])


@dataclass
class ImportResult:
    backend: str
    rows: int
    import_s: float
    bulk_s: float
    peak_kb: int
    small_peak_kb: int

    @property
    def ratio(self) -> float:
        return self.import_s / self.bulk_s

    @property
    def growth_mb(self) -> float:
        return (self.peak_kb - self.small_peak_kb) / 1024


@dataclass
class Results:
    started: datetime
    machine: str
    command: str
    rss: list[tuple[str, float]] = field(default_factory=list)
    peak_mb: float = 0.0
    cache: dict[str, float] = field(default_factory=dict)
    cold: list[ColdResult] = field(default_factory=list)
    flights: list[tuple[str, int, int]] = field(default_factory=list)
    after_write: list[AfterWriteResult] = field(default_factory=list)
    imports: list[ImportResult] = field(default_factory=list)


def scrape(srv: procs.Server) -> dict[str, float]:
    text = httpx.get(f"{srv.base_url}/metrics", timeout=30).text
    return {
        sample.name: sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def _read(client: httpx.Client) -> bytes:
    response = client.get("/clienteling/onboarding-status")
    response.raise_for_status()
    return response.content


# -- server memory ------------------------------------------------------------------------------


def measure_rss(results: Results, workdir: Path, emu: procs.Emulator, tenants: int) -> None:
    names = [f"bench-rss-{i:02d}" for i in range(tenants)]
    with procs.database("sqlite", workdir, "rss") as url:
        print(f"[sqlite] loading {tenants} tenants of {STORES:,} stores", flush=True)
        fixtures.load(url, dict.fromkeys(names, STORES))
        with procs.server(workdir, url, emu) as srv:
            results.rss.append(("before the first read", srv.memory_kb()["VmRSS"] / 1024))
            for round_ in (1, 2):
                for index, tenant in enumerate(names, start=1):
                    with srv.client(tenant) as client:
                        _read(client)
                    if round_ == 1 and index in (1, 16, 64, tenants):
                        label = f"after reading {index} tenant(s)"
                        results.rss.append((label, srv.memory_kb()["VmRSS"] / 1024))
            results.rss.append(
                (f"after a second round of {tenants}", srv.memory_kb()["VmRSS"] / 1024)
            )
            results.peak_mb = srv.memory_kb()["VmHWM"] / 1024
            results.cache = scrape(srv)


# -- cold rebuilds and concurrent readers --------------------------------------------------------


def fetch_floor(url: str, tenant: str, times: int = 30) -> float:
    """p50 ms of reading the stored per-store entries of the status as the database joins
    them (`StatusRepository.stores_array`, one value), in this process: what no rebuild from
    them can go below."""
    engine = make_engine(url)
    try:
        samples = []
        with make_sessionmaker(engine)() as session:
            status = StatusRepository(session, tenant)
            for _ in range(times):
                started = time.perf_counter()
                status.stores_array()
                samples.append((time.perf_counter() - started) * 1000)
    finally:
        engine.dispose()
    return statistics.median(samples)


def measure_cold(
    results: Results, backend: str, url: str, workdir: Path, emu: procs.Emulator, duration: float
) -> None:
    tenant = "bench-cold"
    floor = fetch_floor(url, tenant)
    for collector, args in (("tuned (serve)", ()), ("CPython default", ("--default-gc",))):
        print(f"[{backend}] cold rebuilds, collector {collector}", flush=True)
        env = {"CLIENTELING_STATUS_CACHE_BYTES": "0"}  # nothing is kept: every read rebuilds
        with procs.server(workdir, url, emu, extra_env=env, extra_args=args) as srv:
            with srv.client(tenant) as client:
                size = len(_read(client))
            headers = srv.headers(tenant)
            kwargs: dict[str, Any] = {"concurrency": 1, "duration": duration, "min_requests": 40}
            status = procs.load(f"{srv.base_url}/clienteling/onboarding-status", headers, **kwargs)
            base = f"{srv.base_url}/clienteling/_bench/baseline?bytes={size}"
            baseline = procs.load(base, headers, **kwargs)
            assert scrape(srv)["clienteling_status_cache_entries"] == 0
        results.cold.append(ColdResult(backend, collector, status, baseline, floor))


def measure_flight(
    results: Results, backend: str, url: str, workdir: Path, emu: procs.Emulator
) -> None:
    tenant = "bench-cold"
    with procs.server(workdir, url, emu) as srv:
        with srv.client(tenant) as client:
            store_id = client.get("/clienteling/onboarding-status").json()["stores"][0]["id"]
        engine = make_engine(url)
        try:
            sessions = make_sessionmaker(engine)
            keep_current(sessions)  # as every writer of the service does
            with sessions.begin() as session:  # another writer changes one store
                changed = session.execute(
                    update(Store)
                    .where(Store.tenant_id == tenant, Store.id == store_id)
                    .values(name="Renamed", updated_at=utcnow())
                )
                assert changed.rowcount == 1  # type: ignore[attr-defined]
        finally:
            engine.dispose()
        before = scrape(srv)["clienteling_status_cache_builds_total"]
        clients = [srv.client(tenant) for _ in range(READERS)]
        try:
            with ThreadPoolExecutor(READERS) as pool:
                documents = set(pool.map(_read, clients))
        finally:
            for client in clients:
                client.close()
        assert len(documents) == 1
        builds = int(scrape(srv)["clienteling_status_cache_builds_total"] - before)
    results.flights.append((backend, READERS, builds))


def measure_after_write(
    results: Results,
    backend: str,
    url: str,
    workdir: Path,
    emu: procs.Emulator,
    duration: float,
) -> None:
    """A status read right after each write to one store (a rename through the API), back to
    back, as a client follows a bulk job; the baseline route of the same size after."""
    tenant = "bench-cold"
    with procs.server(workdir, url, emu) as srv, srv.client(tenant) as client:
        size = len(_read(client))
        store = client.get("/clienteling/onboarding-status").json()["stores"][1]
        path = f"/clienteling/stores/{store['id']}"
        samples: list[float] = []
        deadline = time.monotonic() + duration
        while time.monotonic() < deadline or len(samples) < 40:
            body = {"name": f"Renamed {len(samples)}", "country_code": store["country_code"]}
            client.put(path, json=body).raise_for_status()
            started = time.perf_counter()
            response = client.get("/clienteling/onboarding-status")
            samples.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200
        cuts = statistics.quantiles(samples, n=100)
        status = {
            "p50_ms": statistics.median(samples),
            "p99_ms": cuts[98],
            "requests": len(samples),
        }
        base = f"{srv.base_url}/clienteling/_bench/baseline?bytes={size}"
        kwargs: dict[str, Any] = {"concurrency": 1, "duration": duration, "min_requests": 40}
        baseline = procs.load(base, srv.headers(tenant), **kwargs)
    results.after_write.append(AfterWriteResult(backend, status, baseline))


# -- store import ---------------------------------------------------------------------------------

IMPORT_COUNTRIES = ("US", "DE", "GB", "FR", "IT", "ES", "NL", "CA")
COLUMNS = ("id", *FIELDS)


def _phones(country: str, count: int) -> list[str]:
    """Valid numbers of `country`: its example number with other last four digits."""
    example = phonenumbers.example_number_for_type(country, phonenumbers.PhoneNumberType.FIXED_LINE)
    assert example is not None, country
    base = phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164)[:-4]
    found = []
    for suffix in range(10_000):
        candidate = f"{base}{suffix:04d}"
        try:
            found.append(phone_of_country(candidate, country, "phone"))
        except ValueError:
            continue
        if len(found) == count:
            break
    return found


def write_import_file(path: Path, rows: int) -> None:
    phones = {cc: _phones(cc, 500) for cc in IMPORT_COUNTRIES}
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        for i in range(rows):
            cc = IMPORT_COUNTRIES[i % len(IMPORT_COUNTRIES)]
            pool = phones[cc]
            writer.writerow(
                (
                    f"st-{i:06d}",
                    f"Dodici {cc} #{i}",
                    cc,
                    "",
                    f"City {i % 97}",
                    f"{10000 + i % 89999}",
                    pool[i % len(pool)],
                    f"{40 + (i % 1000) / 100:.4f}",
                    f"{-3 + (i % 700) / 100:.4f}",
                )
            )


def _timed(args: list[str], env: dict[str, str]) -> tuple[float, int, str]:
    """Wall seconds, peak RSS (kB) and stdout of `python -m ARGS...`, which must succeed
    (run under `bench.peak`, which reports the peak of that program alone)."""
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "bench.peak", *args],
        cwd=procs.ROOT,
        env=env,
        capture_output=True,
        check=False,
    )
    wall = time.perf_counter() - started
    err = done.stderr.decode()
    if done.returncode != 0:
        raise RuntimeError(f"{args[:4]} failed: {err[-2000:]}")
    peaks = [int(line.split()[1]) for line in err.splitlines() if line.startswith("peak-rss-kb ")]
    return wall, peaks[-1], done.stdout.decode()


def _env(workdir: Path, url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLIENTELING_")}
    env["CLIENTELING_DATA_DIR"] = str(workdir / "import-data")
    env["CLIENTELING_DATABASE_URL"] = url
    return env


def _import(workdir: Path, url: str, file: Path, tenant: str) -> tuple[float, int]:
    args = ["clienteling_setup.cli", "stores", "import", str(file)]
    wall, peak, out = _timed([*args, "--tenant", tenant], _env(workdir, url))
    assert "Imported " in out, out
    return wall, peak


def _bulk(workdir: Path, url: str, file: Path, tenant: str) -> float:
    args = ["bench.bulk_insert", str(file), url, tenant]
    wall, _, out = _timed(args, _env(workdir, url))
    assert out.startswith("inserted "), out
    return wall


def measure_imports(
    results: Results, backend: str, workdir: Path, files: dict[int, Path], small: Path
) -> None:
    with procs.database(backend, workdir, "import-small") as url:
        migrate.upgrade(url)
        _, small_peak = _import(workdir, url, small, "bench-small")
    for rows, file in files.items():
        print(f"[{backend}] import of {rows:,} rows", flush=True)
        with procs.database(backend, workdir, f"bulk-{rows}") as url:
            migrate.upgrade(url)
            bulk_s = _bulk(workdir, url, file, "bench-import")
        with procs.database(backend, workdir, f"import-{rows}") as url:
            migrate.upgrade(url)
            import_s, peak = _import(workdir, url, file, "bench-import")
        results.imports.append(ImportResult(backend, rows, import_s, bulk_s, peak, small_peak))


# -- report ---------------------------------------------------------------------------------------


def render(r: Results) -> str:
    out = [
        START,
        "## Data paths (issue 18)",
        "",
        f"Measured {r.started:%Y-%m-%d %H:%M} UTC on {r.machine}.",
        f"Command: `.venv/bin/{r.command}`. Separate processes on loopback as above; each "
        "figure stands beside a baseline from the same run.",
        "",
        f"### Server memory: {RSS_TENANTS} tenants of {STORES:,} stores read in turn (SQLite)",
        "",
        "One status read per tenant, in turn, twice over; the status cache at its default bound "
        f"(`CLIENTELING_STATUS_CACHE_BYTES`, {DEFAULT_MAX_BYTES // 2**20} MiB). Baseline: the "
        "same server before its "
        "first read.",
        "",
        "| moment | server RSS MB |",
        "| --- | ---: |",
    ]
    out += [f"| {label} | {mb:.0f} |" for label, mb in r.rss]
    out.append(f"| peak (VmHWM) | {r.peak_mb:.0f} |")
    c = r.cache
    if c:
        out += [
            "",
            f"Status cache at the end (`GET /metrics`): "
            f"{c.get('clienteling_status_cache_bytes', 0) / 1024 / 1024:.1f} MiB in "
            f"{c.get('clienteling_status_cache_entries', 0):.0f} documents, "
            f"{c.get('clienteling_status_cache_hits_total', 0):.0f} hits, "
            f"{c.get('clienteling_status_cache_misses_total', 0):.0f} misses.",
        ]
    out += [
        "",
        f"### Cold status rebuild at {STORES:,} stores",
        "",
        "A server with `CLIENTELING_STATUS_CACHE_BYTES=0`: every read builds the document "
        "anew. One client, back to back. Baseline: the pre-serialised document of the same "
        "size from the benchmark route of the same server. Collector: as `serve` sets it "
        "(`gc_tuning.for_serving`: start-up heap frozen, young threshold 20,000) or as "
        "CPython leaves it. Stores only: the p50 of reading the stored per-store entries as "
        "the database joins them (`StatusRepository.stores_array`: one value, one scan of "
        "one table) through the driver, in the benchmark's process; the floor of a rebuild.",
        "",
        "| backend | collector | status p50 ms | p99 ms | baseline p50 ms | p99 ms "
        "| ratio p50 | ratio p99 | stores only p50 ms |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for cold in r.cold:
        out.append(
            f"| {cold.backend} | {cold.collector} | {cold.status['p50_ms']:.1f} "
            f"| {cold.status['p99_ms']:.1f} | {cold.baseline['p50_ms']:.1f} "
            f"| {cold.baseline['p99_ms']:.1f} | {cold.p50_ratio:.1f}x | {cold.p99_ratio:.1f}x "
            f"| {cold.fetch_p50_ms:.1f} |"
        )
    if r.flights:
        out += [
            "",
            f"### {READERS} concurrent readers right after a change ({STORES:,} stores)",
            "",
            "| backend | readers | documents built |",
            "| --- | ---: | ---: |",
        ]
        out += [f"| {b} | {n} | {builds} |" for b, n, builds in r.flights]
    if r.after_write:
        out += [
            "",
            f"### Status read right after a write ({STORES:,} stores)",
            "",
            "Each read follows a rename of one store through the API (PUT), as while a bulk "
            "job writes: the cached document is stale at every read. Only that store's entry "
            "was rebuilt, by the write; the read has the database join the stored entries and "
            "keeps the document's head and tail (the cache's parts). One client, "
            "back to back. Baseline: the pre-serialised document of the same size.",
            "",
            "| backend | reads | status p50 ms | p99 ms | baseline p50 ms | p99 ms "
            "| ratio p50 | ratio p99 |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        ]
        out += [
            f"| {a.backend} | {a.status['requests']} | {a.status['p50_ms']:.1f} "
            f"| {a.status['p99_ms']:.1f} | {a.baseline['p50_ms']:.1f} "
            f"| {a.baseline['p99_ms']:.1f} | {a.p50_ratio:.1f}x | {a.p99_ratio:.1f}x |"
            for a in r.after_write
        ]
    out += [
        "",
        "### Store import",
        "",
        "`clienteling-setup stores import FILE.csv` into an empty directory (every row with a "
        "phone number, validated), beside a plain bulk insert of the same rows: a process "
        "that reads the same file and inserts it with executemany, 2,000 rows a statement, "
        "nothing validated. Both from process start to exit, each on a fresh database. "
        "Peak RSS: the command's process plus its validation worker (pages they share "
        f"count twice). Growth: that peak over the same for a {SMALL_IMPORT}-row import.",
        "",
        "| backend | rows | import s | bulk insert s | ratio | import peak RSS MB | growth MB |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for i in r.imports:
        out.append(
            f"| {i.backend} | {i.rows:,} | {i.import_s:.2f} | {i.bulk_s:.2f} | {i.ratio:.1f}x "
            f"| {i.peak_kb / 1024:.0f} | {i.growth_mb:.0f} |"
        )
    out += ["", "### Targets", "", "| target | result | met |", "| --- | --- | --- |"]
    if r.rss:
        out.append(
            f"| server RSS < {RSS_TARGET_MB:.0f} MB, {RSS_TENANTS} tenants of {STORES:,} "
            f"stores read in turn | peak {r.peak_mb:.0f} MB "
            f"| {report.mark(r.peak_mb < RSS_TARGET_MB)} |"
        )
    for cold in r.cold:
        ok = cold.p50_ratio <= COLD_P50_RATIO and cold.p99_ratio <= COLD_P99_RATIO
        out.append(
            f"| cold rebuild p50 <= {COLD_P50_RATIO:.0f}x, p99 <= {COLD_P99_RATIO:.0f}x "
            f"baseline ({cold.backend}, collector {cold.collector}) "
            f"| {cold.p50_ratio:.1f}x, {cold.p99_ratio:.1f}x | {report.mark(ok)} |"
        )
    for a in r.after_write:
        out.append(
            f"| read right after a write p50 <= {COLD_P50_RATIO:.0f}x baseline ({a.backend}) "
            f"| {a.p50_ratio:.1f}x | {report.mark(a.p50_ratio <= COLD_P50_RATIO)} |"
        )
    for backend, readers, builds in r.flights:
        out.append(
            f"| one rebuild for {readers} concurrent readers after a change ({backend}) "
            f"| {builds} | {report.mark(builds == 1)} |"
        )
    for i in r.imports:
        ok = i.ratio <= IMPORT_RATIO and (i.rows < 100_000 or i.growth_mb < IMPORT_GROWTH_MB)
        growth = f", growth {i.growth_mb:.0f} MB" if i.rows >= 100_000 else ""
        out.append(
            f"| import of {i.rows:,} rows <= {IMPORT_RATIO:.0f}x bulk insert"
            + (f", RSS growth < {IMPORT_GROWTH_MB:.0f} MB" if i.rows >= 100_000 else "")
            + f" ({i.backend}) | {i.ratio:.1f}x{growth} | {report.mark(ok)} |"
        )
    out += ["", END, ""]
    return "\n".join(out)


def section_of(text: str) -> str:
    """This benchmark's section of `text`, with a blank line before it, or ""."""
    return report.section_of(text, START, END)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="8 tenants, 10,000-row imports")
    parser.add_argument("--backend", choices=BACKENDS, action="append", help="default: both")
    parser.add_argument("--output", default=str(procs.ROOT / "docs" / "performance.md"))
    args = parser.parse_args()
    backends = args.backend or list(BACKENDS)
    results = Results(
        started=datetime.now(UTC),
        machine=report.machine(),
        command="python -m bench.data_paths" + (" --quick" if args.quick else ""),
    )
    duration = 3.0 if args.quick else 8.0
    workdir = Path(tempfile.mkdtemp(prefix="clienteling-data-paths-"))
    print(f"work folder: {workdir}", flush=True)
    sizes = IMPORT_SIZES[:1] if args.quick else IMPORT_SIZES
    files = {}
    for rows in sizes:
        files[rows] = workdir / f"stores-{rows}.csv"
        write_import_file(files[rows], rows)
    small = workdir / "stores-small.csv"
    write_import_file(small, SMALL_IMPORT)
    with procs.emulator(workdir) as emu:
        if "sqlite" in backends:
            measure_rss(results, workdir, emu, 8 if args.quick else RSS_TENANTS)
        for backend in backends:
            with procs.database(backend, workdir, "cold") as url:
                print(f"[{backend}] loading one tenant of {STORES:,} stores", flush=True)
                fixtures.load(url, {"bench-cold": STORES})
                measure_cold(results, backend, url, workdir, emu, duration)
                measure_flight(results, backend, url, workdir, emu)
                measure_after_write(results, backend, url, workdir, emu, duration)
        for backend in backends:
            measure_imports(results, backend, workdir, files, small)
    section = render(results)
    print(section)
    report.write_section(Path(args.output), section, START, END)
    print(f"written to {args.output}")


if __name__ == "__main__":
    main()
