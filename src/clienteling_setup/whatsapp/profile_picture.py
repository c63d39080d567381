"""WhatsApp profile pictures: the file-name rules and the presigned upload for a tenant.

Pure rules plus one service function over the `ObjectStorage` port. The object key is under
the tenant and carries a random part, so keys cannot be guessed or collide, and the content
type is fixed by the file name's extension.
"""

from __future__ import annotations

import re
import secrets

from clienteling_setup.providers.storage import ObjectStorage, PresignedUpload

MAX_BYTES = 5 * 1024 * 1024
EXPIRES_IN = 15 * 60
MAX_FILE_NAME_LENGTH = 255

CONTENT_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg"}

_TENANT = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")
_UNSAFE_CHARACTERS = re.compile(r"[^A-Za-z0-9._-]+")
_EXAMPLE = "use a plain file name such as 'profile.png'"


class InvalidFileName(ValueError):
    """`file_name` breaks a rule; the message names the field, the problem and the fix."""

    field = "file_name"


def validate_file_name(name: str) -> str:
    """Check a profile picture's file name and return the content type its extension fixes."""
    if not name or not name.strip():
        raise InvalidFileName(f"file_name must not be empty; {_EXAMPLE}")
    if len(name) > MAX_FILE_NAME_LENGTH:
        raise InvalidFileName(
            f"file_name is {len(name)} characters long; shorten it to at most "
            f"{MAX_FILE_NAME_LENGTH} characters"
        )
    if "/" in name or "\\" in name or ".." in name:
        raise InvalidFileName(
            f"file_name {name!r} must be a bare file name without a path "
            f"('/', '\\' or '..'); {_EXAMPLE}"
        )
    if any(ord(ch) < 0x20 or ch == "\x7f" for ch in name):
        raise InvalidFileName(f"file_name {name!r} contains control characters; {_EXAMPLE}")
    stem, dot, extension = name.rpartition(".")
    content_type = CONTENT_TYPES.get(f".{extension.lower()}") if dot else None
    if content_type is None:
        raise InvalidFileName(
            f"file_name {name!r} must end in .png, .jpg or .jpeg; "
            "profile pictures must be PNG or JPEG images"
        )
    if not stem.strip():
        raise InvalidFileName(
            f"file_name {name!r} has an extension but no name before it; {_EXAMPLE}"
        )
    return content_type


def make_object_key(tenant: str, file_name: str) -> str:
    """A fresh, unguessable object key under the tenant for a valid `file_name`."""
    if not _TENANT.fullmatch(tenant):
        raise ValueError(f"tenant {tenant!r} is not a valid tenant name")
    validate_file_name(file_name)
    stem, _, extension = file_name.rpartition(".")
    safe_stem = _UNSAFE_CHARACTERS.sub("-", stem).strip("-.") or "picture"
    safe_name = f"{safe_stem}.{extension.lower()}"
    return f"tenants/{tenant}/whatsapp/profile-pictures/{secrets.token_hex(16)}/{safe_name}"


def create_profile_picture_upload(
    storage: ObjectStorage,
    tenant: str,
    file_name: str,
    *,
    max_bytes: int = MAX_BYTES,
    expires_in: int = EXPIRES_IN,
) -> PresignedUpload:
    """Grant one upload of a publicly readable profile picture of at most `max_bytes`.

    Raises `InvalidFileName` (a `ValueError`, 400 to the caller) for a bad `file_name`, and the
    port's `StorageError` when the storage cannot issue the upload.
    """
    content_type = validate_file_name(file_name)
    key = make_object_key(tenant, file_name)
    return storage.presign_upload(key, content_type, max_bytes, expires_in)
