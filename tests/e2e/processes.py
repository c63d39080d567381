"""Real `clienteling-setup` processes for end-to-end tests: servers to start, kill and restart,
and CLI commands, all configured through the environment like production and bounded in time."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from clienteling_setup.auth.tokens import issue_token
from clienteling_setup.crypto import SecretBox
from tests.support import Api, free_port
from twilio_emulator import EmulatorServer

CLI = str(Path(sys.executable).with_name("clienteling-setup"))
JWT_SECRET = "e2e-signing-secret-that-is-long-enough-for-hs256"
START_TIMEOUT = 120.0
COMMAND_TIMEOUT = 120.0


@dataclass
class Deployment:
    """What every process of one deployment shares: database, Twilio (the emulator), keys."""

    database_url: str
    emulator: EmulatorServer
    root: Path
    twilio_timeout: float = 30.0
    encryption_key: str = field(default_factory=SecretBox.generate_key)

    def env(self, name: str) -> dict[str, str]:
        """The environment of one process; `name` gives it its own data folder."""
        state = self.emulator.state
        env = {k: v for k, v in os.environ.items() if not k.startswith("CLIENTELING_")}
        env.update(
            CLIENTELING_DATA_DIR=str(self.root / name),
            CLIENTELING_DATABASE_URL=self.database_url,
            CLIENTELING_TWILIO__MODE="emulator",
            CLIENTELING_TWILIO__API_BASE_URL=self.emulator.base_url,
            CLIENTELING_TWILIO__ACCOUNT_SID=state.master_account_sid,
            CLIENTELING_TWILIO__AUTH_TOKEN=state.master_auth_token,
            CLIENTELING_TWILIO__TIMEOUT_SECONDS=str(self.twilio_timeout),
            CLIENTELING_JWT__SECRET=JWT_SECRET,
            CLIENTELING_ENCRYPTION_KEYS=self.encryption_key,
            CLIENTELING_SYNC_INTERVAL_SECONDS="0",
            CLIENTELING_LOG_LEVEL="WARNING",
        )
        return env

    def run(self, *args: str, name: str = "cli") -> subprocess.CompletedProcess[str]:
        """Run `clienteling-setup ARGS` to completion (bounded); fails the test if it fails."""
        done = subprocess.run(
            [CLI, *args],
            env=self.env(name),
            capture_output=True,
            text=True,
            timeout=COMMAND_TIMEOUT,
            check=False,
        )
        assert done.returncode == 0, f"clienteling-setup {' '.join(args)}: {done.stderr}"
        return done

    def start_server(self, name: str) -> ServerProcess:
        return ServerProcess(name, self.env(name), self.root / f"{name}.log").start()

    def api(self, server: ServerProcess, tenant: str) -> Api:
        client = httpx.Client(base_url=server.base_url, timeout=60)
        return Api(server.base_url, token(tenant), tenant, client)


def token(*tenants: str) -> str:
    return issue_token(
        JWT_SECRET, list(tenants), issuer="clienteling-setup", audience="clienteling-setup"
    )


class ServerProcess:
    """`clienteling-setup serve` in a process of its own, on a free port."""

    def __init__(self, name: str, env: dict[str, str], log: Path) -> None:
        self.name = name
        self.env = env
        self.log_path = log
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def children(self) -> set[int]:
        """The pids of the server's child processes (its background worker process)."""
        found: set[int] = set()
        for task in Path(f"/proc/{self.pid}/task").glob("*"):
            try:
                found.update(int(pid) for pid in (task / "children").read_text().split())
            except OSError:
                continue  # the thread ended meanwhile
        return found

    def start(self) -> ServerProcess:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [CLI, "serve", "--port", str(self.port)],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"server {self.name} exited at start: {self.log()}")
            try:
                if httpx.get(f"{self.base_url}/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                self.kill()
                raise RuntimeError(f"server {self.name} did not start: {self.log()}")
            time.sleep(0.05)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:]

    def kill(self) -> None:
        """SIGKILL: the process dies where it stands (no cleanup), and is reaped."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
        if self.process is not None:
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.kill()

    def __enter__(self) -> ServerProcess:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()


def wait_until(condition: Any, what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)
