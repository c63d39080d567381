"""The benchmark suite: `.venv/bin/python -m bench.run [--quick]` (see README, Benchmarks).

It builds its own fixtures in a fresh SQLite file and a fresh PostgreSQL database, runs the
service and the Twilio emulator as processes of their own, measures from load-generator
processes on loopback, prints a Markdown table and writes it to docs/performance.md.
"""

from __future__ import annotations

import argparse
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from bench import (
    calls,
    data_paths,
    fixtures,
    jobs,
    lists,
    onboarding,
    procs,
    reconcile,
    report,
    status,
)

BACKENDS = ("sqlite", "postgresql")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="shorter runs, 64 bulk stores")
    parser.add_argument("--backend", choices=BACKENDS, action="append", help="default: both")
    parser.add_argument("--output", default=str(procs.ROOT / "docs" / "performance.md"))
    args = parser.parse_args()
    backends = args.backend or list(BACKENDS)
    duration = 2.0 if args.quick else 6.0
    bulk_stores = 64 if args.quick else 500
    run = report.Run(
        started=datetime.now(UTC),
        machine=report.machine(),
        command="python -m bench.run" + (" --quick" if args.quick else ""),
    )
    workdir = Path(tempfile.mkdtemp(prefix="clienteling-bench-"))
    print(f"work folder: {workdir}", flush=True)
    with procs.emulator(workdir) as emu:
        for backend in backends:
            with procs.database(backend, workdir, "status") as url:
                print(f"[{backend}] loading fixtures", flush=True)
                fixtures.load(url, {status.tenant_for(n): n for n in status.SIZES})
                with procs.server(workdir, url, emu) as srv:
                    for size in status.SIZES:
                        print(f"[{backend}] status at {size} stores", flush=True)
                        result = status.measure(
                            backend, srv, emu, size, duration=duration, concurrency=1
                        )
                        run.status.append(result)
                        if size == max(status.SIZES):
                            run.rss_kb[backend] = srv.memory_kb()
            with procs.database(backend, workdir, "bulk") as url:
                fixtures.load(url, {})
                with procs.server(workdir, url, emu) as srv:
                    if backend == backends[0]:
                        print(f"[{backend}] lists", flush=True)
                        lists.prepare(srv)
                        run.lists = lists.measure(srv, emu, duration=duration)
                    for index, clients in enumerate((onboarding.CLIENTS, 1)):
                        tenant = f"bench-bulk-{index}"
                        print(f"[{backend}] bulk onboarding, {clients} client(s)", flush=True)
                        requests = onboarding.prepare(srv, url, tenant, bulk_stores, index)
                        run.bulk.setdefault(backend, []).append(
                            onboarding.run(
                                srv, emu, tenant, requests, clients=clients, duplicates=clients > 1
                            )
                        )
            # the next backend's runs buy from fresh slices of the pool: restart the emulator
            emu.admin("POST", "/reset")
    text = report.render(run)
    print(text)
    output = Path(args.output)
    previous = output.read_text() if output.exists() else ""
    # The sections of the other benchmarks stay as they are.
    kept = (data_paths, calls, reconcile, jobs)
    output.write_text(text + "".join(bench.section_of(previous) for bench in kept))
    print(f"written to {args.output}")


if __name__ == "__main__":
    main()
