"""A persistent emulated world (`twilio_emulator.persistence.WorldStore`): written as it changes,
so a second process opening the file finds every change an answer acknowledged; owner-only, no
token in clear; the in-memory world of the tests untouched; the old pickle migrated safely."""

from __future__ import annotations

import pickle
import re
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client
from twilio.rest.messaging.v2.channels_sender import ChannelsSenderList

from twilio_emulator import EmulatorServer, EmulatorState
from twilio_emulator.models import Record
from twilio_emulator.persistence import WorldStore, master_credentials
from twilio_emulator.world import World

SERVICE = "clienteling_setup"


class FernetCipher:
    def __init__(self) -> None:
        self._fernet = Fernet(Fernet.generate_key())

    def encrypt(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode()).decode()

    def decrypt(self, ciphertext: str) -> str:
        return self._fernet.decrypt(ciphertext.encode()).decode()


class EmulatorHttpClient(TwilioHttpClient):  # type: ignore[misc]
    def __init__(self, base_url: str) -> None:
        super().__init__(timeout=10)
        self.base_url = base_url

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        url = re.sub(r"^https://([a-z]+)\.twilio\.com", rf"{self.base_url}/\1", url)
        return super().request(method, url, *args, **kwargs)


@pytest.fixture
def cipher() -> FernetCipher:
    return FernetCipher()


def reopened(path: Path, cipher: FernetCipher) -> EmulatorState:
    """What another process finds in the file (a fresh state, another store)."""
    state = EmulatorState(seed=5)
    store = WorldStore(path, cipher)
    assert store.open(state) == "loaded"
    store.close()
    return state


def tables(world: World) -> dict[str, Any]:
    found = {name: list(getattr(world, name).items()) for name in world.TABLES}  # in order
    return found | {name: getattr(world, name) for name in world.VALUES}


@pytest.fixture
def persistent(tmp_path: Path, cipher: FernetCipher) -> Iterator[tuple[EmulatorState, WorldStore]]:
    state = EmulatorState(seed=5)
    state.secret_tokens = True
    store = WorldStore(tmp_path / "world.sqlite3", cipher)
    assert store.open(state) == "created"
    yield state, store
    store.close()


def test_every_change_an_answer_acknowledged_is_in_the_file(
    persistent: tuple[EmulatorState, WorldStore], cipher: FernetCipher
) -> None:
    """Driven over HTTP through the routes that change something, and the controls; the file is
    read by a second store while the first is still open (no close, as after a SIGKILL)."""
    state, store = persistent
    with EmulatorServer(state) as server:
        http = EmulatorHttpClient(server.base_url)
        master = Client(state.master_account_sid, state.master_auth_token, http_client=http)
        created = master.api.v2010.accounts.create(friendly_name="tenant-a")
        tenant = Client(created.sid, created.auth_token, http_client=http)
        account = tenant.api.v2010.account
        phone = account.available_phone_numbers("US").local.list(limit=2)
        number = account.incoming_phone_numbers.create(phone_number=phone[0].phone_number)
        gone = account.incoming_phone_numbers.create(phone_number=phone[1].phone_number)
        account.incoming_phone_numbers(gone.sid).delete()
        app = account.applications.create(friendly_name="fwd", voice_url="https://x.example/v")
        account.incoming_phone_numbers(number.sid).update(voice_application_sid=app.sid)
        account.applications(app.sid).update(friendly_name="renamed")
        service = tenant.messaging.v1.services.create(friendly_name="svc")
        tenant.messaging.v1.services(service.sid).update(friendly_name="svc 2")
        tenant.messaging.v1.services(service.sid).phone_numbers.create(phone_number_sid=number.sid)
        sender = tenant.messaging.v2.channels_senders.create(
            ChannelsSenderList.MessagingV2ChannelsSenderRequestsCreate(
                {"sender_id": f"whatsapp:{number.phone_number}", "configuration": {"waba_id": "1"}}
            )
        )
        master.api.v2010.accounts(created.sid).update(status="suspended")
    state.drop_callbacks = True
    state.advance_clock(120)  # the sender goes ONLINE
    bundle = state.bundles(created.sid)[0]
    state.set_bundle_status(created.sid, bundle.sid, "twilio-rejected", "blurred")
    state.make_number_unavailable("+15005550006")
    state.mark_waba_bad("666")

    found = reopened(store.path, cipher)
    assert tables(found) == tables(state)
    assert found.senders_by_sid[sender.sid].status == "ONLINE"
    assert found.account(created.sid).status == "suspended"  # type: ignore[union-attr]
    assert found.master_auth_token == state.master_auth_token
    assert found.clock == state.clock


def test_the_file_is_owner_only_and_holds_no_token(
    persistent: tuple[EmulatorState, WorldStore], cipher: FernetCipher
) -> None:
    state, store = persistent
    tokens = [state.create_subaccount(f"tenant {i}").auth_token for i in range(3)]
    tokens.append(state.master_auth_token)
    files = [p for p in store.path.parent.iterdir() if p.name.startswith(store.path.name)]
    assert {p.name for p in files} >= {"world.sqlite3", "world.sqlite3-wal"}
    for path in files:
        assert path.stat().st_mode & 0o777 == 0o600, path
        raw = path.read_bytes()
        assert not any(token.encode() in raw for token in tokens), path
    # Whoever holds the key (another process of the service) reads the master credentials.
    assert master_credentials(store.path, cipher) == (
        state.master_account_sid,
        state.master_auth_token,
    )
    # The embedded default's tokens are random, not derived from the seed.
    assert EmulatorState(seed=5).create_subaccount("tenant 0").auth_token not in tokens


def test_a_reset_rewrites_the_world(
    persistent: tuple[EmulatorState, WorldStore], cipher: FernetCipher
) -> None:
    state, store = persistent
    state.create_subaccount("before the reset")
    state.reset()
    after = state.create_subaccount("after the reset")
    found = reopened(store.path, cipher)
    assert [a.friendly_name for a in found.subaccounts()] == ["after the reset"]
    assert found.account(after.sid) == after


def test_changes_from_many_threads_are_all_written(
    persistent: tuple[EmulatorState, WorldStore], cipher: FernetCipher
) -> None:
    state, store = persistent

    def create(i: int) -> None:
        for j in range(5):
            state.create_subaccount(f"t{i}-{j}")

    threads = [threading.Thread(target=create, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert tables(reopened(store.path, cipher)) == tables(state)


def test_the_in_memory_world_stays_plain(tmp_path: Path, cipher: FernetCipher) -> None:
    """Tests' worlds keep plain dicts and a plain lock, and records built without a hook."""
    plain = EmulatorState(seed=1)
    assert type(plain.accounts) is dict
    assert "__setattr__" not in Record.__dict__
    state = EmulatorState(seed=1)
    store = WorldStore(tmp_path / "w.sqlite3", cipher)
    store.open(state)
    assert "__setattr__" in Record.__dict__  # while a persistent world is open
    store.close()
    assert "__setattr__" not in Record.__dict__
    assert type(EmulatorState(seed=1).accounts) is dict


def _legacy_pickle(state: EmulatorState, module_prefix: str) -> bytes:
    data = {name: getattr(state, name) for name in (*state.TABLES, *state.VALUES)}
    # Protocol 0 names classes as text lines, so the old module path can be put in place.
    return pickle.dumps(data, protocol=0).replace(b"ctwilio_emulator.", module_prefix.encode())


@pytest.mark.parametrize("prefix", ["ctwilio_emulator.", f"c{SERVICE}.providers.twilio.emulator."])
def test_a_world_saved_as_a_pickle_is_migrated_then_deleted(
    tmp_path: Path, cipher: FernetCipher, prefix: str
) -> None:
    old = EmulatorState(seed=3)
    account = old.create_subaccount("Old world")
    legacy = tmp_path / "twilio-emulator.pickle"
    legacy.write_bytes(_legacy_pickle(old, prefix))

    state = EmulatorState(seed=3, master_auth_token="not the old one")
    store = WorldStore(tmp_path / "w.sqlite3", cipher)
    assert store.open(state, legacy=legacy) == "migrated"
    store.close()
    assert not legacy.exists()  # it held the tokens in clear
    found = reopened(tmp_path / "w.sqlite3", cipher)
    # The master token was the seed's, which anyone can derive: it is the new world's now.
    assert found.master_auth_token == "not the old one"
    assert found.account(account.sid) == account
    assert found.bundles(account.sid) == old.bundles(account.sid)


class _Boom:
    def __reduce__(self) -> tuple[Any, ...]:
        return (exec, ("raise SystemExit('the pickle ran code')",))


def test_a_pickle_naming_anything_else_is_refused(tmp_path: Path, cipher: FernetCipher) -> None:
    legacy = tmp_path / "twilio-emulator.pickle"
    legacy.write_bytes(pickle.dumps({"accounts": _Boom()}))
    store = WorldStore(tmp_path / "w.sqlite3", cipher)
    with pytest.raises(pickle.UnpicklingError, match="builtins.exec"):
        store.open(EmulatorState(seed=1), legacy=legacy)
    assert legacy.exists()
    with sqlite3.connect(tmp_path / "w.sqlite3") as conn:
        assert conn.execute("SELECT count(*) FROM records").fetchone() == (0,)
