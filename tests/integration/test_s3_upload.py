"""The S3 adapter against moto's S3-compatible server, over real HTTP.

Moto accepts uploads that break a POST policy, while real S3 refuses them, so besides the
round trip the signed policy itself is decoded and its conditions asserted.
"""

from __future__ import annotations

import base64
import json
import struct
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import httpx
import pytest
from moto.server import ThreadedMotoServer

from clienteling_setup.providers.s3 import S3Storage
from clienteling_setup.providers.storage import StorageUnavailable
from clienteling_setup.whatsapp.profile_picture import create_profile_picture_upload

BUCKET = "clienteling-profile-pictures"
REGION = "eu-central-1"
CREDENTIALS = {"access_key_id": "AKIAIOSFODNN7EXAMPLE", "secret_access_key": "test-secret"}
ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers"


def tiny_png() -> bytes:
    """A valid 1x1 PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\x80\x00")
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


@pytest.fixture(scope="module")
def endpoint_url() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture(scope="module")
def bucket(endpoint_url: str) -> str:
    client = _admin_client(endpoint_url)
    client.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
    return BUCKET


def _admin_client(endpoint_url: str) -> Any:
    return boto3.session.Session(
        aws_access_key_id=CREDENTIALS["access_key_id"],
        aws_secret_access_key=CREDENTIALS["secret_access_key"],
        region_name=REGION,
    ).client("s3", endpoint_url=endpoint_url)


def test_upload_exactly_as_told_then_read_anonymously(endpoint_url: str, bucket: str) -> None:
    storage = S3Storage(bucket, REGION, endpoint_url=endpoint_url, **CREDENTIALS)
    png = tiny_png()

    upload = create_profile_picture_upload(storage, "acme", "Logo.PNG")

    assert upload.method == "POST"
    with httpx.Client() as client:
        sent = client.request(
            upload.method,
            upload.url,
            headers=upload.headers,
            data=upload.fields,
            files={"file": ("Logo.PNG", png, "image/png")},
        )
        assert sent.status_code == 204, sent.text

        public = client.get(upload.public_url)  # no credentials at all
    assert public.status_code == 200
    assert public.content == png
    assert public.headers["content-type"] == "image/png"

    key = upload.fields["key"]
    assert upload.public_url == f"{endpoint_url}/{bucket}/{key}"
    grants = _admin_client(endpoint_url).get_object_acl(Bucket=bucket, Key=key)["Grants"]
    assert any(
        grant["Grantee"].get("URI") == ALL_USERS and grant["Permission"] == "READ"
        for grant in grants
    )


def test_signed_policy_enforces_key_acl_type_size_and_expiry(
    endpoint_url: str, bucket: str
) -> None:
    storage = S3Storage(bucket, REGION, endpoint_url=endpoint_url, **CREDENTIALS)
    before = datetime.now(UTC)

    upload = create_profile_picture_upload(storage, "acme", "photo.jpeg")

    key = upload.fields["key"]
    assert key.startswith("tenants/acme/whatsapp/profile-pictures/")
    assert key.endswith("/photo.jpeg")
    assert upload.fields["acl"] == "public-read"
    assert upload.fields["Content-Type"] == "image/jpeg"
    assert upload.fields["x-amz-algorithm"] == "AWS4-HMAC-SHA256"
    assert upload.fields["x-amz-signature"]

    policy = json.loads(base64.b64decode(upload.fields["policy"]))
    conditions = policy["conditions"]
    assert {"bucket": bucket} in conditions
    assert {"key": key} in conditions  # exact key, not starts-with
    assert not any(isinstance(c, list) and c[0] == "starts-with" for c in conditions)
    assert {"acl": "public-read"} in conditions
    assert {"Content-Type": "image/jpeg"} in conditions
    assert ["content-length-range", 1, 5 * 1024 * 1024] in conditions

    expiration = datetime.strptime(policy["expiration"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    expected = before + timedelta(seconds=900)
    assert expected - timedelta(seconds=5) <= expiration <= expected + timedelta(seconds=5)
    assert upload.expires_at == expiration


def test_public_url_defaults_and_override() -> None:
    key = "tenants/acme/whatsapp/profile-pictures/ab/My Logo.png"
    plain = S3Storage("pictures", "eu-west-1", **CREDENTIALS)
    dotted = S3Storage("pictures.example.com", "eu-west-1", **CREDENTIALS)
    fronted = S3Storage(
        "pictures", "eu-west-1", public_base_url="https://cdn.example.com/", **CREDENTIALS
    )

    assert plain.public_url(key) == (
        "https://pictures.s3.eu-west-1.amazonaws.com/"
        "tenants/acme/whatsapp/profile-pictures/ab/My%20Logo.png"
    )
    assert dotted.public_url(key).startswith(
        "https://s3.eu-west-1.amazonaws.com/pictures.example.com/tenants/"
    )
    assert fronted.public_url(key).startswith("https://cdn.example.com/tenants/acme/")


def test_missing_credentials_are_a_storage_outage(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.delenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", raising=False)
    monkeypatch.delenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", raising=False)
    monkeypatch.delenv("AWS_WEB_IDENTITY_TOKEN_FILE", raising=False)
    storage = S3Storage("pictures", "eu-west-1")

    with pytest.raises(StorageUnavailable, match="credentials"):
        create_profile_picture_upload(storage, "acme", "a.png")
