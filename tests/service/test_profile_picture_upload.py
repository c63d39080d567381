"""The profile picture upload URL through the running service: the embedded default's local
storage, and S3 (moto's server) behind a second service built with an `S3Storage`."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from moto.server import ThreadedMotoServer

from clienteling_setup.app import create_app
from clienteling_setup.auth.tokens import issue_token
from clienteling_setup.bootstrap import build_runtime
from clienteling_setup.config import S3Settings
from clienteling_setup.providers.s3 import S3Storage
from clienteling_setup.providers.storage import ObjectStorage
from tests.conftest import TEST_JWT_SECRET, make_settings
from tests.integration.test_s3_upload import _admin_client, tiny_png
from tests.support import Api, ThreadedServer, assert_error, free_port, sqlite_url
from twilio_emulator import EmulatorServer

PATH = "/clienteling/whatsapp/profile-picture-upload-url"
FIVE_MB = 5 * 1024 * 1024
FIELDS = {
    "upload_url",
    "method",
    "fields",
    "headers",
    "expires_at",
    "public_url",
    "file_name",
    "max_bytes",
}


def _expires_at(body: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(body["expires_at"].replace("Z", "+00:00"))


def _upload(body: dict[str, Any], data: bytes, file_name: str = "logo.png") -> httpx.Response:
    """Send exactly what the response says: method, URL, headers, fields, then the file."""
    return httpx.request(
        body["method"],
        body["upload_url"],
        headers=body["headers"],
        data=body["fields"],
        files={"file": (file_name, data, "image/png")},
        timeout=30,
    )


def test_upload_to_the_embedded_storage_then_read_anonymously(api: Api) -> None:
    before = datetime.now(UTC)
    response = api.post(PATH, json={"file_name": "Logo.PNG"})

    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == FIELDS
    assert body["method"] == "POST"
    assert body["file_name"] == "Logo.PNG"
    assert body["max_bytes"] == FIVE_MB
    assert body["public_url"].startswith(api.base_url + "/storage/public/tenants/acme/")
    expires = _expires_at(body)
    assert before + timedelta(seconds=880) <= expires <= before + timedelta(seconds=905)

    png = tiny_png()
    sent = _upload(body, png)
    assert sent.status_code == 204, sent.text

    public = httpx.get(body["public_url"])  # anonymous: no token, no tenant
    assert public.status_code == 200
    assert public.content == png
    assert public.headers["content-type"] == "image/png"


def test_the_embedded_storage_enforces_the_size_limit(api: Api) -> None:
    body = api.post(PATH, json={"file_name": "big.png"}).json()
    too_big = _upload(body, b"\x89PNG" + b"0" * FIVE_MB)
    assert too_big.status_code == 400, too_big.text
    assert httpx.get(body["public_url"]).status_code == 404


def test_each_upload_url_is_for_a_new_key(api: Api) -> None:
    first = api.post(PATH, json={"file_name": "a.png"}).json()
    second = api.post(PATH, json={"file_name": "a.png"}).json()
    assert first["public_url"] != second["public_url"]


@pytest.mark.parametrize(
    ("body", "fragments"),
    [
        ({"file_name": "logo.gif"}, ("file_name", ".png, .jpg or .jpeg")),
        ({"file_name": "logo"}, ("file_name", ".png, .jpg or .jpeg")),
        ({"file_name": "../logo.png"}, ("file_name", "without a path")),
        ({"file_name": "pics/logo.png"}, ("file_name", "without a path")),
        ({"file_name": "C:\\pics\\logo.png"}, ("file_name", "without a path")),
        ({"file_name": ".png"}, ("file_name", "no name before it")),
        ({"file_name": "  "}, ("file_name", "must not be empty")),
        ({}, ("'file_name' is required",)),
        ({"file_name": "a.png", "size": 3}, ("Unknown field(s): size",)),
    ],
)
def test_validation(api: Api, body: dict[str, Any], fragments: tuple[str, ...]) -> None:
    assert_error(api.post(PATH, json=body), 400, *fragments)


def test_extensions_are_case_insensitive(api: Api) -> None:
    for name in ("a.JPG", "b.jpeg", "c.Png"):
        assert api.post(PATH, json={"file_name": name}).status_code == 200, name


# -- S3 -----------------------------------------------------------------------------------------

BUCKET = "clienteling-pictures"
REGION = "eu-central-1"
CREDENTIALS = {"access_key_id": "AKIAIOSFODNN7EXAMPLE", "secret_access_key": "test-secret"}
HEADERS = {
    "Authorization": "Bearer "
    + issue_token(
        TEST_JWT_SECRET, ["acme"], issuer="clienteling-setup", audience="clienteling-setup"
    ),
    "Tenant": "acme",
}


@pytest.fixture(scope="module")
def moto_endpoint() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    # The bucket is the operator's, not the service's: created with admin credentials.
    _admin_client(endpoint).create_bucket(
        Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION}
    )
    try:
        yield endpoint
    finally:
        server.stop()


@contextmanager
def _service_with(
    storage: ObjectStorage, tmp_path: Path, emulator: EmulatorServer, expiry: int
) -> Iterator[str]:
    settings = make_settings(tmp_path, sqlite_url(tmp_path), emulator).model_copy(
        update={"s3": S3Settings(upload_expiry_seconds=expiry)}
    )
    port = free_port()
    runtime = build_runtime(
        settings, public_base_url=f"http://127.0.0.1:{port}", storage=storage, apply_migrations=True
    )
    server = ThreadedServer(create_app(runtime), port).start()
    try:
        yield server.base_url
    finally:
        server.stop()
        runtime.close()


def test_upload_to_s3_exactly_as_told_then_read_anonymously(
    moto_endpoint: str, tmp_path: Path, emulator: EmulatorServer
) -> None:
    storage = S3Storage(BUCKET, REGION, endpoint_url=moto_endpoint, **CREDENTIALS)
    with _service_with(storage, tmp_path, emulator, expiry=120) as base_url:
        before = datetime.now(UTC)
        response = httpx.post(base_url + PATH, json={"file_name": "logo.png"}, headers=HEADERS)

    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == FIELDS
    assert body["upload_url"].startswith(moto_endpoint)
    key = body["fields"]["key"]
    assert key.startswith("tenants/acme/whatsapp/profile-pictures/")
    assert key.endswith("/logo.png")
    assert body["public_url"] == f"{moto_endpoint}/{BUCKET}/{key}"
    expires = _expires_at(body)
    assert before + timedelta(seconds=100) <= expires <= before + timedelta(seconds=125)

    # Moto accepts uploads that break a POST policy; real S3 enforces what the policy says.
    policy = json.loads(base64.b64decode(body["fields"]["policy"]))
    conditions = policy["conditions"]
    assert {"bucket": BUCKET} in conditions
    assert {"key": key} in conditions
    assert {"acl": "public-read"} in conditions
    assert {"Content-Type": "image/png"} in conditions
    assert ["content-length-range", 1, FIVE_MB] in conditions
    policy_expiry = datetime.fromisoformat(policy["expiration"].replace("Z", "+00:00"))
    assert abs((policy_expiry - expires).total_seconds()) <= 1

    png = tiny_png()
    sent = _upload(body, png)
    assert sent.status_code == 204, sent.text
    public = httpx.get(body["public_url"])  # anonymous
    assert public.status_code == 200
    assert public.content == png
    assert public.headers["content-type"] == "image/png"


def test_s3_without_credentials_is_503(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, emulator: EmulatorServer
) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    for name in (
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    with _service_with(S3Storage(BUCKET, REGION), tmp_path, emulator, expiry=900) as base_url:
        response = httpx.post(base_url + PATH, json={"file_name": "logo.png"}, headers=HEADERS)
    assert_error(response, 503, "credentials")
    assert response.headers["Retry-After"]
