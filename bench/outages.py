"""Outages: what callers get while a dependency is down, and how soon the service recovers.

    .venv/bin/python -m bench.outages [--quick] [--json out.json]

Each scenario of `OUTAGES` starts two `clienteling-setup serve` processes on one PostgreSQL
database and one Twilio emulator process, reached through TCP proxies (`tests/tcp_proxy.py`,
the one the tests cut), runs the mixed workload of `bench.load_cluster`, and cuts one proxy for
a while in the middle of it: connections to that dependency are refused and open ones dropped.
Per scenario: the answers to requests sent while it was down (503 with Retry-After, other 5xx,
the rest), 5xx answers to requests sent after it came back, the recovery time (from the
dependency's return to the first success, on every server, of a request that needs it), and,
once every onboarding the clients started was sent again (what a client does with a 503),
duplicate and orphan numbers in the emulator. `bench.reliability_report` writes the table into
docs/reliability.md.

To add a dependency: give `Cuts` a proxy for it, wire the cluster through it, add an `Outage`.
"""

from __future__ import annotations

import argparse
import json
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx
from tests.tcp_proxy import TcpProxy

from bench.load_cluster import WEIGHTS, Workload, cluster
from clienteling_setup.status.fragments import NUMBER_READY

ALL_OPERATIONS = frozenset(WEIGHTS)


@dataclass
class Cuts:
    """The proxies a cluster's dependencies are reached through."""

    database: TcpProxy | None = None
    twilio: TcpProxy | None = None

    def database_via(self, url: str) -> str:
        self.database = TcpProxy("127.0.0.1", 5432).start()
        return self.database.url_for(url)

    def twilio_via(self, base_url: str) -> str:
        self.twilio = TcpProxy("127.0.0.1", urlsplit(base_url).port or 80).start()
        return f"http://127.0.0.1:{self.twilio.port}"

    def stop(self) -> None:
        for proxy in (self.database, self.twilio):
            if proxy is not None:
                proxy.stop()


@dataclass(frozen=True)
class Outage:
    dependency: str
    how: str
    proxy: Callable[[Cuts], TcpProxy | None]
    #: The workload's operations that need the dependency (what "recovered" waits for).
    needs: frozenset[str]


OUTAGES: list[Outage] = [
    Outage(
        "database (PostgreSQL)",
        "proxy cut: new connections refused, open ones dropped mid-request",
        lambda cuts: cuts.database,
        ALL_OPERATIONS,
    ),
    Outage(
        "Twilio",
        "proxy to the Twilio emulator cut: connections refused",
        lambda cuts: cuts.twilio,
        frozenset({"onboard", "available numbers"}),
    ),
]


@dataclass(frozen=True)
class Answer:
    operation: str
    server: str
    sent: float
    answered: float
    status: int  # 0: no answer (the connection failed)
    retry_after: bool


class RecordingWorkload(Workload):
    """The load run's workload, keeping when each answer was sent and received."""

    def __init__(self, urls: list[str], stores: int) -> None:
        super().__init__(urls, stores)
        self.answers: list[Answer] = []

    def _timed(
        self, operation: str, client: httpx.Client, method: str, path: str, **kw: Any
    ) -> httpx.Response:
        server, sent = str(client.base_url), time.monotonic()
        try:
            response = client.request(method, path, **kw)
        except httpx.HTTPError:  # no answer at all: counted, and the client goes on
            self._keep(Answer(operation, server, sent, time.monotonic(), 0, False))
            return httpx.Response(599)
        answered = time.monotonic()
        self.results.add(operation, answered - sent, response.status_code)
        retry_after = "retry-after" in response.headers
        self._keep(Answer(operation, server, sent, answered, response.status_code, retry_after))
        return response

    def _untimed(self, operation: str, client: httpx.Client, path: str) -> httpx.Response:
        # The number list an onboarding fetches first needs the dependency too: count it.
        return self._timed(operation, client, "GET", path)

    def _keep(self, answer: Answer) -> None:
        with self.lock:
            self.answers.append(answer)


@dataclass
class Observed:
    dependency: str
    how: str
    down_s: float
    during: Counter[str] = field(default_factory=Counter)
    server_errors_after: int = 0
    recovery_s: float | None = None
    retried: Counter[int] = field(default_factory=Counter)
    duplicate_numbers: int = 0
    orphan_numbers: int = 0

    def row(self) -> dict[str, Any]:
        return {
            "dependency": self.dependency,
            "how": self.how,
            "down_s": self.down_s,
            "during": dict(self.during),
            "server_errors_after": self.server_errors_after,
            "recovery_s": self.recovery_s,
            "retried": {str(k): v for k, v in sorted(self.retried.items())},
            "duplicate_numbers": self.duplicate_numbers,
            "orphan_numbers": self.orphan_numbers,
        }


def classify(answer: Answer) -> str:
    if answer.status == 503 and answer.retry_after:
        return "503 with Retry-After"
    if answer.status >= 500 or answer.status == 0:
        return "other 5xx or no answer"
    return "2xx" if answer.status < 300 else "4xx"


def run_outage(
    outage: Outage, *, duration: float, down: float, clients: int, stores: int
) -> Observed:
    cuts = Cuts()
    try:
        with cluster(database_via=cuts.database_via, twilio_via=cuts.twilio_via) as (
            urls,
            emulator_url,
        ):
            proxy = outage.proxy(cuts)
            assert proxy is not None, f"no proxy in front of {outage.dependency}"
            workload = RecordingWorkload(urls, stores)
            workload.setup()
            window: dict[str, float] = {}

            def cut_then_restore() -> None:
                time.sleep((duration - down) / 3)
                window["cut"] = time.monotonic()
                proxy.cut()
                time.sleep(down)
                proxy.restore()
                window["restored"] = time.monotonic()

            cutter = threading.Thread(target=cut_then_restore)
            cutter.start()
            workload.run(clients, duration, seed=11)
            cutter.join()
            observed = observe(outage, workload.answers, window["cut"], window["restored"])
            retry_started_onboardings(workload, urls[0], observed)
            count_numbers(workload, urls[0], emulator_url, observed)
            return observed
    finally:
        cuts.stop()


def observe(outage: Outage, answers: list[Answer], cut: float, restored: float) -> Observed:
    observed = Observed(outage.dependency, outage.how, round(restored - cut, 1))
    for answer in answers:
        if cut <= answer.sent < restored:
            observed.during[classify(answer)] += 1
        elif answer.sent >= restored and (answer.status >= 500 or answer.status == 0):
            observed.server_errors_after += 1
    firsts = []
    for server in {a.server for a in answers}:
        ok = [
            a.answered
            for a in answers
            if a.server == server
            and a.operation in outage.needs
            and a.sent >= restored
            and 200 <= a.status < 300
        ]
        if not ok:
            return observed  # a server never recovered: no recovery time
        firsts.append(min(ok))
    observed.recovery_s = round(max(firsts) - restored, 2) if firsts else None
    return observed


def retry_started_onboardings(workload: Workload, url: str, observed: Observed) -> None:
    """What a client does with a 503: the same request again."""
    with httpx.Client(base_url=url, headers=workload.headers, timeout=60) as client:
        for store, body in dict(workload.started).items():
            response = client.post(f"/clienteling/stores/{store}/onboard", json=body)
            observed.retried[response.status_code] += 1


def count_numbers(workload: Workload, url: str, emulator_url: str, observed: Observed) -> None:
    with httpx.Client(base_url=url, headers=workload.headers, timeout=60) as client:
        status = client.get("/clienteling/onboarding-status").json()
    snapshot = httpx.get(f"{emulator_url}/_emulator/state", timeout=60).json()
    owned = [n["phone_number"] for n in snapshot["numbers"].get(status["twilio"]["sid"], [])]
    onboarded = {
        s["phone_number"]
        for s in status["stores"]
        if s["channels"]["sms"]["status"] in NUMBER_READY
    }
    observed.duplicate_numbers = len(owned) - len(set(owned))
    observed.orphan_numbers = len(set(owned) - onboarded)


def measure_outages(*, quick: bool = False, clients: int = 8) -> dict[str, Any]:
    # Enough stores that onboardings failing fast during an outage (each takes the next
    # store) leave stores for the ones after it.
    duration, down = (15.0, 5.0) if quick else (40.0, 10.0)
    rows = [
        run_outage(o, duration=duration, down=down, clients=clients, stores=1000).row()
        for o in OUTAGES
    ]
    return {"duration_s": duration, "down_s": down, "clients": clients, "rows": rows}


def render_section(figures: dict[str, Any]) -> list[str]:
    """The "Outages" section of docs/reliability.md."""
    lines = [
        "## Outages",
        "",
        f"`python -m bench.outages`: for each dependency, two `clienteling-setup serve` "
        f"processes on one PostgreSQL database and one Twilio emulator process, each reached "
        f"through a TCP proxy; {figures['clients']} clients run the load workload above for "
        f"{figures['duration_s']:g} s and the dependency's proxy is cut for "
        f"{figures['down_s']:g} s in the middle. *During* counts the answers to requests sent "
        "while it was down; *recovery* is the time from its return to the first success, on "
        "every server, of a request that needs it; then every onboarding the clients started "
        "is sent once more (what a client does with a 503) and the emulator's numbers are "
        "counted: a duplicate is a number bought twice, an orphan a number no onboarded store "
        "holds. A 2xx during a Twilio outage is a read served from the list cache or one the "
        "gateway's retries (GETs and idempotent writes, with backoff) carried past the outage; a "
        "purchase is never retried by the gateway.",
        "",
        "| dependency | outage | during: 503 with Retry-After | during: other 5xx or no "
        "answer | during: 2xx | during: 4xx | 5xx after | recovery | onboardings sent again "
        "| duplicate / orphan numbers |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for row in figures["rows"]:
        during = row["during"]
        recovery = "never" if row["recovery_s"] is None else f"{row['recovery_s']:g} s"
        retried = ", ".join(f"{k}: {v}" for k, v in row["retried"].items()) or "none"
        lines.append(
            f"| {row['dependency']} | {row['how']}, {row['down_s']:g} s "
            f"| {during.get('503 with Retry-After', 0)} "
            f"| {during.get('other 5xx or no answer', 0)} | {during.get('2xx', 0)} "
            f"| {during.get('4xx', 0)} "
            f"| {row['server_errors_after']} | {recovery} | {retried} "
            f"| {row['duplicate_numbers']} / {row['orphan_numbers']} |"
        )
    lines.append("")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="15 s runs, 5 s outages")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()
    figures = measure_outages(quick=args.quick, clients=args.clients)
    print("\n".join(render_section(figures)))
    if args.json:
        with open(args.json, "w") as out:
            json.dump(figures, out, indent=2)


if __name__ == "__main__":
    main()
