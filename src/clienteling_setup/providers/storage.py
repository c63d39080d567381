"""The object-storage port: what the service asks of S3 (or the embedded local storage).

Only `providers.s3` talks to S3 (boto3); `providers.local_storage` is the embedded default that
serves uploads from the service itself. Services and tests depend on this module alone.

Error hierarchy::

    StorageError              the storage backend failed to do what was asked (502 to our caller)
    └── StorageUnavailable    it could not be reached, or we hold no usable credentials (503)

The local adapter adds its own upload errors (`local_storage.UploadRejected`), raised only
while it accepts an upload, the job S3 itself does in production.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, Protocol

# S3 refuses presigned requests valid for more than seven days (SigV4 limit).
MAX_EXPIRES_IN = 7 * 24 * 3600


class StorageError(Exception):
    """The storage backend failed; `message` says what happened, in words for the operator."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class StorageUnavailable(StorageError):
    """The storage backend could not be reached or we could not authenticate to it."""


@dataclass(frozen=True)
class PresignedUpload:
    """A browser-style upload the client performs itself, without our credentials.

    The client sends a `multipart/form-data` request with `method` to `url`: every entry of
    `fields` as a form field, in order, then the file as the last part named ``file``, plus any
    `headers`. After `expires_at` the upload is refused. Once uploaded, the object is readable
    by anyone at `public_url`.
    """

    url: str
    method: Literal["POST"]
    fields: dict[str, str]
    expires_at: datetime
    public_url: str
    headers: dict[str, str] = field(default_factory=dict)


class ObjectStorage(Protocol):
    """Publicly readable object storage with client-side (presigned) uploads."""

    def presign_upload(
        self, key: str, content_type: str, max_bytes: int, expires_in: int
    ) -> PresignedUpload:
        """Allow one upload of at most `max_bytes` (at least 1) to exactly `key`.

        The stored object gets `content_type` and is publicly readable. The permission expires
        `expires_in` seconds from now (1 .. `MAX_EXPIRES_IN`). Raises `ValueError` for arguments
        out of range and `StorageError` when the backend cannot issue the upload.
        """
        ...

    def public_url(self, key: str) -> str:
        """The anonymous URL the object at `key` is (or will be) served from."""
        ...


def check_presign_arguments(key: str, content_type: str, max_bytes: int, expires_in: int) -> None:
    """Shared argument checks for adapters; raises `ValueError` naming the bad argument."""
    if (
        not key
        or "\\" in key
        or any(ord(ch) < 0x20 or ch == "\x7f" for ch in key)
        or any(part in ("", ".", "..") for part in key.split("/"))
    ):
        raise ValueError(
            f"key {key!r} must be a relative '/'-separated path without empty, '.' or '..' "
            "parts, backslashes or control characters"
        )
    if not content_type or "/" not in content_type:
        raise ValueError(f"content_type {content_type!r} must be a MIME type such as image/png")
    if max_bytes < 1:
        raise ValueError(f"max_bytes must be at least 1, got {max_bytes}")
    if not 1 <= expires_in <= MAX_EXPIRES_IN:
        raise ValueError(f"expires_in must be between 1 and {MAX_EXPIRES_IN} s, got {expires_in}")
