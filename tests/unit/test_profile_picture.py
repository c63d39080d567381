"""Profile picture rules: file names, object keys, and the grant asked of the storage port."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest

from clienteling_setup.providers.storage import PresignedUpload
from clienteling_setup.whatsapp.profile_picture import (
    InvalidFileName,
    create_profile_picture_upload,
    make_object_key,
    validate_file_name,
)


@pytest.mark.parametrize(
    ("name", "content_type"),
    [
        ("a.png", "image/png"),
        ("B.JPEG", "image/jpeg"),
        ("c.jpg", "image/jpeg"),
        ("Store Logo.Png", "image/png"),
        ("logo.v2.jpeg", "image/jpeg"),
    ],
)
def test_accepted_file_names_fix_the_content_type(name: str, content_type: str) -> None:
    assert validate_file_name(name) == content_type


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("a.gif", "must end in .png, .jpg or .jpeg"),
        ("a.png.exe", "must end in .png, .jpg or .jpeg"),
        ("png", "must end in .png, .jpg or .jpeg"),
        ("a.png ", "must end in .png, .jpg or .jpeg"),
        ("../a.png", "without a path"),
        ("dir/a.png", "without a path"),
        ("dir\\a.png", "without a path"),
        ("/a.png", "without a path"),
        ("a..png", "without a path"),
        ("", "must not be empty"),
        ("   ", "must not be empty"),
        (".png", "no name before it"),
        (" .jpg", "no name before it"),
        ("a\n.png", "control characters"),
        ("x" * 300 + ".png", "at most 255 characters"),
    ],
)
def test_rejected_file_names_say_which_field_and_how_to_fix(name: str, problem: str) -> None:
    with pytest.raises(InvalidFileName) as caught:
        validate_file_name(name)
    message = str(caught.value)
    assert message.startswith("file_name ")
    assert problem in message
    assert isinstance(caught.value, ValueError)


def test_key_is_under_the_tenant_with_a_random_part() -> None:
    first = make_object_key("acme", "Store Logo.PNG")
    second = make_object_key("acme", "Store Logo.PNG")

    pattern = r"tenants/acme/whatsapp/profile-pictures/([0-9a-f]{32})/Store-Logo\.png"
    first_match = re.fullmatch(pattern, first)
    second_match = re.fullmatch(pattern, second)
    assert first_match
    assert second_match
    assert first_match.group(1) != second_match.group(1)


def test_key_refuses_an_invalid_tenant_or_file_name() -> None:
    with pytest.raises(ValueError, match="tenant"):
        make_object_key("../other", "a.png")
    with pytest.raises(InvalidFileName):
        make_object_key("acme", "dir/a.png")


@dataclass
class RecordingStorage:
    """The storage port, recording what it was asked to grant."""

    calls: list[tuple[str, str, int, int]] = field(default_factory=list)

    def presign_upload(
        self, key: str, content_type: str, max_bytes: int, expires_in: int
    ) -> PresignedUpload:
        self.calls.append((key, content_type, max_bytes, expires_in))
        return PresignedUpload(
            url="https://uploads.example/",
            method="POST",
            fields={"key": key},
            expires_at=datetime(2030, 1, 1, tzinfo=UTC),
            public_url=self.public_url(key),
        )

    def public_url(self, key: str) -> str:
        return f"https://cdn.example/{key}"


def test_upload_grant_is_an_image_of_at_most_5_mb_for_15_minutes() -> None:
    storage = RecordingStorage()

    upload = create_profile_picture_upload(storage, "acme", "logo.JPG")

    [(key, content_type, max_bytes, expires_in)] = storage.calls
    assert key.startswith("tenants/acme/whatsapp/profile-pictures/")
    assert key.endswith("/logo.jpg")
    assert content_type == "image/jpeg"
    assert max_bytes == 5 * 1024 * 1024
    assert expires_in == 900
    assert upload.public_url == f"https://cdn.example/{key}"


def test_no_grant_for_a_bad_file_name() -> None:
    storage = RecordingStorage()

    with pytest.raises(InvalidFileName):
        create_profile_picture_upload(storage, "acme", "a.gif")

    assert storage.calls == []
