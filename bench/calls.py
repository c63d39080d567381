"""Twilio calls per operation (issue 16): `.venv/bin/python -m bench.calls`.

Enabling a tenant, then one SMS and one WhatsApp onboarding, in a tenant with 0 and with 1,000
numbers (each with a WhatsApp sender) already in its Messaging Service: the cost of one store
must not grow with the tenant. Counted in the emulator's request log, one operation at a time,
against the service and the emulator as processes of their own. It writes its own section of
docs/performance.md (between the markers below), leaving the other sections as they are.
"""

from __future__ import annotations

import argparse
import re
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bench import emulator as bench_emulator
from bench import procs, report
from clienteling_setup.db import migrate
from clienteling_setup.providers.messaging import AccountCredentials, SenderProfile
from clienteling_setup.providers.twilio import TwilioGateway

START = "<!-- bench.calls: start -->"
END = "<!-- bench.calls: end -->"
SIZES = (0, 1_000)
#: Targets of issue 16: calls of one onboarding on its happy path.
SMS_CALLS = 2
WHATSAPP_CALLS = 1
WABA = "1234567890"
_SIDS = re.compile(r"([A-Z]{2})[0-9a-f]{32}")
#: The compliance read (bundles, trust products, their documents) enabling starts.
_COMPLIANCE = re.compile(r"RegulatoryCompliance|TrustProducts|SupportingDocuments")


@dataclass
class CallsResult:
    existing: int
    operation: str
    calls: list[str]  # "METHOD path", SIDs replaced by their prefix

    def summary(self) -> str:
        counted = Counter(self.calls)
        return ", ".join(f"{n} x {call}" if n > 1 else call for call, n in counted.items())


def _calls(emu: procs.Emulator) -> list[str]:
    return [
        f"{r['method']} {_SIDS.sub(lambda m: m.group(1) + '…', r['path'])}" for r in emu.requests()
    ]


def _settled(emu: procs.Emulator) -> list[str]:
    """The calls once no more arrive (enabling's compliance read may outlast its answer)."""
    calls = _calls(emu)
    while True:
        time.sleep(0.5)
        again = _calls(emu)
        if len(again) == len(calls):
            return calls
        calls = again


def _fill(emu: procs.Emulator, subaccount_sid: str, service_sid: str, count: int) -> None:
    """`count` numbers, each with a sender, put in the tenant's Twilio directly (as earlier
    onboardings would have), from the emulator's pool."""
    state = bench_emulator.state()
    gateway = TwilioGateway(
        state.master_account_sid, state.master_auth_token, base_url=emu.base_url
    )
    try:
        sub = gateway.fetch_subaccount(subaccount_sid)
        tenant = AccountCredentials(sub.sid, sub.auth_token)
        # From the end of the pools: the store's own search offers the first numbers.
        pools = [state.pool(iso, kind) for iso in ("US", "CA") for kind in ("local", "toll-free")]
        numbers = [n.phone_number for pool in pools for n in pool]
        free = numbers[len(numbers) - count :]
        assert len(free) == count, "the emulator's pool is too small"
        for phone in free:
            number = gateway.buy_number(tenant, phone, friendly_name=f"earlier {phone}")
            gateway.add_number_to_messaging_service(tenant, service_sid, number.sid)
            gateway.create_sender(
                tenant,
                sender_id=f"whatsapp:{phone}",
                waba_id=WABA,
                profile=SenderProfile(name="Earlier"),
                status_callback_url="http://127.0.0.1:9/unused",
            )
    finally:
        gateway.close()


def measure(srv: procs.Server, emu: procs.Emulator, existing: int) -> list[CallsResult]:
    """Enable a tenant, put `existing` numbers in its service, then onboard one store for SMS
    and WhatsApp; the calls of each operation."""
    tenant = f"bench-calls-{existing}"
    results = []
    with srv.client(tenant) as client:
        emu.clear_requests()
        client.post(
            "/clienteling/configuration", json={"ecom_link": "https://calls.example"}
        ).raise_for_status()
        calls = _settled(emu)
        provisioning = [c for c in calls if not _COMPLIANCE.search(c)]
        results.append(CallsResult(existing, "enable: provisioning", provisioning))
        compliance = [c for c in calls if _COMPLIANCE.search(c)]
        results.append(CallsResult(existing, "enable: first compliance read", compliance))
        twilio = client.get("/clienteling/configuration").json()["twilio"]
        _fill(emu, twilio["sid"], twilio["messaging_service_sid"], existing)
        client.put(
            "/clienteling/stores/calls-1", json={"name": "Calls 1", "country_code": "US"}
        ).raise_for_status()
        number = client.get("/clienteling/stores/calls-1/available-phone-numbers").json()[0]
        emu.clear_requests()
        client.post(
            "/clienteling/stores/calls-1/onboard", json={"phone_number": number["phone_number"]}
        ).raise_for_status()
        results.append(CallsResult(existing, "SMS onboarding", _calls(emu)))
        emu.clear_requests()
        client.post(
            "/clienteling/stores/calls-1/whatsapp/onboard",
            json={"waba_id": WABA, "profile_name": "Calls 1"},
        ).raise_for_status()
        results.append(CallsResult(existing, "WhatsApp onboarding", _calls(emu)))
    return results


def render(results: list[CallsResult], started: datetime, machine: str) -> str:
    operations = list(dict.fromkeys(r.operation for r in results))
    by = {(r.operation, r.existing): r for r in results}
    out = [
        START,
        "## Twilio calls per operation (issue 16)",
        "",
        f"Measured {started:%Y-%m-%d %H:%M} UTC on {machine}.",
        "Command: `.venv/bin/python -m bench.calls`. Each operation's requests in the "
        "emulator's log, the tenant enabled first, then holding 0 or 1,000 numbers (each "
        "with a WhatsApp sender) in its Messaging Service before one store is onboarded.",
        "",
        "| operation | "
        + " | ".join(f"calls at {n:,} existing numbers" for n in SIZES)
        + " | the calls |",
        "| --- | " + " | ".join("---:" for _ in SIZES) + " | --- |",
    ]
    for operation in operations:
        found = [by[(operation, n)] for n in SIZES if (operation, n) in by]
        counts = " | ".join(str(len(r.calls)) for r in found)
        out.append(f"| {operation} | {counts} | {found[-1].summary()} |")
    out += ["", "| target | result | met |", "| --- | --- | --- |"]
    for operation, most in (("SMS onboarding", SMS_CALLS), ("WhatsApp onboarding", WHATSAPP_CALLS)):
        numbers = [len(by[(operation, n)].calls) for n in SIZES if (operation, n) in by]
        ok = len(set(numbers)) == 1 and max(numbers) <= most
        shown = ", ".join(str(c) for c in numbers)
        out.append(
            f"| {operation}: at most {most}, the same at {' and '.join(f'{n:,}' for n in SIZES)} "
            f"existing numbers | {shown} | {report.mark(ok)} |"
        )
    out += ["", END, ""]
    return "\n".join(out)


def section_of(text: str) -> str:
    """This benchmark's section of `text`, with a blank line before it, or ""."""
    return report.section_of(text, START, END)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--output", default=str(procs.ROOT / "docs" / "performance.md"))
    args = parser.parse_args()
    started, machine = datetime.now(UTC), report.machine()
    workdir = Path(tempfile.mkdtemp(prefix="clienteling-calls-"))
    results: list[CallsResult] = []
    with procs.emulator(workdir) as emu, procs.database(args.backend, workdir, "calls") as url:
        migrate.upgrade(url)
        with procs.server(workdir, url, emu) as srv:
            for existing in SIZES:
                print(f"[{args.backend}] calls with {existing:,} existing numbers", flush=True)
                results += measure(srv, emu, existing)
    section = render(results, started, machine)
    print(section)
    report.write_section(Path(args.output), section, START, END)
    print(f"written to {args.output}")


if __name__ == "__main__":
    main()
