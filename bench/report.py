"""The Markdown report: one table per measurement, each figure beside its same-run reference."""

from __future__ import annotations

import os
import platform
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from bench.lists import ListResult
from bench.onboarding import BulkResult
from bench.status import StatusResult

# Targets of issue 8.
STATUS_RATIO_AT_2000 = 3.0
STATUS_P50_AT_10000_MS = 250.0
CACHED_LIST_P50_MS = 5.0
BULK_SPEEDUP = 8.0
RSS_MB = 200.0


@dataclass
class Run:
    started: datetime
    machine: str
    command: str
    status: list[StatusResult] = field(default_factory=list)
    rss_kb: dict[str, dict[str, int]] = field(default_factory=dict)
    lists: list[ListResult] = field(default_factory=list)
    bulk: dict[str, list[BulkResult]] = field(default_factory=dict)


def machine() -> str:
    cpu = "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory = ""
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        total_kb = int(meminfo.read_text().split()[1])
        memory = f", {total_kb / 1024 / 1024:.0f} GB RAM"
    one, five, fifteen = os.getloadavg()
    load = f", load average {one:.1f}/{five:.1f}/{fifteen:.1f} at start"
    return (
        f"{platform.node()}: {os.cpu_count()} x {cpu}{memory}, "
        f"{platform.system()} {platform.release()}, Python {platform.python_version()}{load}"
    )


def _ms(value: float) -> str:
    return f"{value:.1f}"


def mark(ok: bool) -> str:
    """A target's verdict in the reports' tables."""
    return "yes" if ok else "**no**"


def render(run: Run) -> str:
    out = [
        "# Performance",
        "",
        f"Measured {run.started:%Y-%m-%d %H:%M} UTC on {run.machine}.",
        f"Command: `.venv/bin/{run.command}` (see README, Benchmarks). Every figure comes from",
        "one run: the service, the Twilio emulator and each load generator are separate",
        "processes on loopback; absolute times on a shared machine are noisy, so each status",
        "figure stands next to the baseline route measured in the same server a moment later.",
        "",
        "## Status read (GET /clienteling/onboarding-status)",
        "",
        "One client, keep-alive, back to back (latency to the last byte). Baseline: a",
        "benchmark-only route in the same server (same middleware, authentication and thread",
        "pool) returning a pre-serialised JSON document of the same size.",
        "",
        "| backend | stores | document | status p50 ms | p99 ms | req/s | baseline p50 ms "
        "| p99 ms | req/s | ratio p50 | Twilio calls |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in run.status:
        out.append(
            f"| {r.backend} | {r.stores:,} | {r.bytes / 1024:,.0f} KiB | {_ms(r.status['p50_ms'])} "
            f"| {_ms(r.status['p99_ms'])} | {r.status['rps']:.1f} | {_ms(r.baseline['p50_ms'])} "
            f"| {_ms(r.baseline['p99_ms'])} | {r.baseline['rps']:.1f} | {r.ratio:.1f}x "
            f"| {r.twilio_calls} |"
        )
    out += ["", "## Server memory", ""]
    out += ["| backend | RSS after the 10,000-store run MB | peak RSS (VmHWM) MB |"]
    out += ["| --- | ---: | ---: |"]
    for backend, mem in run.rss_kb.items():
        out.append(
            f"| {backend} | {mem.get('VmRSS', 0) / 1024:.0f} | {mem.get('VmHWM', 0) / 1024:.0f} |"
        )
    if run.lists:
        out += [
            "",
            "## Lists, Twilio 100 ms away (emulator latency)",
            "",
            "First call: a cold cache. Cached: p50 over back-to-back calls after it.",
            "",
            "| list | items | first call ms | Twilio calls of the first call | cached p50 ms "
            "| cached p99 ms |",
            "| --- | ---: | ---: | --- | ---: | ---: |",
        ]
        for item in run.lists:
            calls = "<br>".join(item.first_twilio_calls) or "none"
            out.append(
                f"| {item.name} | {item.items} | {_ms(item.first_ms)} "
                f"| {len(item.first_twilio_calls)}: {calls} | {_ms(item.cached['p50_ms'])} "
                f"| {_ms(item.cached['p99_ms'])} |"
            )
    if run.bulk:
        out += [
            "",
            "## Bulk onboarding, Twilio 50 ms away per call",
            "",
            "POST /clienteling/stores/{id}/onboard for every store (US, CA and six bundle",
            "countries). The concurrent run also repeats every tenth request right behind the",
            "first (200 or 409 expected); duplicates = numbers bought beyond one per store.",
            "",
            "| backend | run | stores | clients | wall s | stores/s | speed-up | onboarded "
            "| numbers bought | duplicate purchases | statuses |",
            "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
        ]
        for backend, results in run.bulk.items():
            sequential = next((b for b in results if b.clients == 1), None)
            for b in results:
                speedup = sequential.wall_s / b.wall_s if sequential else float("nan")
                statuses = ", ".join(f"{k}: {v}" for k, v in sorted(b.statuses.items()))
                out.append(
                    f"| {backend} | {b.mode} | {b.stores} | {b.clients} | {b.wall_s:.1f} "
                    f"| {b.stores / b.wall_s:.1f} | {speedup:.1f}x | {b.onboarded} "
                    f"| {b.purchases} | {b.duplicate_purchases} | {statuses} |"
                )
    out += ["", "## Targets", "", "| target | result | met |", "| --- | --- | --- |"]
    out += _targets(run)
    out.append("")
    return "\n".join(out)


def _targets(run: Run) -> list[str]:
    rows: list[str] = []
    for r in run.status:
        if r.stores == 2_000:
            ok = r.ratio <= STATUS_RATIO_AT_2000 and r.twilio_calls == 0
            rows.append(
                f"| status at 2,000 stores <= {STATUS_RATIO_AT_2000:.0f}x baseline p50, no "
                f"Twilio call ({r.backend}) | {r.ratio:.1f}x, {r.twilio_calls} calls "
                f"| {mark(ok)} |"
            )
        if r.stores == 10_000:
            p50 = float(r.status["p50_ms"])
            rows.append(
                f"| status at 10,000 stores < {STATUS_P50_AT_10000_MS:.0f} ms p50 ({r.backend}) "
                f"| {_ms(p50)} ms | {mark(p50 < STATUS_P50_AT_10000_MS)} |"
            )
    for backend, mem in run.rss_kb.items():
        peak = mem.get("VmHWM", 0) / 1024
        rows.append(
            f"| server RSS < {RSS_MB:.0f} MB at 10,000 stores ({backend}) | peak {peak:.0f} MB "
            f"| {mark(peak < RSS_MB)} |"
        )
    for item in run.lists:
        p50 = float(item.cached["p50_ms"])
        rows.append(
            f"| {item.name}: cached < {CACHED_LIST_P50_MS:.0f} ms p50, first call one Twilio "
            f"round trip | {_ms(p50)} ms, {len(item.first_twilio_calls)} call(s) "
            f"| {mark(p50 < CACHED_LIST_P50_MS and len(item.first_twilio_calls) == 1)} |"
        )
    for backend, results in run.bulk.items():
        sequential = next((b for b in results if b.clients == 1), None)
        concurrent = next((b for b in results if b.clients > 1), None)
        if sequential and concurrent:
            speedup = sequential.wall_s / concurrent.wall_s
            duplicates = sum(b.duplicate_purchases for b in results)
            ok = speedup >= BULK_SPEEDUP and duplicates == 0
            rows.append(
                f"| bulk onboarding >= {BULK_SPEEDUP:.0f}x sequential, no duplicate purchase "
                f"({backend}) | {speedup:.1f}x, {duplicates} duplicates | {mark(ok)} |"
            )
    return rows


def section_of(text: str, start: str, end: str) -> str:
    """The section between the markers `start` and `end` of `text` (a performance report),
    with a blank line before it, or "" when it has none."""
    if start not in text or end not in text:
        return ""
    return "\n" + start + text.split(start, 1)[1].split(end, 1)[0] + end + "\n"


def write_section(path: Path, section: str, start: str, end: str) -> None:
    """Replace the section between `start` and `end` of the file (or append it), keeping the
    rest."""
    text = path.read_text() if path.exists() else ""
    if start in text and end in text:
        before, rest = text.split(start, 1)
        after = rest.split(end, 1)[1].lstrip("\n")
        text = before + section + ("\n" + after if after else "")
    else:
        text = text.rstrip("\n") + "\n\n" + section
    path.write_text(text)
