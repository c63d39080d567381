"""Serving the emulator over real HTTP: a uvicorn server in a daemon thread, or in the foreground.

`EmulatorServer(state, host, port=0).start()` binds first (port 0 picks a free port), so
`base_url` is known as soon as `start()` returns. With ``auto_clock=True`` a ticker thread
advances the emulator clock in real time (senders go ONLINE on their own); tests leave it off and
call `EmulatorState.advance_clock`.
"""

from __future__ import annotations

import shlex
import socket
import threading
import time
from collections.abc import Callable, Mapping

import uvicorn

from .app import create_emulator_app
from .state import EmulatorState


class EmulatorServer:
    def __init__(
        self,
        state: EmulatorState | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        auto_clock: bool = False,
        tick: float = 1.0,
        admin: bool = True,
    ) -> None:
        self.state = state or EmulatorState()
        self.admin = admin
        self.host = host
        self.port = port
        self.auto_clock = auto_clock
        self.tick = tick
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._ticker: threading.Thread | None = None
        self._stopping = threading.Event()
        self._socket: socket.socket | None = None

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def _config(self) -> uvicorn.Config:
        return uvicorn.Config(
            create_emulator_app(self.state, admin=self.admin),
            log_level="warning",
            access_log=False,
            lifespan="off",
            timeout_graceful_shutdown=1,
            timeout_keep_alive=30,
        )

    def start(self, timeout: float = 10.0) -> EmulatorServer:
        # IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY on accepted sockets only when
        # their proto says TCP; with proto 0 every answer waits ~40 ms for a delayed ACK.
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self.port))
        sock.listen(128)
        self.port = sock.getsockname()[1]
        self._socket = sock
        self._server = uvicorn.Server(self._config())
        server = self._server
        self._thread = threading.Thread(
            target=lambda: server.run(sockets=[sock]), name="twilio-emulator", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the Twilio emulator did not start")
            time.sleep(0.01)
        if self.auto_clock:
            self._ticker = threading.Thread(target=self._tick, name="emulator-clock", daemon=True)
            self._ticker.start()
        return self

    def _tick(self) -> None:
        last = time.monotonic()
        while not self._stopping.wait(self.tick):
            now = time.monotonic()
            self.state.advance_clock(now - last)
            last = now

    def stop(self) -> None:
        self._stopping.set()
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        if self._ticker is not None:
            self._ticker.join(timeout=5)
        if self._socket is not None:
            self._socket.close()
        self._server = self._thread = self._ticker = self._socket = None

    def __enter__(self) -> EmulatorServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def run_emulator(
    host: str = "127.0.0.1",
    port: int = 8099,
    *,
    seed: int = 1,
    master_account_sid: str | None = None,
    master_auth_token: str | None = None,
    environment: Callable[[str, str, str], Mapping[str, str]] | None = None,
) -> None:
    """Serve the emulator in the foreground (Ctrl-C stops it), its clock running in real time.

    `environment(base_url, account_sid, auth_token)` names the variables that point a client
    at it; they are printed as ``export NAME=value`` lines, to paste into a shell."""
    state = EmulatorState(master_account_sid, master_auth_token, seed)
    server = EmulatorServer(state, host, port, auto_clock=True).start()
    print(f"Twilio emulator listening on {server.base_url}", flush=True)
    print(f"  master account SID: {state.master_account_sid}", flush=True)
    print(f"  master auth token:  {state.master_auth_token}", flush=True)
    print(
        f"  Twilio's hosts: https://{{sub}}.twilio.com/... -> {server.base_url}/{{sub}}/...",
        flush=True,
    )
    print(f"  admin API: {server.base_url}/_emulator/state", flush=True)
    if environment is not None:
        variables = environment(server.base_url, state.master_account_sid, state.master_auth_token)
        print("Point a service at it (paste into its shell):", flush=True)
        for name, value in variables.items():
            print(f"export {name}={shlex.quote(value)}", flush=True)
    try:
        while server._thread is not None and server._thread.is_alive():
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
