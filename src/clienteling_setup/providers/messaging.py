"""The messaging port: everything the service asks of Twilio, in the service's own terms.

Only `providers.twilio` implements it against the real SDK. Services and tests depend on this
module alone. Error hierarchy::

    ProviderError                 Twilio answered with an error (keeps Twilio's code/status)
    ├── InputRejected             the caller's input caused it (400 to our caller)
    │   ├── NumberUnavailable     21422: number not available / taken meanwhile
    │   └── RegulatoryRejected    21631, 21649, 21613, 22205, ...: address/bundle problems
    ├── NotFound                  20404
    ├── ProviderFailure           Twilio failed (5xx after retries, unexpected errors): 502
    └── ProviderUnavailable       Twilio could not be reached or rate limited us: 503
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Protocol, Required, TypedDict, Unpack

NumberType = Literal["local", "mobile", "national", "toll-free"]


@dataclass(frozen=True)
class AccountCredentials:
    """Credentials of the account a call acts for (a tenant's subaccount)."""

    account_sid: str
    auth_token: str = field(repr=False)


@dataclass(frozen=True)
class Subaccount:
    sid: str
    friendly_name: str
    status: str  # active | suspended | closed
    auth_token: str = field(repr=False)


@dataclass(frozen=True)
class MessagingService:
    sid: str
    friendly_name: str


@dataclass(frozen=True)
class VoiceApplication:
    sid: str
    friendly_name: str
    voice_url: str | None


@dataclass(frozen=True)
class AvailableNumber:
    phone_number: str
    locality: str | None
    region: str | None
    postal_code: str | None
    iso_country: str
    sms: bool


@dataclass(frozen=True)
class OwnedNumber:
    sid: str
    phone_number: str
    friendly_name: str
    voice_application_sid: str | None
    address_sid: str | None
    bundle_sid: str | None
    #: Twilio's `type` of the number (local, mobile, national, toll-free), when it says.
    number_type: str | None = None


@dataclass(frozen=True)
class MonthlyPrice:
    """What a number costs a month: a decimal amount as Twilio writes it, and its currency."""

    amount: str  # "1.15"
    currency: str  # ISO 4217, upper-case: "USD"


@dataclass(frozen=True)
class Address:
    sid: str
    friendly_name: str | None
    street: str | None
    street_secondary: str | None
    city: str | None
    region: str | None
    postal_code: str | None
    iso_country: str


@dataclass(frozen=True)
class Bundle:
    sid: str
    friendly_name: str
    status: str  # draft, pending-review, in-review, twilio-rejected, twilio-approved, ...
    regulation_sid: str | None
    iso_country: str | None  # from the bundle's regulation, when known
    number_type: str | None
    failure_reason: str | None = None


@dataclass(frozen=True)
class SupportingDocument:
    sid: str
    friendly_name: str
    status: str
    date_created: str | None
    date_updated: str | None


@dataclass(frozen=True)
class Regulation:
    sid: str
    friendly_name: str
    iso_country: str
    number_type: str
    end_user_type: str


@dataclass(frozen=True)
class TrustProduct:
    """A Trust Hub bundle: a trust product, or a customer profile (the same fields)."""

    sid: str
    friendly_name: str
    status: str
    policy_sid: str | None
    #: Why a twilio-rejected bundle was rejected (its `errors`), when Twilio says.
    failure_reason: str | None = None


@dataclass(frozen=True)
class EndUser:
    """A Trust Hub end user (IT...): business information, a representative, an A2P profile."""

    sid: str
    friendly_name: str
    type: str
    attributes: dict[str, object] = field(compare=False, repr=False)


@dataclass(frozen=True)
class Evaluation:
    """A Trust Hub evaluation of a bundle against its policy."""

    sid: str
    status: str  # compliant | noncompliant
    #: Each failed requirement as "field: reason", in Twilio's order.
    failures: tuple[str, ...] = ()


@dataclass(frozen=True)
class BrandRegistration:
    """A US A2P 10DLC brand (BN...)."""

    sid: str
    status: str  # PENDING, IN_REVIEW, APPROVED, FAILED, SUSPENDED, ...
    customer_profile_sid: str | None
    a2p_profile_sid: str | None
    low_volume: bool
    failure_reason: str | None = None
    identity_status: str | None = None


@dataclass(frozen=True)
class A2PCampaign:
    """A US A2P 10DLC campaign (QE...) of one Messaging Service."""

    sid: str
    messaging_service_sid: str
    brand_sid: str | None
    status: str  # IN_PROGRESS, VERIFIED, FAILED, ...
    usecase: str | None
    #: Each of the campaign's errors as "CODE (FIELDS): description".
    errors: tuple[str, ...] = ()


class NewAddress(TypedDict):
    """What `create_address` registers (Twilio's Address fields)."""

    friendly_name: str
    customer_name: str
    street: str
    street_secondary: str | None
    city: str
    region: str
    postal_code: str
    iso_country: str


class CampaignContent(TypedDict):
    """What a campaign says (Twilio's `Compliance/Usa2p` fields)."""

    description: str
    message_flow: str
    message_samples: list[str]
    has_embedded_links: bool
    has_embedded_phone: bool


class NewCampaign(CampaignContent):
    brand_sid: str
    usecase: str
    opt_in_message: str
    opt_out_message: str
    help_message: str
    opt_in_keywords: list[str]
    opt_out_keywords: list[str]
    help_keywords: list[str]


@dataclass(frozen=True)
class SenderProfile:
    name: str
    about: str | None = None
    address: str | None = None
    description: str | None = None
    emails: tuple[str, ...] = ()
    websites: tuple[str, ...] = ()
    logo_url: str | None = None


@dataclass(frozen=True)
class WhatsAppSender:
    sid: str
    sender_id: str  # whatsapp:+E164
    status: str  # Twilio's upper-case status, e.g. CREATING, ONLINE, OFFLINE
    waba_id: str | None
    quality_rating: str | None
    messaging_limit: str | None
    offline_reasons: tuple[str, ...] = ()


class NumberSearch(TypedDict, total=False):
    """The filters of `search_available_numbers`, each optional (Twilio's names)."""

    in_region: str | None
    in_postal_code: str | None
    area_code: str | None
    near_lat_long: str | None
    contains: str | None
    limit: int  # at most this many numbers (20 when not given)


class NumberPurchase(TypedDict, total=False):
    """What `buy_number` sets on the number it buys."""

    friendly_name: Required[str]
    address_sid: str | None
    bundle_sid: str | None
    voice_application_sid: str | None


class SenderSettings(TypedDict):
    """What `update_sender` sets: the sender's profile and where its status callbacks go."""

    profile: SenderProfile
    status_callback_url: str


class NewSender(SenderSettings):
    """What `create_sender` registers: the number (`whatsapp:+E164`), its WABA and settings."""

    sender_id: str
    waba_id: str


class ProviderError(Exception):
    """Twilio answered with an error. `code` is Twilio's error code when it gave one."""

    def __init__(self, message: str, *, code: int | None = None, status: int | None = None):
        super().__init__(message)
        self.message = message
        self.code = code
        self.status = status


class InputRejected(ProviderError):
    """Twilio refused because of what the caller asked for (our API answers 400)."""


class NumberUnavailable(InputRejected):
    """21422: the number is not available (taken, reserved, or never Twilio's)."""


class RegulatoryRejected(InputRejected):
    """Address or bundle problems: 21631, 21649, 21613, 22205, ..."""


class NotFound(ProviderError):
    """20404: the resource does not exist in this account."""


class ProviderFailure(ProviderError):
    """Twilio failed in a way the caller cannot fix (our API answers 502)."""


class ProviderUnavailable(ProviderError):
    """Twilio could not be reached, timed out or kept rate-limiting (our API answers 503)."""

    def __init__(
        self,
        message: str,
        *,
        code: int | None = None,
        status: int | None = None,
        retry_after: int = 5,
    ):
        super().__init__(message, code=code, status=status)
        self.retry_after = retry_after


class MessagingGateway(Protocol):
    """What the service needs from Twilio. Every method may raise a `ProviderError`."""

    # -- master account: tenant subaccounts --------------------------------------------
    def create_subaccount(self, friendly_name: str) -> Subaccount: ...
    def find_subaccount(self, friendly_name: str) -> Subaccount | None: ...
    def fetch_subaccount(self, sid: str) -> Subaccount: ...
    def close_subaccount(self, sid: str) -> Subaccount:
        """Close a subaccount for good (Twilio releases what it still owns). Idempotent: a
        subaccount closed already answers as closed."""
        ...

    def list_subaccounts(self) -> list[Subaccount]:
        """Every subaccount of the master account (pages of 1,000: one call per 1,000)."""
        ...

    # -- tenant account: messaging services ----------------------------------------------
    def find_messaging_service(
        self, account: AccountCredentials, friendly_name: str
    ) -> MessagingService | None: ...
    def create_messaging_service(
        self, account: AccountCredentials, friendly_name: str
    ) -> MessagingService: ...
    def add_number_to_messaging_service(
        self, account: AccountCredentials, service_sid: str, number_sid: str
    ) -> None:
        """Idempotent: a number already in the service counts as success."""
        ...

    def messaging_service_has_number(
        self, account: AccountCredentials, service_sid: str, number_sid: str
    ) -> bool:
        """Whether the number (PN...) is in the service: one fetch by SID, never a list, so
        its cost does not grow with the service's size."""
        ...

    def remove_number_from_messaging_service(
        self, account: AccountCredentials, service_sid: str, number_sid: str
    ) -> None:
        """Idempotent: a number not in the service (Twilio's 404) counts as removed."""
        ...

    def delete_messaging_service(self, account: AccountCredentials, sid: str) -> None:
        """Idempotent: a service that is gone already (Twilio's 404) counts as deleted."""
        ...

    # -- voice applications (call forwarding) ---------------------------------------------
    def find_application(
        self, account: AccountCredentials, friendly_name: str
    ) -> VoiceApplication | None: ...
    def create_application(
        self, account: AccountCredentials, friendly_name: str, voice_url: str
    ) -> VoiceApplication: ...
    def update_application(
        self, account: AccountCredentials, sid: str, voice_url: str
    ) -> VoiceApplication: ...
    def delete_application(self, account: AccountCredentials, sid: str) -> None:
        """Idempotent: an application that is gone already (Twilio's 404) counts as deleted."""
        ...

    # -- phone numbers ----------------------------------------------------------------------
    def search_available_numbers(
        self,
        account: AccountCredentials,
        iso_country: str,
        number_type: NumberType,
        **filters: Unpack[NumberSearch],
    ) -> list[AvailableNumber]:
        """SMS-capable numbers only."""
        ...

    def buy_number(
        self, account: AccountCredentials, phone_number: str, **purchase: Unpack[NumberPurchase]
    ) -> OwnedNumber:
        """Never retried blindly: after an ambiguous failure, ownership is checked by lookup."""
        ...

    def find_owned_number(
        self, account: AccountCredentials, phone_number: str
    ) -> OwnedNumber | None: ...
    def fetch_owned_number(self, account: AccountCredentials, number_sid: str) -> OwnedNumber:
        """The number the account owns under this SID (PN...); NotFound when it owns none."""
        ...

    def list_owned_numbers(self, account: AccountCredentials) -> list[OwnedNumber]:
        """Every number the account owns (pages of 1,000: one call per 1,000 numbers)."""
        ...

    def set_number_voice_application(
        self, account: AccountCredentials, number_sid: str, application_sid: str
    ) -> OwnedNumber: ...
    def monthly_number_price(
        self, iso_country: str, number_type: NumberType
    ) -> MonthlyPrice | None:
        """What one number of `number_type` in `iso_country` costs a month (Twilio's Pricing
        API, on the master account's price list, which its subaccounts share). None when Twilio
        lists no price for that type or country. Answers are kept a while (prices change
        rarely), so repeated calls cost no Twilio call; a failure is remembered briefly too."""
        ...

    def release_number(self, account: AccountCredentials, number_sid: str) -> None:
        """Release (stop paying for) an owned number. Idempotent: a number that is not in the
        account any more (Twilio's 404, e.g. an earlier attempt released it) counts as
        released. Twilio does not sell a released number again at once."""
        ...

    # -- compliance -------------------------------------------------------------------------
    def list_addresses(self, account: AccountCredentials, iso_country: str) -> list[Address]: ...
    def list_bundles(
        self,
        account: AccountCredentials,
        iso_country: str | None = None,
        *,
        failure_reasons: bool = True,
    ) -> list[Bundle]:
        """The account's bundles. Without `failure_reasons`, one call per page: a rejected
        bundle's `failure_reason` is None instead of read from its evaluations."""
        ...

    def fetch_bundle(self, account: AccountCredentials, sid: str) -> Bundle: ...
    def bundle_address_sid(self, account: AccountCredentials, bundle_sid: str) -> str | None:
        """The address assigned to the bundle (from its item assignments), if any."""
        ...

    def list_bundle_documents(
        self, account: AccountCredentials, bundle_sid: str
    ) -> list[SupportingDocument]: ...
    def list_regulations(
        self, account: AccountCredentials, iso_country: str, number_type: NumberType
    ) -> list[Regulation]: ...
    def list_trust_products(self, account: AccountCredentials) -> list[TrustProduct]: ...
    def fetch_trust_product(self, account: AccountCredentials, sid: str) -> TrustProduct: ...
    def list_trust_product_documents(
        self, account: AccountCredentials, trust_product_sid: str
    ) -> list[SupportingDocument]: ...

    # -- US A2P 10DLC (Trust Hub, BrandRegistrations, Compliance/Usa2p) -----------------------
    def create_address(self, account: AccountCredentials, **address: Unpack[NewAddress]) -> Address:
        """Register an address (a business's, for its customer profile)."""
        ...

    def find_customer_profile(
        self, account: AccountCredentials, friendly_name: str, policy_sid: str
    ) -> TrustProduct | None:
        """The account's customer profile of this name under this policy, if any."""
        ...

    def create_customer_profile(
        self,
        account: AccountCredentials,
        friendly_name: str,
        email: str,
        policy_sid: str,
        status_callback: str | None = None,
    ) -> TrustProduct:
        """`status_callback`: where Twilio posts the review's status changes."""
        ...

    def fetch_customer_profile(self, account: AccountCredentials, sid: str) -> TrustProduct: ...

    def submit_customer_profile(self, account: AccountCredentials, sid: str) -> TrustProduct:
        """Submit for review (``Status=pending-review``)."""
        ...

    def customer_profile_object_sids(self, account: AccountCredentials, sid: str) -> list[str]:
        """What is assigned to the customer profile (end users, documents, profiles)."""
        ...

    def assign_to_customer_profile(
        self, account: AccountCredentials, sid: str, object_sid: str
    ) -> None: ...

    def evaluate_customer_profile(
        self, account: AccountCredentials, sid: str, policy_sid: str
    ) -> Evaluation: ...

    def find_a2p_trust_product(
        self, account: AccountCredentials, friendly_name: str, policy_sid: str
    ) -> TrustProduct | None: ...

    def create_trust_product(
        self,
        account: AccountCredentials,
        friendly_name: str,
        email: str,
        policy_sid: str,
        status_callback: str | None = None,
    ) -> TrustProduct:
        """`status_callback`: where Twilio posts the review's status changes."""
        ...

    def submit_trust_product(self, account: AccountCredentials, sid: str) -> TrustProduct: ...

    def trust_product_object_sids(self, account: AccountCredentials, sid: str) -> list[str]: ...

    def assign_to_trust_product(
        self, account: AccountCredentials, sid: str, object_sid: str
    ) -> None: ...

    def evaluate_trust_product(
        self, account: AccountCredentials, sid: str, policy_sid: str
    ) -> Evaluation: ...

    def find_end_user(
        self, account: AccountCredentials, friendly_name: str, end_user_type: str
    ) -> EndUser | None: ...

    def create_end_user(
        self,
        account: AccountCredentials,
        friendly_name: str,
        end_user_type: str,
        attributes: dict[str, object],
    ) -> EndUser: ...

    def update_end_user(
        self, account: AccountCredentials, sid: str, attributes: dict[str, object]
    ) -> EndUser:
        """Replace the end user's attributes (safe to repeat)."""
        ...

    def find_trust_document(
        self, account: AccountCredentials, friendly_name: str, document_type: str
    ) -> str | None:
        """The SID of the account's Trust Hub supporting document of this name and type."""
        ...

    def create_trust_document(
        self,
        account: AccountCredentials,
        friendly_name: str,
        document_type: str,
        attributes: dict[str, object],
    ) -> str: ...

    def list_brand_registrations(self, account: AccountCredentials) -> list[BrandRegistration]: ...

    def create_brand_registration(
        self,
        account: AccountCredentials,
        customer_profile_sid: str,
        a2p_profile_sid: str,
        *,
        low_volume: bool,
    ) -> BrandRegistration:
        """A standard brand; `low_volume` skips the automatic secondary vetting (Twilio's
        Low-Volume Standard brand)."""
        ...

    def fetch_brand_registration(
        self, account: AccountCredentials, sid: str
    ) -> BrandRegistration: ...

    def resubmit_brand_registration(
        self, account: AccountCredentials, sid: str
    ) -> BrandRegistration:
        """Have a FAILED brand reviewed again (after its bundles were fixed)."""
        ...

    def list_a2p_usecases(
        self, account: AccountCredentials, messaging_service_sid: str, brand_sid: str
    ) -> list[str]:
        """The use case codes the brand may register on this Messaging Service."""
        ...

    def find_campaign(
        self, account: AccountCredentials, messaging_service_sid: str
    ) -> A2PCampaign | None:
        """The Messaging Service's campaign (a service has at most one)."""
        ...

    def create_campaign(
        self,
        account: AccountCredentials,
        messaging_service_sid: str,
        **campaign: Unpack[NewCampaign],
    ) -> A2PCampaign: ...

    def fetch_campaign(
        self, account: AccountCredentials, messaging_service_sid: str, sid: str
    ) -> A2PCampaign: ...

    def update_campaign(
        self,
        account: AccountCredentials,
        messaging_service_sid: str,
        sid: str,
        **content: Unpack[CampaignContent],
    ) -> A2PCampaign:
        """Change a campaign's content; Twilio reviews it again."""
        ...

    # -- WhatsApp senders (/v2/Channels/Senders) --------------------------------------------
    def create_sender(
        self, account: AccountCredentials, **sender: Unpack[NewSender]
    ) -> WhatsAppSender: ...
    def fetch_sender(self, account: AccountCredentials, sid: str) -> WhatsAppSender: ...
    def update_sender(
        self, account: AccountCredentials, sid: str, **settings: Unpack[SenderSettings]
    ) -> WhatsAppSender: ...
    def list_senders(self, account: AccountCredentials) -> list[WhatsAppSender]: ...
    def delete_sender(self, account: AccountCredentials, sid: str) -> None:
        """Idempotent: a sender that is gone already (Twilio's 404) counts as deleted."""
        ...
