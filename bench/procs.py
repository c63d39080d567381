"""Processes of a benchmark run: the Twilio emulator, the service, the load generator."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psycopg

from bench import emulator as bench_emulator
from clienteling_setup.auth.tokens import issue_token

ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN_DSN = "postgresql://postgres@127.0.0.1:5432/test"
JWT_SECRET = "benchmark-signing-secret-that-is-long-enough-for-hs256"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait(url: str, proc: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{url}: the process exited with {proc.returncode}")
        try:
            if httpx.get(url, timeout=1).status_code < 500:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not come up")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@dataclass
class Emulator:
    proc: subprocess.Popen[bytes]
    base_url: str

    def admin(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        response = httpx.request(method, f"{self.base_url}/_emulator{path}", json=body, timeout=60)
        response.raise_for_status()
        return response.json()

    def set_latency(self, seconds: float) -> None:
        self.admin("POST", "/latency", {"seconds": seconds})

    def requests(self, path: str | None = None) -> list[dict[str, Any]]:
        query = f"?path={path}" if path else ""
        found: list[dict[str, Any]] = self.admin("GET", f"/requests{query}")["requests"]
        return found

    def clear_requests(self) -> None:
        self.admin("DELETE", "/requests")

    def stop(self) -> None:
        _stop(self.proc)


@contextmanager
def emulator(workdir: Path) -> Iterator[Emulator]:
    port = free_port()
    log = (workdir / "emulator.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "bench.emulator", "--port", str(port)],
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    emu = Emulator(proc, f"http://127.0.0.1:{port}")
    try:
        _wait(f"{emu.base_url}/_emulator/faults", proc)
        yield emu
    finally:
        emu.stop()
        log.close()


@dataclass
class Server:
    proc: subprocess.Popen[bytes]
    base_url: str
    env: dict[str, str]

    @property
    def pid(self) -> int:
        return self.proc.pid

    def token(self, *tenants: str) -> str:
        return issue_token(
            JWT_SECRET, list(tenants), issuer="clienteling-setup", audience="clienteling-setup"
        )

    def headers(self, tenant: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(tenant)}", "Tenant": tenant}

    def client(self, tenant: str) -> httpx.Client:
        return httpx.Client(base_url=self.base_url, headers=self.headers(tenant), timeout=120)

    def cli(self, *args: str) -> str:
        """Run `clienteling-setup ARGS` against the same configuration."""
        done = subprocess.run(
            [sys.executable, "-m", "clienteling_setup.cli", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            check=True,
        )
        return done.stdout.decode()

    def memory_kb(self) -> dict[str, int]:
        """VmRSS (now) and VmHWM (peak since start) of the server process, in kB."""
        found: dict[str, int] = {}
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                found[key] = int(value.split()[0])
        return found


@contextmanager
def server(
    workdir: Path,
    database_url: str,
    emu: Emulator,
    *,
    extra_env: dict[str, str] | None = None,
    extra_args: tuple[str, ...] = (),
) -> Iterator[Server]:
    port = free_port()
    data_dir = workdir / f"data-{port}"
    data_dir.mkdir(parents=True, exist_ok=True)
    state = bench_emulator.state()
    env = {
        **os.environ,
        "CLIENTELING_DATA_DIR": str(data_dir),
        "CLIENTELING_DATABASE_URL": database_url,
        "CLIENTELING_TWILIO__MODE": "emulator",
        "CLIENTELING_TWILIO__API_BASE_URL": emu.base_url,
        "CLIENTELING_TWILIO__ACCOUNT_SID": state.master_account_sid,
        "CLIENTELING_TWILIO__AUTH_TOKEN": state.master_auth_token,
        "CLIENTELING_JWT__SECRET": JWT_SECRET,
        "CLIENTELING_SYNC_INTERVAL_SECONDS": "0",
        "CLIENTELING_BENCH_BASELINE": "1",
        **(extra_env or {}),
    }
    log = (workdir / f"server-{port}.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "bench.server", "--port", str(port), *extra_args],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    srv = Server(proc, f"http://127.0.0.1:{port}", env)
    try:
        _wait(f"{srv.base_url}/healthz", proc)
        yield srv
    finally:
        _stop(proc)
        log.close()


def load(
    url: str,
    headers: dict[str, str],
    *,
    concurrency: int,
    duration: float,
    min_requests: int,
    warmup: int = 3,
) -> dict[str, Any]:
    """Run bench.load in its own process and return its JSON result."""
    args = [sys.executable, "-m", "bench.load", url]
    for name, value in headers.items():
        args += ["--header", f"{name}: {value}"]
    args += [
        "--concurrency",
        str(concurrency),
        "--duration",
        str(duration),
        "--min-requests",
        str(min_requests),
        "--warmup",
        str(warmup),
    ]
    done = subprocess.run(args, cwd=ROOT, capture_output=True, check=True)
    result: dict[str, Any] = json.loads(done.stdout)
    return result


@contextmanager
def postgres_database() -> Iterator[str]:
    """A fresh PostgreSQL database, dropped afterwards (as tests/support.py does)."""
    name = f"clienteling_bench_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    finally:
        with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def database(backend: str, workdir: Path, name: str) -> Iterator[str]:
    """A fresh database of `backend`: a SQLite file `name` in `workdir`, or a PostgreSQL
    database dropped afterwards."""
    if backend == "sqlite":
        yield f"sqlite:///{workdir / f'{name}.db'}"
    else:
        with postgres_database() as url:
            yield url
