"""Request and response bodies of the WhatsApp operations."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Self

from email_validator import EmailNotValidError, validate_email
from pydantic import BaseModel, Field, field_validator, model_validator

from clienteling_setup.onboarding.schemas import (
    PhoneNumber,
    Sid,
    WabaId,
    address_sid_field,
    bundle_sid_field,
    check_bundle_pair,
)
from clienteling_setup.schemas import read_from
from clienteling_setup.tenants.schemas import StrictBody
from clienteling_setup.text import Text
from clienteling_setup.validation import E164_PATTERN, absolute_url, require_not_blank
from clienteling_setup.whatsapp.models import WhatsAppSenderRecord

WABA_ID_PATTERN = r"^[0-9]{5,32}$"
#: The longest profile-picture file name (what file systems and S3 keys handle everywhere).
FILE_NAME_MAX_LENGTH = 255
_PURCHASE_ONLY = ", used only when purchasing whatsapp_phone_number"
#: The profile fields a sender may leave out (all but the name).
_OPTIONAL_PROFILE_FIELDS = ("email", "website", "picture", "description", "about", "address")


class WhatsAppOnboardRequest(StrictBody):
    """Meta's limits on the profile fields apply (checked here so Twilio never refuses them)."""

    waba_id: WabaId | None = Field(
        default=None,
        pattern=WABA_ID_PATTERN,
        description="WhatsApp Business Account ID to link to the store. Optional when the "
        "store joins a sender group that already has a WABA (then inherited).",
        examples=["1234567890"],
    )
    profile_name: Annotated[str, Text(256)] = Field(
        description="The name of the WhatsApp profile that will be shown to customers when "
        "they interact with the store via WhatsApp.",
        examples=["Dodici Potsdamer Platz by NewStore"],
    )
    profile_email: Annotated[str, Text(128)] | None = Field(
        default=None,
        description="Email address that should appear on the WhatsApp profile.",
        examples=["potsdamer-platz@newstore.com"],
    )
    profile_website: Annotated[str, Text(256)] | None = Field(
        default=None,
        description="Website URL that should appear on the WhatsApp profile (https://).",
    )
    profile_picture: Annotated[str, Text(2048)] | None = Field(
        default=None,
        description="URL to a logo used as contact image on the WhatsApp profile (https://; "
        "use the public_url of POST /clienteling/whatsapp/profile-picture-upload-url).",
    )
    profile_description: Annotated[str, Text(512, multiline=True)] | None = Field(
        default=None, description="A description of the WhatsApp profile."
    )
    profile_about: Annotated[str, Text(139)] | None = Field(
        default=None, description="The 'about' text shown on the WhatsApp profile."
    )
    profile_address: Annotated[str, Text(256)] | None = Field(
        default=None, description="Business address shown on the profile."
    )
    whatsapp_phone_number: PhoneNumber | None = Field(
        default=None,
        pattern=E164_PATTERN,
        description="Optional dedicated WhatsApp number in E.164 format. When set, this number "
        "is purchased (if not already owned) and registered as the WhatsApp sender instead of "
        "the store's SMS number.",
        examples=["+4930901821"],
    )
    bundle_sid: Sid | None = bundle_sid_field(_PURCHASE_ONLY)
    address_sid: Sid | None = address_sid_field(_PURCHASE_ONLY)

    @field_validator("profile_name")
    @classmethod
    def _name(cls, value: str) -> str:
        return require_not_blank(value, "profile_name").strip()

    @field_validator("profile_email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            return validate_email(value.strip(), check_deliverability=False).normalized
        except EmailNotValidError as exc:
            raise ValueError(
                f"profile_email '{value}' is not a valid email address ({exc}); "
                "send an address such as store@example.com"
            ) from exc

    @field_validator("profile_website")
    @classmethod
    def _website(cls, value: str | None) -> str | None:
        return None if value is None else absolute_url(value, "profile_website", schemes=("https",))

    @field_validator("profile_picture")
    @classmethod
    def _picture(cls, value: str | None) -> str | None:
        # Plain http is allowed here only so that the service can accept its own local
        # storage's URLs; the service refuses every other http URL.
        if value is None:
            return None
        return absolute_url(value, "profile_picture", schemes=("https", "http"))

    @model_validator(mode="after")
    def _rules(self) -> Self:
        check_bundle_pair(self.bundle_sid, self.address_sid)
        if self.bundle_sid is not None and self.whatsapp_phone_number is None:
            raise ValueError(
                "bundle_sid and address_sid are used only to buy whatsapp_phone_number; "
                "send whatsapp_phone_number too, or leave them out to register the store's "
                "SMS number"
            )
        return self


class WhatsAppProfileRead(BaseModel):
    """The profile the store's sender was last registered or updated with (the
    onboarding request's `profile_*` fields)."""

    name: str = Field(description="The profile name customers see (`profile_name`).")
    email: str | None = Field(description="The profile's email address (`profile_email`).")
    website: str | None = Field(description="The profile's website (`profile_website`).")
    picture: str | None = Field(description="The logo's URL (`profile_picture`).")
    description: str | None = Field(description="`profile_description`.")
    about: str | None = Field(description="The 'about' text (`profile_about`).")
    address: str | None = Field(description="The business address (`profile_address`).")


class WhatsAppSenderRead(BaseModel):
    store_id: str
    sid: str | None = Field(description="The Twilio sender SID (XE...).")
    status: str = Field(
        description="The sender's status in lower case: creating, online, offline, "
        "pending_verification, online:updating, ... ('pending' while not yet registered).",
        examples=["creating"],
    )
    sender_id: str = Field(examples=["whatsapp:+4930901820"])
    phone_number: str
    phone_number_sid: str | None
    waba_id: str
    quality_rating: str | None
    messaging_limit: str | None
    offline_reasons: list[str]
    profile: WhatsAppProfileRead
    updated_at: datetime


class WhatsAppLastError(BaseModel):
    """Why the store's last WhatsApp registration attempt failed."""

    message: str = Field(description="Twilio's error as the service recorded it.")
    request_id: str | None = Field(
        description="The id of the request that met the error; null when reconciliation did."
    )
    at: datetime | None = Field(description="When the error happened.")


class WhatsAppRegistrationRead(WhatsAppSenderRead):
    """Beyond the reference: the store's WhatsApp registration as the service holds it, to
    prefill an update (POST .../whatsapp/onboard with changed profile fields)."""

    quality_rating: str | None = Field(
        description="Meta's quality rating of the sender (GREEN, YELLOW, RED, UNKNOWN); null "
        "before Twilio reported one."
    )
    messaging_limit: str | None = Field(
        description="Meta's messaging limit tier (e.g. TIER_1K); null before Twilio reported one."
    )
    offline_reasons: list[str] = Field(
        description="Why Meta or Twilio took the sender offline (code: message), if it is."
    )
    last_error: WhatsAppLastError | None = Field(
        description="Why the last registration attempt failed while the sender does not exist "
        "yet (`sid` null); null otherwise."
    )


class ProfilePictureUploadRequest(StrictBody):
    file_name: Annotated[str, Text(FILE_NAME_MAX_LENGTH)] = Field(
        description="Profile picture file name. The file name must have a .png, .jpg or .jpeg "
        "extension and no path.",
        examples=["profile.png"],
    )


class ProfilePictureUploadRead(BaseModel):
    upload_url: str = Field(description="Where to send the upload.")
    method: str = Field(examples=["POST"])
    fields: dict[str, str] = Field(
        description="Form fields to send, in this order, before the file part named 'file' "
        "(multipart/form-data)."
    )
    headers: dict[str, str] = Field(description="Headers the upload request must carry.")
    expires_at: datetime = Field(description="After this instant the upload is refused.")
    public_url: str = Field(
        description="The URL the picture will be publicly readable at; pass it as "
        "profile_picture when onboarding a store to WhatsApp."
    )
    file_name: str
    max_bytes: int = Field(description="The largest file the upload accepts.")


def sender_read(row: WhatsAppSenderRecord) -> WhatsAppSenderRead:
    profile = row.profile or {}
    return read_from(
        WhatsAppSenderRead,
        row,
        sid=row.sender_sid,
        status=row.status.lower(),
        sender_id=f"whatsapp:{row.phone_number}",
        phone_number_sid=row.number_sid,
        offline_reasons=list(row.offline_reasons or []),
        profile=WhatsAppProfileRead(
            name=str(profile.get("name") or ""),
            **{key: _text(profile.get(key)) for key in _OPTIONAL_PROFILE_FIELDS},
        ),
    )


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def registration_read(row: WhatsAppSenderRecord) -> WhatsAppRegistrationRead:
    error = (
        WhatsAppLastError(
            message=row.last_error, request_id=row.last_error_request_id, at=row.last_error_at
        )
        if row.last_error
        else None
    )
    return WhatsAppRegistrationRead(**sender_read(row).model_dump(), last_error=error)
