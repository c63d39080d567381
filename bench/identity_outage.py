"""Identity-provider outage: what callers get while the JWKS endpoint stalls.

    .venv/bin/python -m bench.identity_outage [--quick] [--json out.json]

A `clienteling-setup serve` process (SQLite, the Twilio emulator in a process of its own)
checks RS256 tokens against a JWKS endpoint served by this script, which can stall: accept the
connection and never answer. Concurrent clients send authenticated requests and a prober asks
`/healthz` every 100 ms, in two scenarios:

- **cold**: the provider stalls before the service has fetched any key (a restart during the
  outage). Requests can only answer 503 with Retry-After; then the provider comes back and the
  recovery time is from its return to the first 200.
- **warm**: the service holds the keys, and the provider stalls for longer than the keys'
  lifetime (5 s here). The last good keys go on being served while the refresh hangs.

Per scenario: the answers by class, their latency, `/healthz` latency, and how many JWKS
fetches the service started (at most one per refresh interval). `bench.reliability_report`
writes the table into docs/reliability.md.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

from bench.procs import database, emulator, server

ISSUER = AUDIENCE = "clienteling-setup"
CLIENTS = 8
TIMEOUT_S = 3.0  # the service's JWKS fetch timeout (its default)
REFRESH_INTERVAL_S = 10.0  # at most one fetch per this long (the default)


@dataclass
class IdentityProvider:
    """A JWKS endpoint on loopback that serves one RS256 key, or stalls."""

    key: rsa.RSAPrivateKey = field(
        default_factory=lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048)
    )
    stalled: threading.Event = field(default_factory=threading.Event)
    released: threading.Event = field(default_factory=threading.Event)
    hits: int = 0
    port: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/.well-known/jwks.json"

    def token(self) -> str:
        claims = {"sub": "bench", "tenants": ["bench"], "iss": ISSUER, "aud": AUDIENCE}
        claims["exp"] = int(time.time()) + 3600  # type: ignore[assignment]
        return jwt.encode(claims, self.key, algorithm="RS256", headers={"kid": "bench-key"})

    def document(self) -> bytes:
        jwk: dict[str, Any] = jwt.algorithms.RSAAlgorithm.to_jwk(
            self.key.public_key(), as_dict=True
        )
        return json.dumps({"keys": [{**jwk, "kid": "bench-key", "use": "sig"}]}).encode()

    def stall(self) -> None:
        self.released = threading.Event()
        self.stalled.set()

    def resume(self) -> None:
        self.stalled.clear()
        self.released.set()


@contextmanager
def identity_provider() -> Iterator[IdentityProvider]:
    provider = IdentityProvider()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the standard library's name
            provider.hits += 1
            if provider.stalled.is_set():
                provider.released.wait(120)
                return
            body = provider.document()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    provider.port = int(httpd.server_address[1])
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield provider
    finally:
        provider.resume()
        httpd.shutdown()
        httpd.server_close()


@dataclass
class Traffic:
    """Authenticated requests from `CLIENTS` threads and a /healthz prober, until stopped."""

    base_url: str
    token: str
    answers: list[tuple[float, float, int, bool]] = field(default_factory=list)
    health: list[float] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def run(self) -> list[threading.Thread]:
        threads = [threading.Thread(target=self._client, daemon=True) for _ in range(CLIENTS)]
        threads.append(threading.Thread(target=self._prober, daemon=True))
        for thread in threads:
            thread.start()
        return threads

    def _client(self) -> None:
        headers = {"Authorization": f"Bearer {self.token}", "Tenant": "bench"}
        with httpx.Client(base_url=self.base_url, headers=headers, timeout=30) as client:
            while not self.stop.is_set():
                sent = time.monotonic()
                try:
                    response = client.get("/clienteling/stores")
                    status, retry = response.status_code, "retry-after" in response.headers
                except httpx.HTTPError:
                    status, retry = 0, False
                with self.lock:
                    self.answers.append((sent, time.monotonic(), status, retry))
                if status != 200:
                    time.sleep(0.05)  # a client backs off a little after an error

    def _prober(self) -> None:
        with httpx.Client(base_url=self.base_url, timeout=30) as client:
            while not self.stop.is_set():
                sent = time.monotonic()
                client.get("/healthz").raise_for_status()
                with self.lock:
                    self.health.append(time.monotonic() - sent)
                time.sleep(0.1)


def _ms(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000, 1)


def _scenario(
    name: str, provider: IdentityProvider, base_url: str, stall_s: float, *, warm: bool
) -> dict[str, Any]:
    traffic = Traffic(base_url, provider.token())
    if warm:
        with httpx.Client(base_url=base_url, timeout=30) as client:
            warmed = client.get(
                "/clienteling/stores",
                headers={"Authorization": f"Bearer {traffic.token}", "Tenant": "bench"},
            )
            warmed.raise_for_status()
    hits_before = provider.hits
    provider.stall()
    started = time.monotonic()
    threads = traffic.run()
    time.sleep(stall_s)
    resumed = time.monotonic()
    fetches = provider.hits - hits_before
    provider.resume()
    deadline = resumed + REFRESH_INTERVAL_S + TIMEOUT_S + 10
    recovered: float | None = None
    while recovered is None and time.monotonic() < deadline:
        with traffic.lock:
            ok = [done for sent, done, status, _ in traffic.answers if status == 200]
        later = [done for done in ok if done >= resumed]
        if later:
            recovered = min(later) - resumed
        time.sleep(0.05)
    traffic.stop.set()
    for thread in threads:
        thread.join(timeout=30)
    during = [a for a in traffic.answers if a[0] < resumed]
    classes: Counter[str] = Counter()
    for _, _, status, retry in during:
        classes["503 with Retry-After" if status == 503 and retry else str(status)] += 1
    latencies = [done - sent for sent, done, _, _ in during]
    health = traffic.health
    return {
        "scenario": name,
        "stalled_s": round(resumed - started, 1),
        "requests": len(during),
        "answers": dict(classes),
        "p50_ms": _ms(latencies, 0.5),
        "p99_ms": _ms(latencies, 0.99),
        "healthz_probes": len(health),
        "healthz_p50_ms": _ms(health, 0.5),
        "healthz_max_ms": round(max(health, default=0.0) * 1000, 1),
        "healthz_mean_ms": round(statistics.fmean(health) * 1000, 1) if health else 0.0,
        "jwks_fetches": fetches,
        "recovery_s": None if warm or recovered is None else round(recovered, 2),
    }


def measure_identity_outage(quick: bool = False) -> dict[str, Any]:
    """Both scenarios, each against a fresh server process; returns the figures."""
    stall_s = 15.0 if quick else 30.0
    load_average = os.getloadavg()
    results = []
    with tempfile.TemporaryDirectory(prefix="clienteling-idp-") as tmp:
        workdir = Path(tmp)
        with emulator(workdir) as emu, identity_provider() as provider:
            for name, warm, cache_s in (("cold", False, 300), ("warm", True, 5)):
                env = {
                    "CLIENTELING_JWT__ALGORITHM": "RS256",
                    "CLIENTELING_JWT__JWKS_URL": provider.url,
                    "CLIENTELING_JWT__JWKS_CACHE_SECONDS": str(cache_s),
                    "CLIENTELING_JWT__JWKS_TIMEOUT_SECONDS": str(TIMEOUT_S),
                    "CLIENTELING_JWT__JWKS_REFRESH_INTERVAL_SECONDS": str(REFRESH_INTERVAL_S),
                    "CLIENTELING_LOG_LEVEL": "ERROR",
                }
                with (
                    database("sqlite", workdir, f"idp-{name}") as url,
                    server(workdir, url, emu, extra_env=env) as srv,
                ):
                    results.append(_scenario(name, provider, srv.base_url, stall_s, warm=warm))
    return {
        "clients": CLIENTS,
        "timeout_s": TIMEOUT_S,
        "refresh_interval_s": REFRESH_INTERVAL_S,
        "load_average": [round(x, 1) for x in load_average],
        "scenarios": results,
    }


def render_section(figures: dict[str, Any]) -> list[str]:
    """The report's lines for the identity-provider outage (Markdown)."""
    lines = [
        "### Identity provider (JWKS) stalls",
        "",
        "`python -m bench.identity_outage`: one `clienteling-setup serve` process checks RS256 "
        "tokens against a JWKS endpoint that accepts connections and never answers; "
        f"{figures['clients']} clients send authenticated requests (`GET /clienteling/stores`) "
        "and a prober asks `/healthz` every 100 ms. The service gives up on a fetch after "
        f"{figures['timeout_s']:g} s and starts at most one per {figures['refresh_interval_s']:g}"
        " s. *Cold*: the provider stalls before the service fetched any key (a restart during "
        "the outage); recovery is from the provider's return to the first 200. *Warm*: the "
        "service holds the keys and the provider stalls for longer than their lifetime (5 s): "
        "the last good keys are served while the refresh hangs. Load average at the start: "
        + "/".join(f"{x:g}" for x in figures["load_average"])
        + ".",
        "",
        "| scenario | stalled | requests | answers | p50 / p99 ms | /healthz probes | "
        "/healthz p50 / max ms | JWKS fetches | recovery |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for row in figures["scenarios"]:
        answers = ", ".join(f"{k}: {v}" for k, v in sorted(row["answers"].items()))
        recovery = "—" if row["recovery_s"] is None else f"{row['recovery_s']} s"
        lines.append(
            f"| {row['scenario']} | {row['stalled_s']} s | {row['requests']} | {answers} | "
            f"{row['p50_ms']} / {row['p99_ms']} | {row['healthz_probes']} | "
            f"{row['healthz_p50_ms']} / {row['healthz_max_ms']} | {row['jwks_fetches']} | "
            f"{recovery} |"
        )
    lines.append("")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="15 s stalls instead of 30 s")
    parser.add_argument("--json", type=Path, help="also write the figures as JSON")
    args = parser.parse_args()
    figures = measure_identity_outage(quick=args.quick)
    print("\n".join(render_section(figures)))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
