"""S3 adapter of the object-storage port: presigned POST uploads of publicly readable objects.

The only module that imports boto3. A presigned POST (rather than PUT) lets S3 itself enforce
the upload's limits through the signed policy: the exact key, the `public-read` ACL, the
Content-Type and the size range. The bucket must accept ACLs (Object Ownership other than
"bucket owner enforced") and allow public ACLs (Block Public Access off for ACLs).
"""

from __future__ import annotations

import base64
import binascii
import json
import threading
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, NoCredentialsError, PartialCredentialsError

from clienteling_setup.providers.storage import (
    PresignedUpload,
    StorageError,
    StorageUnavailable,
    check_presign_arguments,
)

PUBLIC_READ = "public-read"


class S3Storage:
    """`ObjectStorage` on an S3 bucket (or an S3-compatible server at `endpoint_url`).

    Credentials come from boto3's default chain (environment, profile, instance role) unless
    `access_key_id` and `secret_access_key` are given. `public_base_url` overrides the base of
    public URLs (a CDN or website endpoint in front of the bucket); otherwise they point at the
    bucket itself. Nothing touches the network or resolves credentials before the first
    upload is presigned.
    """

    def __init__(
        self,
        bucket: str,
        region: str,
        *,
        endpoint_url: str | None = None,
        public_base_url: str | None = None,
        access_key_id: str | None = None,
        secret_access_key: str | None = None,
        session_token: str | None = None,
    ) -> None:
        if not bucket:
            raise ValueError("bucket must not be empty")
        if not region:
            raise ValueError("region must not be empty")
        if (access_key_id is None) != (secret_access_key is None):
            raise ValueError("give both access_key_id and secret_access_key, or neither")
        self.bucket = bucket
        self.region = region
        self._endpoint_url = endpoint_url.rstrip("/") if endpoint_url else None
        self._public_base_url = public_base_url.rstrip("/") if public_base_url else None
        self._session = boto3.session.Session(
            aws_access_key_id=access_key_id,
            aws_secret_access_key=secret_access_key,
            aws_session_token=session_token,
            region_name=region,
        )
        self._client: Any = None
        self._lock = threading.Lock()

    def _s3(self) -> Any:
        """The boto3 client, built on first use (resolving credentials may need the network)."""
        with self._lock:
            if self._client is None:
                try:
                    credentials = self._session.get_credentials()
                except BotoCoreError as exc:
                    raise StorageUnavailable(f"could not load AWS credentials: {exc}") from exc
                if credentials is None:
                    # botocore would fail with an AttributeError while signing.
                    raise StorageUnavailable(
                        "no AWS credentials found to sign S3 uploads; configure them for the "
                        "default boto3 chain (environment, profile or instance role)"
                    )
                # Path-style addressing for S3-compatible servers: no bucket in their host names.
                addressing = "path" if self._endpoint_url else "auto"
                self._client = self._session.client(
                    "s3",
                    region_name=self.region,
                    endpoint_url=self._endpoint_url,
                    config=Config(signature_version="s3v4", s3={"addressing_style": addressing}),
                )
            return self._client

    def presign_upload(
        self, key: str, content_type: str, max_bytes: int, expires_in: int
    ) -> PresignedUpload:
        check_presign_arguments(key, content_type, max_bytes, expires_in)
        fields = {"acl": PUBLIC_READ, "Content-Type": content_type}
        # botocore adds {"bucket": ...} and the exact {"key": ...} condition itself.
        conditions: list[Any] = [
            {"acl": PUBLIC_READ},
            {"Content-Type": content_type},
            ["content-length-range", 1, max_bytes],
        ]
        requested_at = datetime.now(UTC).replace(microsecond=0)
        try:
            post = self._s3().generate_presigned_post(
                Bucket=self.bucket,
                Key=key,
                Fields=fields,
                Conditions=conditions,
                ExpiresIn=expires_in,
            )
        except (NoCredentialsError, PartialCredentialsError) as exc:
            raise StorageUnavailable(
                f"no usable AWS credentials to sign S3 uploads: {exc}"
            ) from exc
        except BotoCoreError as exc:
            raise StorageError(f"could not presign an S3 upload to {self.bucket}: {exc}") from exc
        form: dict[str, str] = {str(name): str(value) for name, value in post["fields"].items()}
        expires_at = _policy_expiration(form.get("policy")) or (
            requested_at + timedelta(seconds=expires_in)
        )
        return PresignedUpload(
            url=str(post["url"]),
            method="POST",
            fields=form,
            headers={},
            expires_at=expires_at,
            public_url=self.public_url(key),
        )

    def public_url(self, key: str) -> str:
        path = quote(key, safe="/")
        if self._public_base_url:
            return f"{self._public_base_url}/{path}"
        if self._endpoint_url:
            return f"{self._endpoint_url}/{self.bucket}/{path}"
        if "." in self.bucket:  # virtual-host names with dots break S3's TLS certificate
            return f"https://s3.{self.region}.amazonaws.com/{self.bucket}/{path}"
        return f"https://{self.bucket}.s3.{self.region}.amazonaws.com/{path}"


def _policy_expiration(policy: str | None) -> datetime | None:
    """The `expiration` S3 will enforce, read back from the signed policy document."""
    if not policy:
        return None
    try:
        document = json.loads(base64.b64decode(policy))
        raw = document["expiration"]
        return datetime.strptime(raw, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    except (binascii.Error, ValueError, KeyError, TypeError):
        return None
