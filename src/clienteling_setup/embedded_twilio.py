"""The embedded default's Twilio: the built-in emulator, its world kept in the data folder.

One process at a time serves the emulated world of a data folder, and every other process of
that folder talks to it over HTTP:

* The first process to take the exclusive lock on ``twilio-emulator.lock`` opens the world
  (``twilio-emulator.sqlite3``, written as it changes, see `twilio_emulator.persistence`),
  serves it on a free local port, and writes that URL into the lock file.
* Another process (``sync`` while ``serve`` runs, a second ``serve``) finds the lock taken and
  uses the URL, with the master credentials read from the world file.
* A ``serve`` that finds a ``sync`` holding the world waits for it to finish, since that world
  goes away with the ``sync``.

So there is one world and one writer: ``sync`` and ``serve`` cannot overwrite each other's
changes, and there is nothing to merge. The lock is the kernel's (``flock``), so it is let go
when its holder dies, SIGKILL included, and the next process takes over the world as it was at
its last acknowledged change.

The world file holds the auth tokens encrypted with the key of the service's stored secrets
(`cipher`), and the embedded emulator has a random master token and random subaccount tokens
(not the seed-derived ones of the tests) and no admin API, so nobody on the machine can reach
its accounts without the data folder's key.
"""

from __future__ import annotations

import fcntl
import json
import os
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from twilio_emulator import EmulatorServer, EmulatorState
from twilio_emulator.isv import primary_customer_profile_sid, seed_primary_customer_profile
from twilio_emulator.persistence import TokenCipher, WorldStore, master_credentials

WORLD_FILE = "twilio-emulator.sqlite3"
LEGACY_FILE = "twilio-emulator.pickle"  # what versions before the store saved on exit
LOCK_FILE = "twilio-emulator.lock"
Role = Literal["serve", "sync"]


@dataclass
class EmbeddedTwilio:
    """Where the embedded emulator answers, with its master credentials."""

    base_url: str
    account_sid: str
    auth_token: str
    close: Callable[[], None]


class _OwnerLock:
    """The lock file: held (``flock``) by the process serving the world, holding its URL."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def try_take(self) -> bool:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        os.ftruncate(fd, 0)  # a dead holder's URL must not be read while we start
        self._fd = fd
        return True

    def publish(self, owner: dict[str, Any]) -> None:
        assert self._fd is not None
        os.pwrite(self._fd, json.dumps(owner).encode(), 0)

    def owner(self) -> dict[str, Any] | None:
        """What the holder published; None while it starts (or between two holders)."""
        try:
            found = json.loads(self.path.read_text())
        except (OSError, ValueError):
            return None
        return found if isinstance(found, dict) else None

    def release(self) -> None:
        if self._fd is not None:
            os.ftruncate(self._fd, 0)
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


def emulated_primary_customer_profile(master_account_sid: str) -> str:
    """The approved Primary Customer Profile an emulator seeds in its master account."""
    return primary_customer_profile_sid(master_account_sid)


def open_embedded(
    data_dir: Path,
    cipher: TokenCipher,
    *,
    role: Role,
    notice: Callable[[str], None] = lambda message: None,
    startup_timeout: float = 60.0,
) -> EmbeddedTwilio:
    """Serve the data folder's world, or reach the process that serves it (module docstring)."""
    lock = _OwnerLock(data_dir / LOCK_FILE)
    world = data_dir / WORLD_FILE
    waiting_since = time.monotonic()
    told = False
    while True:
        if lock.try_take():
            try:
                return _serve(data_dir, cipher, lock, role)
            except BaseException:
                lock.release()
                raise
        owner = lock.owner()
        if owner is not None and owner.get("role") == "serve":
            credentials = master_credentials(world, cipher)
            if credentials is not None:
                return EmbeddedTwilio(str(owner["url"]), *credentials, close=lambda: None)
        if owner is not None and owner.get("role") != "serve" and not told:
            notice(
                f"waiting for the `clienteling-setup {owner.get('role')}` (pid "
                f"{owner.get('pid')}) that holds the built-in Twilio emulator's world to finish"
            )
            told = True
        if owner is None and time.monotonic() - waiting_since > startup_timeout:
            raise RuntimeError(
                f"another process holds {lock.path} but did not start the built-in Twilio "
                f"emulator within {startup_timeout:g} s"
            )
        if owner is not None:
            waiting_since = time.monotonic()
        time.sleep(0.2)


def _serve(data_dir: Path, cipher: TokenCipher, lock: _OwnerLock, role: Role) -> EmbeddedTwilio:
    state = EmulatorState(master_auth_token=secrets.token_hex(16))  # a loaded world keeps its own
    state.secret_tokens = True
    # A2P 10DLC reviews take seconds here, not Twilio's days, so a first session on the
    # embedded default registers a US retailer while one watches (the clock is real time).
    state.a2p_profile_review_seconds = 2.0
    state.brand_review_seconds = 2.0
    state.campaign_review_seconds = 4.0
    store = WorldStore(data_dir / WORLD_FILE, cipher)
    store.open(state, legacy=data_dir / LEGACY_FILE)
    with state.lock:  # a world saved before the ISV's primary customer profile was seeded
        seed_primary_customer_profile(state)
    try:
        # The clock runs in real time, so senders move on as they would on Twilio.
        server = EmulatorServer(state, "127.0.0.1", 0, auto_clock=True, admin=False).start()
    except BaseException:
        store.close()
        raise
    lock.publish({"url": server.base_url, "role": role, "pid": os.getpid()})

    def close() -> None:
        server.stop()
        store.close()
        lock.release()

    return EmbeddedTwilio(server.base_url, state.master_account_sid, state.master_auth_token, close)
