"""Where a serving process's background work runs: the bulk-job workers and the periodic
reconciliation pass.

By default they run in a child process of their own (`clienteling-setup worker`), which
`serve` starts and watches; `CLIENTELING_BACKGROUND_PROCESS=false` keeps them as threads of the
serving process. Why a process: as threads they shared the serving process's GIL with the API,
so while a job ran every request waited behind the workers' Python (`bench.jobs`: a status
read at 10,000 stores took 311 ms p50 during a job, against a 9.4 ms baseline). Nothing else
changes: the workers share their work through the database only (claims, heartbeats and the
tenant's budget, `jobs.runner`), as they already do across server processes, and the embedded
default's SQLite and Twilio emulator are shared by the processes of one data folder (as with
`clienteling-setup sync` beside `serve`).

The child dies with its parent: the kernel sends it SIGKILL when the thread that started it
ends (SIGKILL of `serve` included; `PR_SET_PDEATHSIG`, Linux), and elsewhere it watches its
parent's pid. So a crashed server leaves no worker behind, and the claims they held are taken
over once their heartbeat is stale (`jobs.stale_seconds`), as for any dead server. A child that
dies while its parent lives is started again after a pause.
"""

from __future__ import annotations

import ctypes
import logging
import os
import signal
import subprocess
import sys
import threading
from typing import Protocol

from clienteling_setup.config import Settings
from clienteling_setup.jobs.runner import JobRunner, runner_settings
from clienteling_setup.jobs.work import JobPorts
from clienteling_setup.sync import PeriodicSync, SyncPorts

log = logging.getLogger("clienteling_setup.background")

#: Seconds before a background process that died is started again.
RESTART_PAUSE_SECONDS = 2.0
#: Seconds a stopping background process has to finish the stores under way.
STOP_TIMEOUT_SECONDS = 35.0
_PR_SET_PDEATHSIG = 1


class BackgroundPorts(JobPorts, SyncPorts, Protocol):
    """What the background work needs (the runtime has it)."""


class Background(Protocol):
    def start(self) -> None: ...
    def stop(self) -> None: ...


class InProcess:
    """Job workers and periodic reconciliation as threads of this process (the worker
    command's own, or the serving process's when the child process is turned off)."""

    def __init__(self, ports: BackgroundPorts, settings: Settings) -> None:
        self.periodic = PeriodicSync(ports, settings.sync_interval_seconds)
        workers = runner_settings(settings.jobs, settings.resolved_database_url())
        self.jobs = JobRunner(ports, workers)

    def start(self) -> None:
        self.periodic.start()
        self.jobs.start()

    def stop(self) -> None:
        self.periodic.stop()
        self.jobs.stop()


class ChildProcess:
    """`clienteling-setup worker` in a child process, started again when it dies (module
    docstring). The environment (the settings) is this process's."""

    def __init__(self, public_base_url: str) -> None:
        self.argv = [
            sys.executable,
            "-m",
            "clienteling_setup.cli",
            "worker",
            "--public-base-url",
            public_base_url,
            "--parent",
            str(os.getpid()),
        ]
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._process: subprocess.Popen[bytes] | None = None
        # The thread that starts the child lives as long as it should: the kernel's
        # parent-death signal follows the thread that started the child, not the process.
        self._thread = threading.Thread(target=self._supervise, name="background", daemon=True)

    @property
    def pid(self) -> int | None:
        with self._lock:
            return self._process.pid if self._process is not None else None

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """SIGTERM: the child stops claiming, lets the stores under way finish, and exits
        (SIGKILL after `STOP_TIMEOUT_SECONDS`)."""
        with self._lock:
            self._stopping.set()
            process = self._process
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(STOP_TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                process.kill()
        self._thread.join(10)

    def _supervise(self) -> None:
        while True:
            with self._lock:
                if self._stopping.is_set():
                    return
                process = self._process = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL)
            code = process.wait()
            if self._stopping.is_set():
                return
            log.warning(
                "the background worker process (pid %s) exited with %s; starting another",
                process.pid,
                code,
            )
            self._stopping.wait(RESTART_PAUSE_SECONDS)


def background_for(ports: BackgroundPorts, settings: Settings, public_base_url: str) -> Background:
    """What `serve` runs beside the API (see the module docstring)."""
    if settings.background_process:
        return ChildProcess(public_base_url)
    return InProcess(ports, settings)


def die_with_parent(parent: int | None) -> None:
    """In the worker process: be killed when the parent is (module docstring)."""
    if parent is None:
        return
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    else:
        threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()
    if os.getppid() != parent:  # it died before the signal was asked for
        os._exit(1)


def _watch_parent(parent: int) -> None:
    stop = threading.Event()
    while not stop.wait(1.0):
        if os.getppid() != parent:
            os._exit(1)
