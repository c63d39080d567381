"""The profile-picture upload URL operation: the rules of profile_picture.py on the storage port,
with storage failures answered as 502/503."""

from __future__ import annotations

from clienteling_setup import errors
from clienteling_setup.providers.storage import ObjectStorage, StorageError, StorageUnavailable
from clienteling_setup.schemas import read_from
from clienteling_setup.whatsapp.profile_picture import (
    MAX_BYTES,
    InvalidFileName,
    create_profile_picture_upload,
)
from clienteling_setup.whatsapp.schemas import ProfilePictureUploadRead


def create_upload_url(
    storage: ObjectStorage, tenant_id: str, file_name: str, *, expires_in: int
) -> ProfilePictureUploadRead:
    try:
        upload = create_profile_picture_upload(
            storage, tenant_id, file_name, max_bytes=MAX_BYTES, expires_in=expires_in
        )
    except InvalidFileName as exc:
        raise errors.BadRequest(f"'file_name': {exc}.") from exc
    except StorageUnavailable as exc:
        raise errors.UpstreamUnavailable(
            f"The picture storage could not be reached ({exc.message}). Retry later."
        ) from exc
    except StorageError as exc:
        raise errors.UpstreamFailed(
            f"The picture storage could not issue an upload URL ({exc.message}). Retry later."
        ) from exc
    return read_from(
        ProfilePictureUploadRead,
        upload,
        upload_url=upload.url,
        file_name=file_name,
        max_bytes=MAX_BYTES,
    )
