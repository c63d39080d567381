"""US A2P 10DLC as the emulator plays it: Trust Hub policies, customer profiles, end users, trust
products, their evaluations and reviews, brand registrations (with vetting) and campaigns.

The flow is the one of Twilio's "A2P 10DLC onboarding guide for ISVs": a secondary customer
profile (policy `SECONDARY_CUSTOMER_PROFILE`) gets a business-information end user, an authorized
representative and an address document, is evaluated and submitted; an A2P messaging-profile
trust product (policy `A2P_MESSAGING_PROFILE`) gets its end user and the customer profile, is
evaluated and submitted; a brand is registered from both; once the brand is APPROVED, each
Messaging Service gets one `Compliance/Usa2p` campaign.

Reviews move on the emulator clock (`World.a2p_profile_review_seconds`, `brand_review_seconds`,
`campaign_review_seconds`; `advance`): a submitted profile or product is approved when its latest
evaluation was compliant, else rejected with the evaluation's failures; a brand is approved once
both bundles are; a campaign is verified once its brand is. The admin controls (`set_*_status`)
reject with a reason instead, as a reviewer would.
"""

from __future__ import annotations

import hashlib
import re
from typing import TYPE_CHECKING, Any

from .models import (
    BrandRegistration,
    BrandVetting,
    Bundle,
    Campaign,
    EndUser,
    Evaluation,
    PendingCallback,
)

if TYPE_CHECKING:
    from .world import World

#: Twilio's real Trust Hub policy SIDs (the same in every account).
from .isv import PRIMARY_CUSTOMER_PROFILE as PRIMARY_CUSTOMER_PROFILE  # noqa: E402

SECONDARY_CUSTOMER_PROFILE = "RNdfbf3fae0e1107f8aded0e7cead80bf5"
A2P_MESSAGING_PROFILE = "RNb0d4771c2c98518d916a3d4cd70a8f8b"
SHAKEN_STIR = "RN7a97559effdf62d00f4298208492a5ea"
CNAM = "RN670d5d2e282a6130ae063b234b6019c8"

BUSINESS_INFORMATION = "customer_profile_business_information"
AUTHORIZED_REPRESENTATIVE = "authorized_representative_1"
A2P_PROFILE_INFORMATION = "us_a2p_messaging_profile_information"
ADDRESS_DOCUMENT = "customer_profile_address"

#: What each end user type must carry (the policies' requirements, as the ISV guide lists them).
REQUIRED_ATTRIBUTES = {
    BUSINESS_INFORMATION: (
        "business_name",
        "business_type",
        "business_industry",
        "business_registration_identifier",
        "business_registration_number",
        "business_regions_of_operation",
        "website_url",
        "business_identity",
    ),
    AUTHORIZED_REPRESENTATIVE: (
        "first_name",
        "last_name",
        "email",
        "phone_number",
        "business_title",
        "job_position",
    ),
    A2P_PROFILE_INFORMATION: ("company_type",),
}
_EIN = re.compile(r"^\d{2}-?\d{7}$")

POLICIES: dict[str, tuple[str, dict[str, Any]]] = {
    PRIMARY_CUSTOMER_PROFILE: ("Primary Customer Profile of type Business", {}),
    SECONDARY_CUSTOMER_PROFILE: (
        "Secondary Customer Profile of type Business",
        {
            "end_user": [
                {"type": t, "requirement_name": t, "fields": list(REQUIRED_ATTRIBUTES[t])}
                for t in (BUSINESS_INFORMATION, AUTHORIZED_REPRESENTATIVE)
            ],
            "supporting_document": [
                [{"type": ADDRESS_DOCUMENT, "requirement_name": ADDRESS_DOCUMENT}]
            ],
        },
    ),
    A2P_MESSAGING_PROFILE: (
        "A2P Messaging Profile",
        {
            "end_user": [
                {
                    "type": A2P_PROFILE_INFORMATION,
                    "requirement_name": A2P_PROFILE_INFORMATION,
                    "fields": ["company_type", "stock_exchange", "stock_ticker"],
                }
            ],
            "customer_profile": [{"requirement_name": "secondary_customer_profile"}],
        },
    ),
    SHAKEN_STIR: ("SHAKEN/STIR", {}),
    CNAM: ("CNAM", {}),
}

USECASES: tuple[dict[str, Any], ...] = tuple(
    {"code": code, "name": name, "description": description, "post_approval_required": False}
    for code, name, description in (
        ("2FA", "Two-Factor authentication (2FA)", "One-time passwords and login codes."),
        ("ACCOUNT_NOTIFICATION", "Account Notification", "Status updates about an account."),
        ("CUSTOMER_CARE", "Customer Care", "Support and account management conversations."),
        ("DELIVERY_NOTIFICATION", "Delivery Notification", "Status of a product's delivery."),
        ("FRAUD_ALERT", "Fraud Alert Messaging", "Notices of possibly fraudulent activity."),
        ("MARKETING", "Marketing", "Promotional messages: sales, offers, events."),
        ("MIXED", "Mixed", "Several use cases on one campaign (e.g. care and marketing)."),
        ("LOW_VOLUME", "Low Volume Mixed", "Several use cases at a low volume."),
        ("SECURITY_ALERT", "Security Alert", "Notices of a compromised system."),
    )
)

PROFILE_REVIEWING = ("pending-review", "in-review")
BRAND_REVIEWING = ("PENDING", "IN_REVIEW")
BRAND_STATUSES = ("PENDING", "IN_REVIEW", "APPROVED", "FAILED", "SUSPENDED")
CAMPAIGN_STATUSES = ("IN_PROGRESS", "VERIFIED", "FAILED", "PENDING", "SUSPENDED")
PROFILE_STATUSES = ("draft", "pending-review", "in-review", "twilio-rejected", "twilio-approved")
DEFAULT_BRAND_FAILURE = "TCR could not verify the business's tax ID (EIN) against its legal name."
DEFAULT_CAMPAIGN_ERROR = {
    "error_code": 30896,
    "fields": ["MESSAGE_FLOW"],
    "description": "The campaign's message flow does not say how consent is collected.",
    "url": "https://www.twilio.com/docs/api/errors/30896",
}


def _primary_profile_result(world: World, parent: Bundle, objects: list[str]) -> dict[str, Any]:
    """A secondary customer profile must be assigned an approved Primary Customer Profile of
    its parent account (the ISV's)."""
    account = world.accounts.get(parent.account_sid)
    owner = account.owner_account_sid if account is not None else None
    primaries = [
        p
        for p in (world.customer_profiles_by_sid.get(s) for s in objects)
        if p is not None
        and p.regulation_sid == PRIMARY_CUSTOMER_PROFILE
        and p.account_sid == owner
        and p.status == "twilio-approved"
    ]
    missing = (
        []
        if primaries
        else [
            _field_failure(
                "primary_customer_profile",
                "No approved Primary Customer Profile of the parent account (the ISV's) "
                "is assigned",
            )
        ]
    )
    return _requirement("primary_customer_profile", "customer_profile", missing)


# ---------------------------------------------------------------------- evaluations
def _assigned(world: World, parent_sid: str) -> list[str]:
    return [i.object_sid for i in world.entity_assignments.values() if i.parent_sid == parent_sid]


def _requirement(name: str, object_type: str, invalid: list[dict[str, Any]]) -> dict[str, Any]:
    reason = "; ".join(i["failure_reason"] for i in invalid) if invalid else None
    return {
        "friendly_name": name.replace("_", " ").capitalize(),
        "object_type": object_type,
        "passed": not invalid,
        "failure_reason": reason,
        "error_code": 22214 if invalid else None,
        "valid": [],
        "invalid": invalid,
        "requirement_friendly_name": name.replace("_", " ").capitalize(),
        "requirement_name": name,
    }


def _field_failure(field: str, reason: str) -> dict[str, Any]:
    return {
        "friendly_name": field.replace("_", " ").capitalize(),
        "object_field": field,
        "failure_reason": reason,
        "error_code": 22214,
    }


def _end_user_result(world: World, objects: list[str], end_user_type: str) -> dict[str, Any]:
    users = [
        world.end_users_by_sid[s]
        for s in objects
        if s in world.end_users_by_sid and world.end_users_by_sid[s].type == end_user_type
    ]
    if not users:
        missing = [_field_failure(end_user_type, f"An end user of type {end_user_type} is missing")]
        return _requirement(end_user_type, "end_user", missing)
    attributes = users[-1].attributes
    invalid = [
        _field_failure(f, f"{f} is required")
        for f in REQUIRED_ATTRIBUTES[end_user_type]
        if not str(attributes.get(f) or "").strip()
    ]
    if end_user_type == BUSINESS_INFORMATION:
        number = str(attributes.get("business_registration_number") or "")
        if (
            attributes.get("business_registration_identifier") == "EIN"
            and number
            and not _EIN.match(number)
        ):
            invalid.append(_field_failure("business_registration_number", "An EIN has nine digits"))
    if end_user_type == A2P_PROFILE_INFORMATION and attributes.get("company_type") == "public":
        invalid += [
            _field_failure(f, f"{f} is required for a public company")
            for f in ("stock_exchange", "stock_ticker")
            if not attributes.get(f)
        ]
    return _requirement(end_user_type, "end_user", invalid)


def evaluate(world: World, parent: Bundle) -> Evaluation:
    """Evaluate a customer profile or trust product against its policy: the results name each
    requirement and, when it failed, the fields that failed it."""
    objects = _assigned(world, parent.sid)
    results: list[dict[str, Any]] = []
    if parent.regulation_sid == SECONDARY_CUSTOMER_PROFILE:
        results.append(_end_user_result(world, objects, BUSINESS_INFORMATION))
        results.append(_end_user_result(world, objects, AUTHORIZED_REPRESENTATIVE))
        documents = [
            world.trust_documents[s]
            for s in objects
            if s in world.trust_documents and world.trust_documents[s].type == ADDRESS_DOCUMENT
        ]
        missing = [] if documents else [_field_failure("address_sids", "No address document")]
        results.append(_requirement(ADDRESS_DOCUMENT, "supporting_document", missing))
        results.append(_primary_profile_result(world, parent, objects))
    elif parent.regulation_sid == A2P_MESSAGING_PROFILE:
        results.append(_end_user_result(world, objects, A2P_PROFILE_INFORMATION))
        profiles = [s for s in objects if s in world.customer_profiles_by_sid]
        missing = (
            [] if profiles else [_field_failure("customer_profile", "No customer profile assigned")]
        )
        results.append(_requirement("secondary_customer_profile", "customer_profile", missing))
    compliant = all(r["passed"] for r in results)
    evaluation = Evaluation(
        world.new_sid("EL"),
        parent.account_sid,
        parent.regulation_sid,
        parent.sid,
        "compliant" if compliant else "noncompliant",
        results,
        world.now(),
    )
    world.evaluations[evaluation.sid] = evaluation
    return evaluation


def latest_evaluation(world: World, parent_sid: str) -> Evaluation | None:
    found = [e for e in world.evaluations.values() if e.bundle_sid == parent_sid]
    return found[-1] if found else None  # the dict keeps the order they were made in


def _evaluation_errors(evaluation: Evaluation | None) -> list[dict[str, Any]]:
    if evaluation is None:
        return [{"code": 22214, "message": "The bundle was submitted without an evaluation."}]
    return [
        {
            "code": 22214,
            "message": r["failure_reason"],
            "fields": [i["object_field"] for i in r["invalid"]],
        }
        for r in evaluation.results
        if not r["passed"]
    ]


# ---------------------------------------------------------------------- reviews
def new_bundle(
    world: World, account_sid: str, policy_sid: str, friendly_name: str, email: str
) -> Bundle:
    now = world.now()
    return Bundle(
        sid=world.new_sid("BU"),
        account_sid=account_sid,
        regulation_sid=policy_sid,
        friendly_name=friendly_name,
        status="draft",
        email=email,
        date_created=now,
        date_updated=now,
        iso_country="US",
    )


def submit(world: World, bundle: Bundle) -> None:
    """A customer profile or trust product goes to review (``Status=pending-review``)."""
    bundle.status = "pending-review"
    bundle.errors = []
    bundle.submitted_at = world.clock
    bundle.date_updated = world.now()


def set_profile_status(
    world: World, bundle: Bundle, status: str, failure_reason: str | None = None
) -> list[PendingCallback]:
    if status not in PROFILE_STATUSES:
        raise ValueError(f"status must be one of {PROFILE_STATUSES}")
    bundle.status = status
    bundle.date_updated = world.now()
    bundle.valid_until = (
        bundle.date_updated.replace(year=bundle.date_updated.year + 1)
        if status == "twilio-approved"
        else None
    )
    if status == "twilio-rejected":
        bundle.errors = [{"code": 22215, "message": failure_reason or "Rejected by review."}]
    elif status != "twilio-approved":
        bundle.errors = []
    if status not in PROFILE_REVIEWING:
        bundle.submitted_at = None
    return _profile_callback(world, bundle)


def _profile_callback(world: World, bundle: Bundle) -> list[PendingCallback]:
    """A customer profile's or trust product's StatusCallback: form-encoded like the bundle
    callback (`compliance.bundle_callback`), naming the bundle, its status and failure."""
    account = world.accounts.get(bundle.account_sid)
    if not bundle.status_callback or account is None:
        return []
    params = {
        "AccountSid": bundle.account_sid,
        "BundleSid": bundle.sid,
        "Status": bundle.status,
        "DateUpdated": bundle.date_updated.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    if bundle.errors:
        params["FailureReason"] = "; ".join(str(e.get("message")) for e in bundle.errors)
    return [PendingCallback(bundle.status_callback, "POST", params, account.auth_token)]


def _advance_profile(world: World, bundle: Bundle) -> list[PendingCallback]:
    if bundle.status not in PROFILE_REVIEWING or bundle.submitted_at is None:
        return []
    elapsed = world.clock - bundle.submitted_at
    if elapsed >= world.a2p_profile_review_seconds:
        evaluation = latest_evaluation(world, bundle.sid)
        if evaluation is not None and evaluation.status == "compliant":
            return set_profile_status(world, bundle, "twilio-approved")
        pending = set_profile_status(world, bundle, "twilio-rejected")
        bundle.errors = _evaluation_errors(evaluation)
        return pending
    if elapsed >= world.a2p_profile_review_seconds / 2 and bundle.status == "pending-review":
        bundle.status = "in-review"
        bundle.date_updated = world.now()
        return _profile_callback(world, bundle)
    return []


def new_brand(
    world: World,
    account_sid: str,
    customer_profile_sid: str,
    a2p_profile_sid: str,
    *,
    brand_type: str = "STANDARD",
    skip_automatic_sec_vet: bool = False,
    mock: bool = False,
) -> BrandRegistration:
    now = world.now()
    brand = BrandRegistration(
        sid=world.new_sid("BN"),
        account_sid=account_sid,
        customer_profile_bundle_sid=customer_profile_sid,
        a2p_profile_bundle_sid=a2p_profile_sid,
        brand_type=brand_type,
        status="PENDING",
        date_created=now,
        date_updated=now,
        submitted_at=world.clock,
        skip_automatic_sec_vet=skip_automatic_sec_vet,
        mock=mock,
    )
    world.brands_by_sid[brand.sid] = brand
    return brand


def resubmit_brand(world: World, brand: BrandRegistration) -> None:
    """A FAILED brand resubmitted (``POST /v1/a2p/BrandRegistrations/{Sid}``) after its
    bundles were fixed: reviewed again."""
    brand.status = "PENDING"
    brand.failure_reason = None
    brand.submitted_at = world.clock
    brand.date_updated = world.now()


def set_brand_status(
    world: World, brand: BrandRegistration, status: str, failure_reason: str | None = None
) -> BrandRegistration:
    if status not in BRAND_STATUSES:
        raise ValueError(f"status must be one of {BRAND_STATUSES}")
    brand.status = status
    brand.date_updated = world.now()
    brand.failure_reason = (failure_reason or DEFAULT_BRAND_FAILURE) if status == "FAILED" else None
    if status == "APPROVED":
        _approve_brand(world, brand)
    return brand


def _approve_brand(world: World, brand: BrandRegistration) -> None:
    digest = hashlib.md5(brand.sid.encode()).hexdigest().upper()
    brand.tcr_id = brand.tcr_id or "B" + digest[:6]
    if brand.skip_automatic_sec_vet:
        brand.identity_status = "VERIFIED"  # low-volume: no secondary vetting, no score
        return
    brand.identity_status = "VETTED_VERIFIED"
    brand.brand_score = 80
    if not any(v.brand_sid == brand.sid for v in world.vettings_by_sid.values()):
        now = world.now()
        vetting = BrandVetting(
            sid=world.new_sid("VT"),
            account_sid=brand.account_sid,
            brand_sid=brand.sid,
            vetting_provider="aegis",
            vetting_status="ACTIVE",
            date_created=now,
            date_updated=now,
            vetting_id="v" + digest[6:16].lower(),
            vetting_class="STANDARD",
        )
        world.vettings_by_sid[vetting.sid] = vetting


def _advance_brand(world: World, brand: BrandRegistration) -> None:
    if brand.status not in BRAND_REVIEWING:
        return
    if world.clock - brand.submitted_at < world.brand_review_seconds:
        return
    bundles = [
        world.customer_profiles_by_sid.get(brand.customer_profile_bundle_sid),
        world.trust_products_by_sid.get(brand.a2p_profile_bundle_sid),
    ]
    if any(b is None or b.status == "twilio-rejected" for b in bundles):
        set_brand_status(
            world, brand, "FAILED", "The brand's customer profile or A2P profile was rejected."
        )
    elif all(b is not None and b.status == "twilio-approved" for b in bundles):
        set_brand_status(world, brand, "APPROVED")
    elif brand.status == "PENDING":
        brand.status = "IN_REVIEW"  # waits for its bundles' reviews
        brand.date_updated = world.now()


def new_campaign(world: World, **fields: Any) -> Campaign:
    now = world.now()
    campaign = Campaign(
        sid=world.new_sid("QE"),
        date_created=now,
        date_updated=now,
        submitted_at=world.clock,
        **fields,
    )
    world.campaigns_by_sid[campaign.sid] = campaign
    return campaign


def resubmit_campaign(world: World, campaign: Campaign) -> None:
    campaign.campaign_status = "IN_PROGRESS"
    campaign.errors = []
    campaign.submitted_at = world.clock
    campaign.date_updated = world.now()


def set_campaign_status(
    world: World, campaign: Campaign, status: str, errors: list[dict[str, Any]] | None = None
) -> Campaign:
    if status not in CAMPAIGN_STATUSES:
        raise ValueError(f"status must be one of {CAMPAIGN_STATUSES}")
    campaign.campaign_status = status
    campaign.date_updated = world.now()
    campaign.errors = (errors or [DEFAULT_CAMPAIGN_ERROR]) if status == "FAILED" else []
    if status == "VERIFIED":
        campaign.campaign_id = campaign.campaign_id or (
            "C" + hashlib.md5(campaign.sid.encode()).hexdigest().upper()[:6]
        )
    service = world.services_by_sid.get(campaign.messaging_service_sid)
    if service is not None:
        service.us_app_to_person_registered = status == "VERIFIED"
    return campaign


def _advance_campaign(world: World, campaign: Campaign) -> None:
    if campaign.campaign_status not in ("IN_PROGRESS", "PENDING"):
        return
    if world.clock - campaign.submitted_at < world.campaign_review_seconds:
        return
    brand = world.brands_by_sid.get(campaign.brand_registration_sid)
    if brand is not None and brand.status == "APPROVED":
        set_campaign_status(world, campaign, "VERIFIED")


def advance(world: World) -> list[PendingCallback]:
    """Reviews due at the current clock end (profiles first: a brand waits on them)."""
    pending: list[PendingCallback] = []
    for records in (world.customer_profiles_by_sid, world.trust_products_by_sid):
        for bundle in list(records.values()):
            pending += _advance_profile(world, bundle)
    for brand in list(world.brands_by_sid.values()):
        _advance_brand(world, brand)
    for campaign in list(world.campaigns_by_sid.values()):
        _advance_campaign(world, campaign)
    return pending


def new_end_user(
    world: World, account_sid: str, friendly_name: str, end_user_type: str, attributes: Any
) -> EndUser:
    now = world.now()
    user = EndUser(
        world.new_sid("IT"),
        account_sid,
        friendly_name,
        end_user_type,
        dict(attributes or {}),
        now,
        now,
    )
    world.end_users_by_sid[user.sid] = user
    return user
