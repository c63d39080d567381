"""Local adapter of the object-storage port: the embedded default's stand-in for S3.

It mimics S3's browser-based POST uploads. `presign_upload` issues a form whose ``policy`` field
is a base64 JSON document (expiration, exact key, Content-Type, content-length-range) and whose
``signature`` field is an HMAC-SHA256 of that policy under a key only this service holds. The
client posts the form plus the file to ``{public_base_url}/storage/uploads``, the route in
`clienteling_setup.storage_endpoints`, which hands it to `accept_upload`; that checks everything
S3 would check before writing under ``root_dir``. Objects are served anonymously from
``{public_base_url}/storage/public/{key}``.

Upload errors, raised only by `accept_upload`::

    StorageError
    ├── UploadRejected        the upload breaks its grant (`status_code` says which answer)
    │   ├── UploadInvalid     400: malformed form, file empty or too large
    │   └── UploadForbidden   403: bad signature, expired, other key or content type, extra fields
    └── ObjectNotFound        no object under that key
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

from clienteling_setup.providers.storage import (
    PresignedUpload,
    StorageError,
    check_presign_arguments,
)

UPLOAD_PATH = "/storage/uploads"
PUBLIC_PATH = "/storage/public"

KEY_FIELD = "key"
CONTENT_TYPE_FIELD = "Content-Type"
POLICY_FIELD = "policy"
SIGNATURE_FIELD = "signature"
FORM_FIELDS = (KEY_FIELD, CONTENT_TYPE_FIELD, POLICY_FIELD, SIGNATURE_FIELD)

# Content types a client may put on the file part without contradicting the granted one.
_GENERIC_CONTENT_TYPES = frozenset({"", "application/octet-stream"})
_EXPIRATION_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
_KEY_DERIVATION_LABEL = b"clienteling-setup/local-storage/upload-policy/v1"


class UploadRejected(StorageError):
    """An upload that breaks the grant it was made with; `status_code` is the answer."""

    status_code = 400


class UploadInvalid(UploadRejected):
    """Malformed form, or a file that is empty or too large (400)."""


class UploadForbidden(UploadRejected):
    """Bad signature, expired grant, another key or content type, extra fields (403)."""

    status_code = 403


class ObjectNotFound(StorageError):
    """No object under the key."""


@dataclass(frozen=True)
class StoredObject:
    path: Path
    content_type: str
    size: int


def _utcnow() -> datetime:
    return datetime.now(UTC)


class LocalStorage:
    """`ObjectStorage` on the local file system, with uploads going through this service.

    `public_base_url` is the service's own base URL as clients reach it. `signing_key` signs
    the upload policies (a separate subkey is derived from it). `max_upload_bytes` caps every
    grant and bounds how much of an upload request the route reads. `clock` is for tests.
    """

    def __init__(
        self,
        root_dir: Path | str,
        public_base_url: str,
        signing_key: bytes,
        *,
        max_upload_bytes: int = 5 * 1024 * 1024,
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        if len(signing_key) < 16:
            raise ValueError("signing_key must be at least 16 bytes long")
        if max_upload_bytes < 1:
            raise ValueError(f"max_upload_bytes must be at least 1, got {max_upload_bytes}")
        self.root_dir = Path(root_dir)
        self.public_base_url = public_base_url.rstrip("/")
        self.max_upload_bytes = max_upload_bytes
        self._key = hmac.new(signing_key, _KEY_DERIVATION_LABEL, hashlib.sha256).digest()
        self._clock = clock

    @property
    def upload_url(self) -> str:
        return f"{self.public_base_url}{UPLOAD_PATH}"

    # -- the port ---------------------------------------------------------------------------

    def presign_upload(
        self, key: str, content_type: str, max_bytes: int, expires_in: int
    ) -> PresignedUpload:
        check_presign_arguments(key, content_type, max_bytes, expires_in)
        if max_bytes > self.max_upload_bytes:
            raise ValueError(
                f"max_bytes {max_bytes} exceeds this storage's limit of {self.max_upload_bytes}"
            )
        expires_at = self._clock().astimezone(UTC).replace(microsecond=0) + timedelta(
            seconds=expires_in
        )
        document = {
            "expiration": expires_at.strftime(_EXPIRATION_FORMAT),
            "conditions": [
                {"key": key},
                {CONTENT_TYPE_FIELD: content_type},
                ["content-length-range", 1, max_bytes],
            ],
        }
        policy = base64.b64encode(json.dumps(document, separators=(",", ":")).encode()).decode()
        return PresignedUpload(
            url=self.upload_url,
            method="POST",
            fields={
                KEY_FIELD: key,
                CONTENT_TYPE_FIELD: content_type,
                POLICY_FIELD: policy,
                SIGNATURE_FIELD: self._sign(policy),
            },
            headers={},
            expires_at=expires_at,
            public_url=self.public_url(key),
        )

    def public_url(self, key: str) -> str:
        return f"{self.public_base_url}{PUBLIC_PATH}/{quote(key, safe='/')}"

    # -- the service side of an upload ------------------------------------------------------

    def accept_upload(
        self, fields: Mapping[str, str], file_bytes: bytes, content_type: str | None = None
    ) -> str:
        """Check an upload against its signed policy, store it, and return its key.

        `fields` are the form fields that came with the file; `content_type` is the type the
        file part itself declared, if any (it may be generic, but must not contradict the
        granted one). Raises `UploadRejected` without storing anything when a check fails.
        """
        missing = [name for name in FORM_FIELDS if not fields.get(name)]
        if missing:
            raise UploadInvalid(
                f"the upload form lacks the field(s) {', '.join(missing)}; send every field "
                "the upload URL response listed, then the file as the part named 'file'"
            )
        extra = sorted(set(fields) - set(FORM_FIELDS))
        if extra:
            raise UploadForbidden(
                f"the upload form has field(s) its grant does not allow: {', '.join(extra)}; "
                "send exactly the fields the upload URL response listed"
            )
        policy = fields[POLICY_FIELD]
        if not hmac.compare_digest(self._sign(policy), fields[SIGNATURE_FIELD]):
            raise UploadForbidden(
                "the upload's signature does not match its policy; send the 'policy' and "
                "'signature' fields unchanged, or request a new upload URL"
            )
        key, granted_type, max_bytes, expires_at = self._read_policy(policy)
        now = self._clock()
        if now >= expires_at:
            raise UploadForbidden(
                f"the upload URL expired at {expires_at.strftime(_EXPIRATION_FORMAT)}; "
                "request a new one"
            )
        if fields[KEY_FIELD] != key:
            raise UploadForbidden(
                f"field 'key' is {fields[KEY_FIELD]!r} but the upload was granted for {key!r}; "
                "send the key exactly as given"
            )
        if fields[CONTENT_TYPE_FIELD] != granted_type:
            raise UploadForbidden(
                f"field 'Content-Type' is {fields[CONTENT_TYPE_FIELD]!r} but the upload was "
                f"granted for {granted_type!r}; send the Content-Type exactly as given"
            )
        declared = (content_type or "").split(";")[0].strip().lower()
        if declared not in _GENERIC_CONTENT_TYPES and declared != granted_type.lower():
            raise UploadInvalid(
                f"the file part is declared as {declared!r} but the upload was granted for "
                f"{granted_type!r}; upload a file of that type"
            )
        if not file_bytes:
            raise UploadInvalid("the file is empty; upload a non-empty file in the part 'file'")
        if len(file_bytes) > max_bytes:
            raise UploadInvalid(
                f"the file has {len(file_bytes)} bytes but at most {max_bytes} are allowed; "
                "upload a smaller file"
            )
        try:
            self._write(key, file_bytes, granted_type)
        except (OSError, ValueError) as exc:
            raise StorageError(f"could not store the upload under {key!r}: {exc}") from exc
        return key

    def open_public(self, key: str) -> StoredObject:
        """The stored object at `key`, for serving; `ObjectNotFound` if there is none."""
        try:
            data_path, meta_path = self._paths(key)
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
            content_type = str(meta["content_type"])
            size = data_path.stat().st_size
        except (ValueError, OSError, KeyError, TypeError) as exc:
            raise ObjectNotFound(f"no object under key {key!r}") from exc
        return StoredObject(path=data_path, content_type=content_type, size=size)

    # -- internals --------------------------------------------------------------------------

    def _sign(self, policy: str) -> str:
        return hmac.new(self._key, policy.encode("ascii", "replace"), hashlib.sha256).hexdigest()

    def _read_policy(self, policy: str) -> tuple[str, str, int, datetime]:
        """Decode a policy whose signature was verified (so only our own documents arrive)."""
        try:
            document = json.loads(base64.b64decode(policy, validate=True))
            expires_at = datetime.strptime(document["expiration"], _EXPIRATION_FORMAT)
            conditions = document["conditions"]
            key = str(conditions[0]["key"])
            content_type = str(conditions[1][CONTENT_TYPE_FIELD])
            _, _, max_bytes = conditions[2]
            return key, content_type, int(max_bytes), expires_at.replace(tzinfo=UTC)
        except (binascii.Error, ValueError, KeyError, IndexError, TypeError) as exc:
            raise UploadInvalid(
                "the upload's policy is malformed; request a new upload URL"
            ) from exc

    def _paths(self, key: str) -> tuple[Path, Path]:
        """Data and metadata paths of `key`; `ValueError` for keys that could escape root_dir."""
        check_presign_arguments(key, "application/octet-stream", 1, 1)
        root = self.root_dir.resolve()
        data_path = (root / "objects" / key).resolve()
        meta_path = (root / "meta" / f"{key}.json").resolve()
        if not (data_path.is_relative_to(root / "objects") and meta_path.is_relative_to(root)):
            raise ValueError(f"key {key!r} leaves the storage folder")
        return data_path, meta_path

    def _write(self, key: str, data: bytes, content_type: str) -> None:
        data_path, meta_path = self._paths(key)
        meta = json.dumps({"content_type": content_type}).encode()
        _write_atomically(meta_path, meta)
        _write_atomically(data_path, data)


def _write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
