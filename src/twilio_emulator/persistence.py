"""`WorldStore`: an emulated world kept in a SQLite file, written as it changes.

``store.open(world)`` loads the world the file holds (or writes the new world into a new file),
then journals it (`journal.py`): each time the outermost holder of the world's lock lets go,
the records changed since the last write, and the clock and SID counter, are written in one
SQLite transaction. A request the emulator answered is therefore on disk before its answer
leaves, and a process killed at any moment (SIGKILL included) restarts with every change it
acknowledged. Only the process that opened the store writes it (the embedding application sees
to that; the service's embedded default holds a lock file).

The file is created owner-only (0600; SQLite gives its ``-wal`` and ``-shm`` files the same
mode) and holds no auth token in clear: every ``auth_token`` field is encrypted with the
`TokenCipher` the embedder gives (the service gives the key that encrypts its own stored
secrets), so reading the file without that key yields no credential.

A world saved by the emulator's earlier versions (a pickle, ``open(world, legacy=path)``) is
migrated once: read with an unpickler that accepts nothing but the emulator's records and
datetimes (no other class can be named, so the file cannot run code), written to the store, then
deleted, since it held the tokens in clear. Its master account takes the new world's master
token (the pickle's followed from the seed).
"""

from __future__ import annotations

import dataclasses
import json
import os
import pickle
import sqlite3
from collections.abc import Hashable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from . import models
from .journal import CommitLock, Journal, Table, track_changes
from .world import World

SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    tbl TEXT NOT NULL, key TEXT NOT NULL, kind TEXT NOT NULL, body TEXT NOT NULL,
    seq INTEGER NOT NULL,  -- when the key was added: a loaded dict keeps its order (lists do)
    PRIMARY KEY (tbl, key)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
"""
SECRET_FIELDS = frozenset({"auth_token"})
#: World values kept beside the records (`World.VALUES` and the master account's SID).
EXTRA_VALUES = ("master_account_sid",)


class TokenCipher(Protocol):
    """What encrypts the auth tokens in the file (the service's `SecretBox` is one)."""

    def encrypt(self, plaintext: str) -> str: ...

    def decrypt(self, ciphertext: str) -> str: ...


def _record_kinds(cls: type[models.Record] = models.Record) -> Iterator[type[models.Record]]:
    for sub in cls.__subclasses__():
        yield sub
        yield from _record_kinds(sub)


def _private_file(path: Path) -> None:
    """Create `path` owner-only before SQLite opens it (SQLite would use the umask)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    os.close(os.open(path, os.O_CREAT | os.O_RDWR, 0o600))
    os.chmod(path, 0o600)


class WorldStore:
    """One world in one SQLite file; see the module docstring."""

    def __init__(self, path: Path, cipher: TokenCipher) -> None:
        self.path = path
        self._cipher = cipher
        self._kinds = {cls.__name__: cls for cls in _record_kinds()}
        self._journal = Journal()
        self._tables: dict[str, Table] = {}
        self._values: dict[str, str] = {}
        self._seq = 0
        self._world: World | None = None
        self._conn: sqlite3.Connection | None = None

    # ------------------------------------------------------------------ opening and closing
    def open(self, world: World, *, legacy: Path | None = None) -> str:
        """Attach `world` (before anyone else uses it): it becomes what the file holds, and is
        written as it changes. Returns "loaded", "migrated" (from the `legacy` pickle) or
        "created" (the world as it was, written to a new file)."""
        _private_file(self.path)
        conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        # NORMAL: a commit is in the WAL file (the OS's) when it returns; a killed process
        # loses nothing, only a power cut may lose the last commits.
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.executescript(SCHEMA)
        self._conn = conn
        self._world = world
        with world.lock:
            if conn.execute("SELECT 1 FROM records LIMIT 1").fetchone():
                self._load(world)
                outcome = "loaded"
            elif legacy is not None and legacy.exists():
                _load_legacy(world, legacy)
                outcome = "migrated"
            else:
                outcome = "created"
            if outcome == "loaded":
                self._wrap(world)
                self._values = self._encode_values(world)
            else:
                self._write_all()
            # Swapped while held: nobody else uses the world yet (see the docstring).
            world.lock = CommitLock(self.commit)
        track_changes(True)
        if outcome == "migrated" and legacy is not None:
            legacy.unlink(missing_ok=True)
        return outcome

    def close(self) -> None:
        """Write what is left and let go of the file (the world stays usable, in memory)."""
        if self._conn is None or self._world is None:
            return
        with self._world.lock:
            self.commit()
            self._conn.close()
            self._conn = None
        track_changes(False)

    # ------------------------------------------------------------------ writing
    def commit(self) -> None:
        """Write what changed since the last write, in one transaction (the world's lock is
        held). A failed write keeps what it did not write for the next one."""
        world, conn = self._world, self._conn
        if world is None or conn is None:
            return
        if any(getattr(world, name) is not table for name, table in self._tables.items()):
            self._write_all()  # reset() replaced the dicts
            return
        changed = self._journal.take()
        values = {k: v for k, v in self._encode_values(world).items() if self._values.get(k) != v}
        if not changed and not values:
            return
        try:
            conn.execute("BEGIN IMMEDIATE")
            for name, key in changed:
                record = self._tables[name].get(key)
                if record is None:
                    conn.execute(
                        "DELETE FROM records WHERE tbl = ? AND key = ?", (name, _key_text(key))
                    )
                else:
                    self._seq += 1
                    conn.execute(
                        "INSERT INTO records VALUES (?, ?, ?, ?, ?) ON CONFLICT (tbl, key) "
                        "DO UPDATE SET kind = excluded.kind, body = excluded.body",
                        (name, _key_text(key), *self._encode(record), self._seq),
                    )
            conn.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)", values.items())
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            self._journal.changed = changed | self._journal.changed
            raise
        self._values.update(values)

    def _write_all(self) -> None:
        world, conn = self._world, self._conn
        assert world is not None
        assert conn is not None
        self._wrap(world)
        self._journal.take()
        values = self._encode_values(world)
        rows = [
            (name, _key_text(key), *self._encode(record))
            for name, table in self._tables.items()
            for key, record in table.items()
        ]
        self._seq = len(rows)
        with conn:  # BEGIN ... COMMIT, ROLLBACK on an exception
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("DELETE FROM records")
            conn.executemany(
                "INSERT INTO records VALUES (?, ?, ?, ?, ?)",
                [(*row, seq) for seq, row in enumerate(rows, 1)],
            )
            conn.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)", values.items())
        self._values = values

    def _wrap(self, world: World) -> None:
        self._tables = {
            name: Table(self._journal, name, getattr(world, name)) for name in world.TABLES
        }
        for name, table in self._tables.items():
            setattr(world, name, table)

    # ------------------------------------------------------------------ reading
    def _load(self, world: World) -> None:
        conn = self._conn
        assert conn is not None
        tables: dict[str, dict[Hashable, Any]] = {name: {} for name in world.TABLES}
        self._seq = conn.execute("SELECT coalesce(max(seq), 0) FROM records").fetchone()[0]
        rows = conn.execute("SELECT tbl, key, kind, body FROM records ORDER BY seq")
        for name, key, kind, body in rows:
            cls = self._kinds.get(kind)
            if name in tables and cls is not None:
                tables[name][_key_value(key)] = self._decode(cls, body)
        for name, records in tables.items():
            setattr(world, name, records)
        for name, text in conn.execute("SELECT name, value FROM meta"):
            if name in world.VALUES or name in EXTRA_VALUES:
                value = json.loads(text, object_hook=self._untag)
                if isinstance(getattr(world, name, None), set):
                    value = set(value)
                setattr(world, name, value)
        master = world.accounts.get(world.master_account_sid)
        if master is not None:
            world.master_auth_token = master.auth_token

    # ------------------------------------------------------------------ encoding
    def _encode(self, record: models.Record) -> tuple[str, str]:
        fields: dict[str, Any] = {}
        for field in dataclasses.fields(record):  # type: ignore[arg-type]
            value = getattr(record, field.name)
            if field.name in SECRET_FIELDS and value is not None:
                value = {"$secret": self._cipher.encrypt(value)}
            fields[field.name] = value
        return type(record).__name__, json.dumps(fields, default=_tag, separators=(",", ":"))

    def _decode(self, cls: type[models.Record], body: str) -> models.Record:
        return cls(**json.loads(body, object_hook=self._untag))

    def _encode_values(self, world: World) -> dict[str, str]:
        return {
            name: json.dumps(getattr(world, name), default=_tag, sort_keys=True)
            for name in (*world.VALUES, *EXTRA_VALUES)
        }

    def _untag(self, obj: dict[str, Any]) -> Any:
        if len(obj) == 1:
            if "$datetime" in obj:
                return datetime.fromisoformat(obj["$datetime"])
            if "$secret" in obj:
                return self._cipher.decrypt(obj["$secret"])
        return obj


def master_credentials(path: Path, cipher: TokenCipher) -> tuple[str, str] | None:
    """The master account's SID and auth token in a store another process writes (read-only),
    or None when it holds none yet."""
    if not path.exists():
        return None
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        row = conn.execute("SELECT value FROM meta WHERE name = 'master_account_sid'").fetchone()
        if row is None:
            return None
        sid = json.loads(row[0])
        found = conn.execute(
            "SELECT body FROM records WHERE tbl = 'accounts' AND key = ?", (_key_text(sid),)
        ).fetchone()
    finally:
        conn.close()
    if found is None:
        return None
    token = json.loads(found[0])["auth_token"]["$secret"]
    return sid, cipher.decrypt(token)


def _tag(value: Any) -> Any:
    if isinstance(value, datetime):
        return {"$datetime": value.isoformat()}
    if isinstance(value, set | frozenset | tuple):
        return sorted(value) if isinstance(value, set | frozenset) else list(value)
    raise TypeError(f"{type(value).__name__} is not stored by the emulator")


def _key_text(key: Hashable) -> str:
    return json.dumps(key, default=_tag)


def _key_value(text: str) -> Hashable:
    value = json.loads(text)
    return tuple(value) if isinstance(value, list) else value


# ---------------------------------------------------------------------- the legacy pickle
_LEGACY_GLOBALS = {
    ("datetime", "datetime"),
    ("datetime", "timezone"),
    ("datetime", "timedelta"),
    ("builtins", "set"),
    ("builtins", "frozenset"),
    ("builtins", "object"),
    ("copyreg", "_reconstructor"),
    # Protocol 0 and 1 spell some of them as Python 2 did, and write bytes through this.
    ("_codecs", "encode"),
    ("__builtin__", "set"),
    ("__builtin__", "frozenset"),
    ("__builtin__", "object"),
    ("copy_reg", "_reconstructor"),
}


class _RecordsOnly(pickle.Unpickler):
    """Names nothing but the emulator's records (also under the module path they had before
    the emulator was a package of its own, ``<...>.emulator.models``) and what datetimes and
    sets need; anything else is refused, so the file cannot make the unpickler run code."""

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in _LEGACY_GLOBALS:
            return super().find_class(module, name)
        parent, _, leaf = module.rpartition(".")
        if leaf == "models" and (parent == __package__ or parent.endswith(".emulator")):
            cls = getattr(models, name, None)
            if isinstance(cls, type) and issubclass(cls, models.Record):
                return cls
        raise pickle.UnpicklingError(f"{module}.{name} is not part of a saved world")


def _load_legacy(world: World, path: Path) -> None:
    with path.open("rb") as file:
        data = _RecordsOnly(file).load()
    if not isinstance(data, dict):
        raise pickle.UnpicklingError(f"{path} does not hold a saved world")
    for name in (*world.TABLES, *world.VALUES):
        if name in data:
            setattr(world, name, data[name])
    # The master account takes the token this world was created with: the pickle's was the
    # seed's, which anyone can derive (the subaccounts keep theirs: the service holds them).
    master = world.accounts.get(world.master_account_sid)
    if master is not None:
        master.auth_token = world.master_auth_token
