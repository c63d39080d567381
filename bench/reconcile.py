"""Reconciliation at platform scale (issue #16, item 4): `python -m bench.reconcile [--quick]`.

1,000 tenants of 100 stores (--quick: 40 of 10) on PostgreSQL, the Twilio emulator in a process
of its own at 100 ms per call. Tenants are enabled through the API (each gets a subaccount with
the emulator's seeded bundles and trust products), their stores inserted straight into the
database, and every bundle and trust product reviewed (final), as on a platform at rest.

Then one reconciliation pass (`clienteling-setup sync`) with one and with two runner processes
at once: once with nothing changed in Twilio, once with 5% of the bundles and trust products
moved back into review. Printed: the wall time of the pass and the Twilio calls per tenant
(all calls, the per-pass subaccount list included; the regulations, read at most hourly, were
read by the set-up's pass), and the most any one
tenant made. Target: nothing changed in under 60 s at no more than 3 calls per tenant.
"""

from __future__ import annotations

import argparse
import random
import subprocess
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, insert, select

from bench import fixtures, procs, report
from clienteling_setup.compliance.models import BundleRecord, TrustProductRecord
from clienteling_setup.compliance.rules import load_rules
from clienteling_setup.db import migrate
from clienteling_setup.stores.models import Store

LATENCY = 0.1
CHANGED_SHARE = 0.05
TARGET_WALL_S = 60.0
TARGET_CALLS = 3
START = "<!-- bench.reconcile: start -->"
END = "<!-- bench.reconcile: end -->"
FINAL = ("twilio-approved", "twilio-rejected")


def _enable(srv: procs.Server, tenant: str) -> str:
    with srv.client(tenant) as client:
        response = client.post(
            "/clienteling/configuration", json={"ecom_link": f"https://www.{tenant}.example"}
        )
        response.raise_for_status()
        # Enabling reads the tenant's bundles and trust products in the background.
        while (
            client.get("/clienteling/onboarding-status").json()["reconciliation"][
                "last_succeeded_at"
            ]
            is None
        ):
            time.sleep(0.1)
        return str(response.json()["twilio"]["sid"])


def _insert_stores(database_url: str, tenants: list[str], stores: int) -> None:
    engine = create_engine(database_url)
    try:
        with engine.begin() as conn:
            for tenant in tenants:
                rows = fixtures.tenant_rows(tenant, stores)["stores"]
                conn.execute(insert(Store), rows)
    finally:
        engine.dispose()


def _resources(database_url: str) -> list[tuple[str, str, str]]:
    """(kind, sid, status) of every bundle and trust product the read model holds."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            bundles = conn.execute(select(BundleRecord.sid, BundleRecord.status)).all()
            products = conn.execute(select(TrustProductRecord.sid, TrustProductRecord.status)).all()
    finally:
        engine.dispose()
    return [("bundles", s, st) for s, st in bundles] + [
        ("trust-products", s, st) for s, st in products
    ]


def _set_status(emu: procs.Emulator, kind: str, sid: str, status: str) -> None:
    emu.admin("POST", f"/{kind}/{sid}/status", {"status": status})


def _pass(srv: procs.Server, runners: int) -> float:
    """One reconciliation pass by `runners` `clienteling-setup sync` processes at once."""
    started = time.perf_counter()
    running = [
        subprocess.Popen(
            [sys.executable, "-m", "clienteling_setup.cli", "sync"],
            cwd=procs.ROOT,
            env=srv.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(runners)
    ]
    outputs = [proc.communicate()[0].decode() for proc in running]
    wall = time.perf_counter() - started
    for output in outputs:
        failed = [line for line in output.splitlines() if line.startswith("failed:")]
        if failed:
            print(f"  ! {len(failed)} tenants failed, e.g. {failed[0]}")
    return wall


def _measure(
    emu: procs.Emulator, srv: procs.Server, accounts: dict[str, str], runners: int, label: str
) -> dict[str, Any]:
    emu.clear_requests()
    emu.set_latency(LATENCY)
    try:
        wall = _pass(srv, runners)
    finally:
        emu.set_latency(0)
    requests = emu.requests()
    per_account = Counter(r.get("account_sid") for r in requests)
    stamps = sorted(datetime.fromisoformat(r["at"]) for r in requests if r.get("at"))
    span = (stamps[-1] - stamps[0]).total_seconds() if stamps else 0.0
    kinds = Counter(f"{r['method']} {_kind(r['path'])}" for r in requests)
    tenants = len(accounts)
    result = {
        "case": label,
        "runners": runners,
        "wall_s": round(wall, 1),
        "twilio_span_s": round(span, 1),
        "calls": len(requests),
        "calls_per_tenant": round(len(requests) / tenants, 2),
        "max_tenant_calls": max(per_account[a] for a in accounts.values()),
    }
    print(
        f"{label:<16} runners={runners}  wall {result['wall_s']:>7.1f} s  "
        f"Twilio calls {result['calls']:>6}  per tenant {result['calls_per_tenant']:>5.2f}  "
        f"most for one tenant {result['max_tenant_calls']}  "
        f"(first to last Twilio call {result['twilio_span_s']:.1f} s)",
        flush=True,
    )
    print("    by call: " + ", ".join(f"{k} {n}" for k, n in kinds.most_common(6)), flush=True)
    return result


def _kind(path: str) -> str:
    """A request path without its SIDs (`/v2/RegulatoryCompliance/Bundles/{sid}/...`)."""
    return "/".join(
        "{sid}" if part[:2].isupper() and len(part) >= 34 else part for part in path.split("/")
    )


def _settle(emu: procs.Emulator, srv: procs.Server, database_url: str) -> None:
    """Every bundle and trust product reviewed (final) in Twilio, and the read model caught
    up (passes at no latency)."""
    _pass(srv, 1)
    pending = [r for r in _resources(database_url) if r[2] not in FINAL]
    with ThreadPoolExecutor(max_workers=16) as pool:
        list(pool.map(lambda r: _set_status(emu, r[0], r[1], "twilio-approved"), pending))
    _pass(srv, 1)


def _change(emu: procs.Emulator, database_url: str, rng: random.Random) -> int:
    """Move 5% of the final bundles and trust products back into review; returns how many."""
    final = [r for r in _resources(database_url) if r[2] in FINAL]
    chosen = rng.sample(final, max(1, round(len(final) * CHANGED_SHARE)))
    with ThreadPoolExecutor(max_workers=16) as pool:
        list(pool.map(lambda r: _set_status(emu, r[0], r[1], "in-review"), chosen))
    return len(chosen)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="40 tenants of 10 stores")
    parser.add_argument("--tenants", type=int, default=None)
    parser.add_argument("--stores", type=int, default=None)
    parser.add_argument("--workdir", default=None, help="keep the logs here")
    parser.add_argument("--output", default=str(procs.ROOT / "docs" / "performance.md"))
    args = parser.parse_args()
    tenant_count = args.tenants or (40 if args.quick else 1000)
    stores = args.stores or (10 if args.quick else 100)
    tenants = [f"retailer-{i:04d}" for i in range(tenant_count)]
    rng = random.Random(16)
    print(
        f"reconciliation: {tenant_count} tenants of {stores} stores, PostgreSQL, "
        f"Twilio {LATENCY * 1000:.0f} ms per call",
        flush=True,
    )
    started, machine = datetime.now(UTC), report.machine()
    with tempfile.TemporaryDirectory(prefix="bench-reconcile-") as tmp:
        workdir = Path(args.workdir or tmp)
        with (
            procs.emulator(workdir) as emu,
            procs.postgres_database() as database_url,
        ):
            migrate.upgrade(database_url)
            with procs.server(workdir, database_url, emu) as srv:
                results = _run(emu, srv, database_url, tenants, stores, rng)
    section = render(results, tenant_count, stores, started, machine)
    print(section)
    report.write_section(Path(args.output), section, START, END)
    print(f"written to {args.output}")


def _run(
    emu: procs.Emulator,
    srv: procs.Server,
    database_url: str,
    tenants: list[str],
    stores: int,
    rng: random.Random,
) -> list[dict[str, Any]]:
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=8) as pool:
        sids = list(pool.map(lambda t: _enable(srv, t), tenants))
    accounts = dict(zip(tenants, sids, strict=True))
    _insert_stores(database_url, tenants, stores)
    _settle(emu, srv, database_url)
    print(f"set-up: {time.perf_counter() - started:.0f} s", flush=True)
    results = [_measure(emu, srv, accounts, runners, "nothing changed") for runners in (1, 2)]
    for runners in (1, 2):
        changed = _change(emu, database_url, rng)
        results.append(_measure(emu, srv, accounts, runners, f"{changed} changed (5%)"))
        _settle(emu, srv, database_url)
    return results


def render(
    results: list[dict[str, Any]], tenants: int, stores: int, started: datetime, machine: str
) -> str:
    out = [
        START,
        "## Reconciliation at platform scale (issue 16)",
        "",
        f"Measured {started:%Y-%m-%d %H:%M} UTC on {machine}.",
        f"Command: `.venv/bin/python -m bench.reconcile`. {tenants:,} tenants of {stores} stores "
        f"on PostgreSQL, every bundle and trust product final (reviewed); Twilio (the emulator, "
        f"a process of its own) {LATENCY * 1000:.0f} ms away per call. One pass of "
        "`clienteling-setup sync` by one runner process, or by two at once; then the same after "
        "5% of the bundles and trust products moved back into review. Calls per tenant: every "
        "Twilio request of the pass (the subaccount list included) over the tenants. Twilio's "
        "regulations are read at most hourly (`CLIENTELING_REGULATIONS_REFRESH_SECONDS`), "
        "across processes: the set-up's first pass read them, so the measured passes do not "
        f"(a pass that does adds one call per supported country, {_countries()} here, "
        "by one runner).",
        "",
        "| case | runners | wall time s | Twilio calls | per tenant | most for one tenant |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in results:
        out.append(
            f"| {r['case']} | {r['runners']} | {r['wall_s']:.1f} | {r['calls']:,} "
            f"| {r['calls_per_tenant']:.2f} | {r['max_tenant_calls']} |"
        )
    out += ["", "| target | result | met |", "| --- | --- | --- |"]
    for r in results:
        if r["case"] == "nothing changed":
            ok = r["wall_s"] < TARGET_WALL_S and r["calls_per_tenant"] <= TARGET_CALLS
            out.append(
                f"| nothing changed, {r['runners']} runner(s): under {TARGET_WALL_S:.0f} s, at "
                f"most {TARGET_CALLS} calls per tenant | {r['wall_s']:.1f} s, "
                f"{r['calls_per_tenant']:.2f} | {report.mark(ok)} |"
            )
    out += ["", END, ""]
    return "\n".join(out)


def _countries() -> int:
    return sum(1 for rule in load_rules().values() if rule.sms_supported)


def section_of(text: str) -> str:
    """This benchmark's section of `text`, with a blank line before it, or ""."""
    return report.section_of(text, START, END)


if __name__ == "__main__":
    main()
