"""The standalone emulator prints the environment that points the service at it: pasted into
`serve`'s environment, the service buys in the emulator's world, not in a private one."""

from __future__ import annotations

import os
import shlex
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from clienteling_setup.config import Settings, twilio_environment
from tests.e2e.test_cli import CLI
from tests.e2e.test_embedded_world import client, enable, import_store, onboard, serve
from tests.support import free_port

NAMES = {
    "CLIENTELING_TWILIO__API_BASE_URL",
    "CLIENTELING_TWILIO__ACCOUNT_SID",
    "CLIENTELING_TWILIO__AUTH_TOKEN",
}


@contextmanager
def standalone(command: list[str]) -> Iterator[dict[str, str]]:
    """Run the emulator as a user does; yield the variables its output tells to export."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLIENTELING_")}
    proc = subprocess.Popen(
        [*command, "--port", str(free_port())], env=env, stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    printed: dict[str, str] = {}
    try:
        deadline = time.monotonic() + 60
        while len(printed) < len(NAMES):
            assert time.monotonic() < deadline, printed
            line = proc.stdout.readline()
            assert line, "the emulator stopped before printing its environment"
            if line.startswith("export "):
                words = shlex.split(line)  # what a shell makes of the pasted line
                name, _, value = words[1].partition("=")
                printed[name] = value
        yield printed
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        proc.stdout.close()


@pytest.mark.parametrize(
    "command", [[CLI, "twilio-emulator"], [sys.executable, "-m", "twilio_emulator"]]
)
def test_the_printed_variables_are_what_the_settings_read(
    command: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    with standalone(command) as printed:
        assert set(printed) == NAMES
        assert set(twilio_environment("u", "s", "t")) == NAMES
        for name, value in printed.items():
            monkeypatch.setenv(name, value)
        twilio = Settings().twilio
        assert twilio.api_base_url == printed["CLIENTELING_TWILIO__API_BASE_URL"]
        assert twilio.account_sid == printed["CLIENTELING_TWILIO__ACCOUNT_SID"]
        assert twilio.auth_token is not None
        assert twilio.auth_token.get_secret_value() == printed["CLIENTELING_TWILIO__AUTH_TOKEN"]
        # The master credentials printed are the emulator's: they reach its API.
        accounts = httpx.get(
            f"{twilio.api_base_url}/api/2010-04-01/Accounts/{twilio.account_sid}.json",
            auth=(twilio.account_sid, twilio.auth_token.get_secret_value()),
        )
        assert accounts.status_code == 200, accounts.text


def test_a_service_given_the_printed_variables_uses_that_emulator(tmp_path: Path) -> None:
    import_store(tmp_path, "dodici", "nyc")
    with (
        standalone([CLI, "twilio-emulator"]) as printed,
        serve(tmp_path, printed) as (_, base),
        client(base, tmp_path, "dodici") as c,
    ):
        enable(c)
        _, number = onboard(c, "nyc")
        world = httpx.get(
            f"{printed['CLIENTELING_TWILIO__API_BASE_URL']}/_emulator/state", timeout=30
        ).json()
    with sqlite3.connect(tmp_path / "clienteling.db") as conn:
        [(subaccount,)] = conn.execute("SELECT subaccount_sid FROM tenants").fetchall()
    assert subaccount in [a["sid"] for a in world["accounts"]]
    assert number in [n["phone_number"] for n in world["numbers"][subaccount]]
    assert not (tmp_path / "twilio-emulator.sqlite3").exists()  # no private emulator
