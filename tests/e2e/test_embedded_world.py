"""The embedded default's emulated Twilio world, with real processes: it survives a SIGKILL, it is
owner-only with no token in clear, and `sync` beside a running `serve` shares serve's world."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from cryptography.fernet import Fernet

from tests.e2e.test_cli import CLI, _env, run
from tests.support import free_port

WORLD = "twilio-emulator.sqlite3"


@contextmanager
def serve(
    data_dir: Path, extra: dict[str, str] | None = None
) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """`clienteling-setup serve` on the embedded default (or with `extra` variables); stopped
    with SIGKILL at the end (a test may kill it earlier)."""
    port = free_port()
    log = (data_dir / f"serve-{port}.log").open("w")
    env = _env(data_dir) | (extra or {})
    proc = subprocess.Popen([CLI, "serve", "--port", str(port)], env=env, stdout=log, stderr=log)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert proc.poll() is None, Path(log.name).read_text()
            assert time.monotonic() < deadline, "serve did not become ready"
            time.sleep(0.2)
        yield proc, base
    finally:
        proc.kill()
        proc.wait(timeout=30)
        log.close()


def client(base: str, data_dir: Path, tenant: str) -> httpx.Client:
    token = run(data_dir, "token", "--tenant", tenant).stdout.strip()
    headers = {"Authorization": f"Bearer {token}", "Tenant": tenant}
    return httpx.Client(base_url=base, headers=headers, timeout=60)


def import_store(data_dir: Path, tenant: str, store: str) -> None:
    stores = data_dir / f"{tenant}.csv"
    stores.write_text(f"id,name,country_code,region\n{store},Fifth,US,NY\n")
    run(data_dir, "stores", "import", str(stores), "--tenant", tenant)


def enable(c: httpx.Client) -> None:
    """Enable, then wait for the read of the tenant's Twilio state that follows it in the
    background (the status says when it is done)."""
    enabled = c.post("/clienteling/configuration", json={"ecom_link": "https://d.example"})
    assert enabled.status_code == 201, enabled.text
    deadline = time.monotonic() + 30
    while (
        c.get("/clienteling/onboarding-status").json()["reconciliation"]["last_succeeded_at"]
        is None
    ):
        assert time.monotonic() < deadline, "the first read after enabling never finished"
        time.sleep(0.1)


def onboard(c: httpx.Client, store: str) -> tuple[int, str]:
    offered = c.get(f"/clienteling/stores/{store}/available-phone-numbers")
    assert offered.status_code == 200, offered.text
    number: str = offered.json()[0]["phone_number"]
    done = c.post(f"/clienteling/stores/{store}/onboard", json={"phone_number": number})
    assert done.status_code in (200, 201), done.text
    return done.status_code, number


def subaccount_tokens(data_dir: Path) -> list[str]:
    """The tenants' subaccount tokens, as the service keeps them (encrypted in its database)."""
    box = Fernet((data_dir / "encryption.key").read_text().strip().encode())
    with sqlite3.connect(data_dir / "clienteling.db") as conn:
        rows = conn.execute("SELECT auth_token_encrypted FROM tenants").fetchall()
    return [box.decrypt(row[0].encode()).decode() for row in rows]


def test_a_tenant_enabled_right_before_a_sigkill_still_reaches_twilio(tmp_path: Path) -> None:
    import_store(tmp_path, "dodici", "nyc")
    with serve(tmp_path) as (proc, base), client(base, tmp_path, "dodici") as c:
        enable(c)
        proc.kill()  # nothing runs on exit: what the world holds was written as it changed
        proc.wait(timeout=30)

    [token] = subaccount_tokens(tmp_path)
    files = [p for p in tmp_path.iterdir() if p.name.startswith("twilio-emulator")]
    assert tmp_path / WORLD in files
    for path in files:
        assert path.stat().st_mode & 0o777 == 0o600, path
        assert token.encode() not in path.read_bytes(), path

    with serve(tmp_path) as (_, base), client(base, tmp_path, "dodici") as c:
        created, number = onboard(c, "nyc")
        status = c.get("/clienteling/onboarding-status").json()
    assert created == 201
    assert status["stores"][0]["phone_number"] == number


def test_sync_beside_a_running_serve_loses_neither_changes(tmp_path: Path) -> None:
    """`sync` reaches serve's emulator instead of a copy of the world of its own: it finds a
    tenant serve enabled since it started, and serve's changes made while `sync` runs (and
    after) survive a SIGKILL of serve."""
    import_store(tmp_path, "dodici", "nyc")
    import_store(tmp_path, "tredici", "sfo")
    with serve(tmp_path) as (proc, base):
        with client(base, tmp_path, "dodici") as a:
            enable(a)
            syncing = subprocess.Popen(
                [CLI, "sync"], env=_env(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.PIPE
            )
            with client(base, tmp_path, "tredici") as b:
                enable(b)  # while the sync runs
                _, number_a = onboard(a, "nyc")
                out, err = syncing.communicate(timeout=120)
                assert syncing.returncode == 0, err.decode()
                assert "synchronised: dodici" in out.decode()
                _, number_b = onboard(b, "sfo")  # after it: serve's emulator is still there
        assert not (tmp_path / "twilio-emulator.pickle").exists()
        proc.kill()
        proc.wait(timeout=30)

    with serve(tmp_path) as (_, base):
        for tenant, store, number in (("dodici", "nyc", number_a), ("tredici", "sfo", number_b)):
            with client(base, tmp_path, tenant) as c:
                again = c.post(
                    f"/clienteling/stores/{store}/onboard", json={"phone_number": number}
                )
                assert again.status_code == 200, again.text  # the number is still the store's
                offered = c.get(f"/clienteling/stores/{store}/available-phone-numbers").json()
                assert number not in [n["phone_number"] for n in offered]


def test_sync_alone_serves_the_world_for_its_pass_then_lets_go(tmp_path: Path) -> None:
    import_store(tmp_path, "dodici", "nyc")
    with serve(tmp_path) as (_, base), client(base, tmp_path, "dodici") as c:
        enable(c)
    done = run(tmp_path, "sync")  # no serve: it opens the world itself
    assert "synchronised: dodici" in done.stdout
    assert os.stat(tmp_path / WORLD).st_mode & 0o777 == 0o600
    with serve(tmp_path) as (_, base), client(base, tmp_path, "dodici") as c:
        assert onboard(c, "nyc")[0] == 201
