"""The operator console at 10,000 stores (issue 17): time to first render, the status document's
bytes on the wire (gzip) and the latency of a poll answered 304 Not Modified.

A real `clienteling-setup serve` (SQLite, an emulator in this process) with one tenant of
10,000 stores in 30 countries, imported with the command line; headless Chromium
(/usr/bin/chromium) signs in. Prints the figures and writes its section of
docs/performance.md.

    .venv/bin/python -m bench.console [--stores 10000] [--polls 200]
"""

from __future__ import annotations

import argparse
import csv
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
from tests.e2e.processes import Deployment, token
from tests.support import sqlite_url

from bench import procs, report
from twilio_emulator import EmulatorServer, EmulatorState

START = "<!-- bench.console: start -->"
END = "<!-- bench.console: end -->"
STATUS = "/clienteling/onboarding-status"
CHROMIUM = "/usr/bin/chromium"
COUNTRIES = [
    "US", "GB", "DE", "FR", "ES", "IT", "NL", "BE", "AT", "CH", "SE", "DK", "NO", "FI", "IE",
    "PT", "PL", "CZ", "HU", "GR", "CA", "AU", "NZ", "JP", "KR", "SG", "HK", "MX", "BR", "ZA",
]  # fmt: skip


def _wire_bytes(client: httpx.Client, headers: dict[str, str]) -> tuple[int, int]:
    """(bytes on the wire, bytes of the document) of one status read, gzip accepted."""
    request = client.build_request("GET", STATUS, headers={**headers, "Accept-Encoding": "gzip"})
    response = client.send(request, stream=True)
    try:
        wire = sum(len(chunk) for chunk in response.iter_raw())
        assert response.headers.get("content-encoding") == "gzip", response.headers
    finally:
        response.close()
    plain = len(client.get(STATUS, headers={**headers, "Accept-Encoding": "identity"}).content)
    return wire, plain


def _not_modified_ms(client: httpx.Client, headers: dict[str, str], polls: int) -> list[float]:
    tag = client.get(STATUS, headers=headers).headers["ETag"]
    times = []
    for _ in range(polls):
        started = time.perf_counter()
        response = client.get(STATUS, headers={**headers, "If-None-Match": tag})
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 304, response.status_code
    return times


def _first_render_ms(base_url: str, tenant: str, count: int, runs: int = 3) -> list[float]:
    """From the Sign in click to the table showing every store (the home rendered)."""
    from playwright.sync_api import expect, sync_playwright

    times = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--headless"])
        try:
            for _ in range(runs):
                page = browser.new_page(viewport={"width": 1280, "height": 800})
                page.goto(f"{base_url}/console/")
                page.get_by_label("Tenant").fill(tenant)
                page.get_by_label("Bearer token").fill(token(tenant))
                started = time.perf_counter()
                page.get_by_role("button", name="Sign in").click()
                expect(page.locator("#store-count")).to_have_text(
                    f"{count} of {count} stores", timeout=60_000
                )
                times.append((time.perf_counter() - started) * 1000)
                page.close()
        finally:
            browser.close()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stores", type=int, default=10_000)
    parser.add_argument("--polls", type=int, default=200)
    parser.add_argument("--output", default=str(procs.ROOT / "docs" / "performance.md"))
    args = parser.parse_args()
    started, machine = datetime.now(UTC), report.machine()
    tenant = "bench"
    with tempfile.TemporaryDirectory(prefix="bench-console-") as tmp:
        root = Path(tmp)
        emulator = EmulatorServer(EmulatorState(seed=17), port=0).start()
        try:
            deployment = Deployment(sqlite_url(root), emulator, root)
            deployment.run("migrate")
            path = root / "stores.csv"
            with path.open("w", newline="") as handle:
                writer = csv.writer(handle)
                writer.writerow(["id", "name", "country_code"])
                writer.writerows(
                    (f"s{i:05d}", f"Store #{i}", COUNTRIES[i % len(COUNTRIES)])
                    for i in range(args.stores)
                )
            deployment.run("stores", "import", str(path), "--tenant", tenant)
            with deployment.start_server("console") as server:
                headers = {"Authorization": f"Bearer {token(tenant)}", "Tenant": tenant}
                with httpx.Client(base_url=server.base_url, timeout=60) as client:
                    client.get(STATUS, headers=headers)  # warm: the document is cached
                    wire, plain = _wire_bytes(client, headers)
                    polls = _not_modified_ms(client, headers, args.polls)
                renders = _first_render_ms(server.base_url, tenant, args.stores)
        finally:
            emulator.stop()
    p50 = statistics.median(polls)
    p95 = sorted(polls)[int(len(polls) * 0.95) - 1]
    render_ms = statistics.median(renders)
    rows = [
        ("Time to first render (Sign in to the table, median of 3)", f"{render_ms:.0f} ms"),
        ("Status document, uncompressed", f"{plain / 1024:.0f} KiB"),
        ("Status on the wire, gzip", f"{wire / 1024:.0f} KiB ({plain / wire:.1f}x smaller)"),
        (f"304 Not Modified poll, p50 of {len(polls)}", f"{p50:.1f} ms"),
        (f"304 Not Modified poll, p95 of {len(polls)}", f"{p95:.1f} ms"),
    ]
    table = ["| Figure | Value |", "|---|---|", *(f"| {name} | {value} |" for name, value in rows)]
    section = "\n".join(
        [
            START,
            f"## Console at {args.stores:,} stores (bench.console)",
            "",
            f"Measured {started:%Y-%m-%d %H:%M} UTC on {machine}. "
            f"`python -m bench.console --stores {args.stores} --polls {args.polls}`: one "
            "`serve` process on SQLite, headless Chromium.",
            "",
            *table,
            END,
        ]
    )
    print("\n".join(table))
    report.write_section(Path(args.output), section, START, END)
    print(f"written to {args.output}")


if __name__ == "__main__":
    main()
