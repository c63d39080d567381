"""The embedded default's local storage: the same upload contract as S3, served by us."""

from __future__ import annotations

import socket
import struct
import threading
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from clienteling_setup.providers.local_storage import LocalStorage
from clienteling_setup.storage_endpoints import create_storage_router
from clienteling_setup.whatsapp.profile_picture import create_profile_picture_upload

FIVE_MB = 5 * 1024 * 1024


def tiny_png() -> bytes:
    """A valid 1x1 PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00\xff\x80\x00"))
        + chunk(b"IEND", b"")
    )


@dataclass
class Clock:
    now: datetime

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2030, 5, 1, 12, 0, tzinfo=UTC))


@pytest.fixture
def listening() -> Iterator[socket.socket]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    with sock:
        yield sock


@pytest.fixture
def base_url(listening: socket.socket) -> str:
    host, port = listening.getsockname()
    return f"http://{host}:{port}"


@pytest.fixture
def storage(tmp_path: Path, clock: Clock, base_url: str) -> LocalStorage:
    return LocalStorage(tmp_path / "storage", base_url, b"k" * 32, clock=clock)


@pytest.fixture
def client(
    storage: LocalStorage, listening: socket.socket, base_url: str
) -> Iterator[httpx.Client]:
    """A real uvicorn server running the storage routes, and an HTTP client for it."""
    app = FastAPI()
    app.include_router(create_storage_router(storage))
    server = uvicorn.Server(uvicorn.Config(app, lifespan="off", log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listening]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.01)
    try:
        with httpx.Client(base_url=base_url, timeout=30) as http:
            yield http
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def stored_files(storage: LocalStorage) -> list[Path]:
    return [path for path in storage.root_dir.rglob("*") if path.is_file()]


def test_upload_exactly_as_told_then_read_anonymously(
    client: httpx.Client, storage: LocalStorage, clock: Clock, base_url: str
) -> None:
    png = tiny_png()
    upload = create_profile_picture_upload(storage, "acme", "Logo.PNG")

    assert upload.method == "POST"
    assert upload.url == f"{base_url}/storage/uploads"
    assert upload.expires_at == clock.now + timedelta(minutes=15)
    key = upload.fields["key"]
    assert key.startswith("tenants/acme/whatsapp/profile-pictures/")
    assert upload.public_url == f"{base_url}/storage/public/{key}"

    sent = client.request(
        upload.method,
        upload.url,
        headers=upload.headers,
        data=upload.fields,
        files={"file": ("Logo.PNG", png, "image/png")},
    )
    assert sent.status_code == 204, sent.text

    public = client.get(upload.public_url)
    assert public.status_code == 200
    assert public.content == png
    assert public.headers["content-type"] == "image/png"
    assert public.headers["x-content-type-options"] == "nosniff"
    assert (storage.root_dir / "objects" / key).read_bytes() == png


def test_upload_just_before_expiry_is_accepted(
    client: httpx.Client, storage: LocalStorage, clock: Clock
) -> None:
    upload = create_profile_picture_upload(storage, "acme", "a.jpg")
    clock.now += timedelta(minutes=15) - timedelta(seconds=1)

    sent = client.post(
        upload.url, data=upload.fields, files={"file": ("a.jpg", b"\xff\xd8\xff", "image/jpeg")}
    )

    assert sent.status_code == 204, sent.text


def _tamper_signature(fields: dict[str, str]) -> None:
    signature = fields["signature"]
    fields["signature"] = signature[:-1] + ("0" if signature[-1] != "0" else "1")


@pytest.mark.parametrize(
    ("change", "status", "says"),
    [
        (_tamper_signature, 403, "signature does not match"),
        (lambda f: f.update(policy=f["policy"][:-4] + "AAA="), 403, "signature does not match"),
        (
            lambda f: f.update(key=f["key"].rsplit("/", 2)[0] + "/0123/a.png"),
            403,
            "field 'key'",
        ),
        (lambda f: f.update({"Content-Type": "image/gif"}), 403, "field 'Content-Type'"),
        (lambda f: f.update(acl="private"), 403, "does not allow: acl"),
        (lambda f: f.pop("signature"), 400, "lacks the field(s) signature"),
    ],
    ids=["tampered-signature", "tampered-policy", "other-key", "wrong-type", "extra", "unsigned"],
)
def test_changed_form_is_refused_and_nothing_stored(
    client: httpx.Client,
    storage: LocalStorage,
    change: object,
    status: int,
    says: str,
) -> None:
    upload = create_profile_picture_upload(storage, "acme", "a.png")
    fields = dict(upload.fields)
    assert callable(change)
    change(fields)

    sent = client.post(upload.url, data=fields, files={"file": ("a.png", tiny_png(), "image/png")})

    assert sent.status_code == status
    body = sent.json()
    assert says in body["message"]
    assert body["request_id"]
    assert sent.headers["x-request-id"] == body["request_id"]
    assert stored_files(storage) == []


def test_expired_upload_is_refused(
    client: httpx.Client, storage: LocalStorage, clock: Clock
) -> None:
    upload = create_profile_picture_upload(storage, "acme", "a.png")
    clock.now += timedelta(minutes=15)

    sent = client.post(
        upload.url, data=upload.fields, files={"file": ("a.png", tiny_png(), "image/png")}
    )

    assert sent.status_code == 403
    assert "expired" in sent.json()["message"]
    assert stored_files(storage) == []


@pytest.mark.parametrize(
    ("file_bytes", "part_type", "says"),
    [
        (b"\x89PNG" + b"\x00" * FIVE_MB, "image/png", f"at most {FIVE_MB} are allowed"),
        (b"", "image/png", "the file is empty"),
        (b"GIF89a", "image/gif", "declared as 'image/gif'"),
    ],
    ids=["over-5-mb", "empty", "other-file-type"],
)
def test_file_outside_the_grant_is_refused(
    client: httpx.Client, storage: LocalStorage, file_bytes: bytes, part_type: str, says: str
) -> None:
    upload = create_profile_picture_upload(storage, "acme", "a.png")

    sent = client.post(
        upload.url, data=upload.fields, files={"file": ("a.png", file_bytes, part_type)}
    )

    assert sent.status_code == 400
    assert says in sent.json()["message"]
    assert stored_files(storage) == []


def test_exactly_5_mb_is_accepted(client: httpx.Client, storage: LocalStorage) -> None:
    upload = create_profile_picture_upload(storage, "acme", "a.png")
    data = b"\x89PNG" + b"\x00" * (FIVE_MB - 4)

    sent = client.post(upload.url, data=upload.fields, files={"file": ("a.png", data)})

    assert sent.status_code == 204, sent.text
    assert client.get(upload.public_url).content == data


def test_request_far_over_the_limit_is_refused_before_reading(
    client: httpx.Client, storage: LocalStorage
) -> None:
    upload = create_profile_picture_upload(storage, "acme", "a.png")

    sent = client.post(
        upload.url,
        data=upload.fields,
        files={"file": ("a.png", b"\x00" * (FIVE_MB + 512 * 1024), "image/png")},
    )

    assert sent.status_code == 400
    assert "larger than" in sent.json()["message"]
    assert stored_files(storage) == []


def test_form_without_file_or_not_multipart_is_refused(
    client: httpx.Client, storage: LocalStorage
) -> None:
    upload = create_profile_picture_upload(storage, "acme", "a.png")

    no_file = client.post(upload.url, data=upload.fields, files={"other": ("a", b"x")})
    not_form = client.post(upload.url, json=upload.fields)

    assert no_file.status_code == 400
    assert "'file'" in no_file.json()["message"]
    assert not_form.status_code == 400
    assert "multipart/form-data" in not_form.json()["message"]
    assert stored_files(storage) == []


@pytest.mark.parametrize(
    "path",
    [
        "tenants/acme/nothing.png",
        "..%2F..%2Fetc%2Fpasswd",
        "tenants/%2e%2e/%2e%2e/%2e%2e/x.png",
        "a%5C..%5C..%5Cb.png",
    ],
)
def test_unknown_or_escaping_public_key_is_404(client: httpx.Client, path: str) -> None:
    answer = client.get(f"/storage/public/{path}")

    assert answer.status_code == 404
    assert answer.json()["message"]
