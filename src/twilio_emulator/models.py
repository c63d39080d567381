"""The emulator's records: one dataclass per Twilio resource it keeps, and the callbacks it sends.

Records hold only what the emulator needs; `render.py` turns them into Twilio's JSON and `plain`
into the admin API's. Times are aware UTC datetimes taken from the emulator clock.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple, Protocol


class Record:
    """A record of the world. While a persistent world is open, `journal.track_changes` gives
    this class a ``__setattr__`` by which the `journal.Table` holding a record notes a change of
    one of its fields; an in-memory world's records pay nothing."""

    __slots__ = ()


class Owned(Protocol):
    """A record that belongs to one account."""

    @property
    def account_sid(self) -> str: ...


@dataclass
class Account(Record):
    sid: str
    auth_token: str
    friendly_name: str
    owner_account_sid: str
    date_created: datetime
    date_updated: datetime
    status: str = "active"  # active | suspended | closed
    type: str = "Full"

    @property
    def is_subaccount(self) -> bool:
        return self.owner_account_sid != self.sid


@dataclass
class Address(Record):
    sid: str
    account_sid: str
    customer_name: str
    friendly_name: str
    street: str
    city: str
    region: str
    postal_code: str
    iso_country: str
    date_created: datetime
    date_updated: datetime
    street_secondary: str | None = None
    emergency_enabled: bool = False
    validated: bool = True
    verified: bool = True


@dataclass
class NamedResource(Record):
    """What Applications and Messaging Services begin with (their other fields follow)."""

    sid: str
    account_sid: str
    friendly_name: str
    date_created: datetime
    date_updated: datetime


@dataclass
class Application(NamedResource):
    voice_url: str | None = None
    voice_method: str = "POST"
    status_callback: str | None = None
    status_callback_method: str = "POST"
    sms_url: str | None = None
    sms_method: str = "POST"


@dataclass
class IncomingNumber(Record):
    sid: str
    account_sid: str
    phone_number: str
    friendly_name: str
    iso_country: str
    number_type: str
    sms: bool
    mms: bool
    address_requirements: str
    date_created: datetime
    date_updated: datetime
    address_sid: str | None = None
    bundle_sid: str | None = None
    voice_application_sid: str | None = None
    voice_url: str | None = None
    voice_method: str = "POST"
    sms_url: str | None = None
    sms_method: str = "POST"
    status_callback: str | None = None


@dataclass
class MessagingService(NamedResource):
    inbound_request_url: str | None = None
    status_callback: str | None = None
    usecase: str = "undeclared"
    us_app_to_person_registered: bool = False  # True once its A2P campaign is VERIFIED


@dataclass
class ServiceNumber(Record):
    """A phone number in a Messaging Service (its sid is the PN sid)."""

    sid: str
    account_sid: str
    service_sid: str
    phone_number: str
    country_code: str
    capabilities: list[str]
    date_created: datetime
    date_updated: datetime


@dataclass
class Regulation(Record):
    sid: str
    iso_country: str
    number_type: str
    end_user_type: str
    friendly_name: str


@dataclass
class SupportingDocument(Record):
    sid: str
    account_sid: str
    friendly_name: str
    type: str
    status: str  # numbers: lowercase statuses; trusthub: uppercase (as each OAI says)
    date_created: datetime
    date_updated: datetime
    mime_type: str | None = "application/pdf"
    failure_reason: str | None = None
    attributes: dict[str, Any] = field(default_factory=dict)


@dataclass
class ItemAssignment(Record):
    """Bundle item or trust-product entity assignment (sid BV...)."""

    sid: str
    parent_sid: str
    account_sid: str
    object_sid: str
    date_created: datetime


@dataclass
class Evaluation(Record):
    sid: str
    account_sid: str
    regulation_sid: str
    bundle_sid: str
    status: str  # compliant | noncompliant
    results: list[dict[str, Any]]
    date_created: datetime


@dataclass
class Bundle(Record):
    """A regulatory bundle (numbers v2) or a trust product (trusthub v1); both have BU sids."""

    sid: str
    account_sid: str
    regulation_sid: str
    friendly_name: str
    status: str
    email: str
    date_created: datetime
    date_updated: datetime
    iso_country: str = ""
    number_type: str = ""
    end_user_type: str = "business"
    valid_until: datetime | None = None
    status_callback: str | None = None
    errors: list[dict[str, Any]] = field(default_factory=list)
    #: Emulator clock seconds when a customer profile or trust product was submitted (its
    #: review ends `World.a2p_profile_review_seconds` later); None when not under review.
    submitted_at: float | None = None


@dataclass
class EndUser(Record):
    """A Trust Hub end user (IT...): the business, its representative, its A2P profile."""

    sid: str
    account_sid: str
    friendly_name: str
    type: str
    attributes: dict[str, Any]
    date_created: datetime
    date_updated: datetime


@dataclass
class BrandRegistration(Record):
    """An A2P 10DLC brand (BN...), reviewed by The Campaign Registry on the emulator clock."""

    sid: str
    account_sid: str
    customer_profile_bundle_sid: str
    a2p_profile_bundle_sid: str
    brand_type: str  # STANDARD | SOLE_PROPRIETOR
    status: str  # PENDING | IN_REVIEW | APPROVED | FAILED | ...
    date_created: datetime
    date_updated: datetime
    submitted_at: float  # emulator clock seconds of the (re)submission
    skip_automatic_sec_vet: bool = False  # True: a low-volume standard brand (no vetting)
    mock: bool = False
    failure_reason: str | None = None
    tcr_id: str | None = None
    identity_status: str = "UNVERIFIED"
    brand_score: int | None = None


@dataclass
class BrandVetting(Record):
    """A secondary vetting of a brand (VT...)."""

    sid: str
    account_sid: str
    brand_sid: str
    vetting_provider: str
    vetting_status: str
    date_created: datetime
    date_updated: datetime
    vetting_id: str | None = None
    vetting_class: str | None = None


@dataclass
class Campaign(Record):
    """An A2P 10DLC campaign (QE...) of a Messaging Service (`Compliance/Usa2p`)."""

    sid: str
    account_sid: str
    messaging_service_sid: str
    brand_registration_sid: str
    description: str
    message_samples: list[str]
    usecase: str
    message_flow: str
    has_embedded_links: bool
    has_embedded_phone: bool
    date_created: datetime
    date_updated: datetime
    submitted_at: float
    campaign_status: str = "IN_PROGRESS"  # IN_PROGRESS | VERIFIED | FAILED
    opt_in_message: str | None = None
    opt_out_message: str | None = None
    help_message: str | None = None
    opt_in_keywords: list[str] | None = None
    opt_out_keywords: list[str] | None = None
    help_keywords: list[str] | None = None
    subscriber_opt_in: bool = True
    age_gated: bool = False
    direct_lending: bool = False
    campaign_id: str | None = None
    errors: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Sender(Record):
    sid: str
    account_sid: str
    sender_id: str
    status: str
    configuration: dict[str, Any]
    webhook: dict[str, Any]
    profile: dict[str, Any]
    created_at: float  # emulator clock seconds
    status_since: float
    quality_rating: str | None = None
    messaging_limit: str | None = None
    offline_reasons: list[dict[str, Any]] | None = None
    verification_code: str | None = None


@dataclass
class Callback:
    """A status callback the emulator delivered (or tried to)."""

    url: str
    method: str
    params: dict[str, str]
    signature: str
    status_code: int | None
    error: str | None = None


class PendingCallback(NamedTuple):
    """A status callback to send: form `params` to `url`, signed with the owner's `auth_token`."""

    url: str
    method: str
    params: dict[str, str]
    auth_token: str


def plain(value: Any) -> Any:
    """Records (and dicts, lists, datetimes of them) as JSON-able values, for the admin API."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {k: plain(v) for k, v in dataclasses.asdict(value).items()}
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [plain(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    return value
