"""The business profile and the registration's read model (the workflow is `registration`)."""

from __future__ import annotations

from clienteling_setup import errors
from clienteling_setup.a2p.models import A2PCampaignRecord, A2PRegistration
from clienteling_setup.a2p.registration import A2P_MESSAGING_PROFILE_POLICY, CAMPAIGN_FINAL
from clienteling_setup.a2p.schemas import (
    A2PRegistrationRead,
    BusinessProfileRead,
    BusinessProfileWrite,
    CampaignRead,
    StageRead,
)
from clienteling_setup.compliance.actions import DocumentFacts, TrustProductFacts
from clienteling_setup.compliance.models import TrustProductRecord
from clienteling_setup.unit_of_work import UnitOfWork, UnitsOfWork


def put_profile(
    uows: UnitsOfWork, tenant_id: str, body: BusinessProfileWrite
) -> tuple[BusinessProfileRead, bool]:
    """The stored profile, and whether this request created it."""
    details, sensitive = body.split()
    with uows.of(tenant_id) as uow:
        tenant = uow.tenants.require_open()
        created = uow.business_profiles.current() is None
        row = uow.business_profiles.put(details, sensitive)
        uow.flush()
        return _profile_read(uow, row, tenant.ecom_link), created


def get_profile(uows: UnitsOfWork, tenant_id: str) -> BusinessProfileRead:
    with uows.of(tenant_id) as uow:
        tenant = uow.tenants.require()
        row = uow.business_profiles.current()
        if row is None:
            raise errors.NotFound(
                "No business profile yet. Submit it with PUT /clienteling/business-profile."
            )
        return _profile_read(uow, row, tenant.ecom_link)


def _profile_read(uow: UnitOfWork, row: object, ecom_link: str) -> BusinessProfileRead:
    from clienteling_setup.a2p.models import BusinessProfile

    assert isinstance(row, BusinessProfile)
    return BusinessProfileRead.model_validate(
        {
            **row.details,
            **uow.business_profiles.sensitive(row),
            "website": row.details.get("website") or ecom_link,
            "version": row.version,
            "updated_at": row.updated_at,
        }
    )


def read_registration(uows: UnitsOfWork, tenant_id: str) -> A2PRegistrationRead:
    with uows.of(tenant_id) as uow:
        uow.tenants.require()
        has_profile = uow.business_profiles.current() is not None
        row = uow.a2p.current()
        campaigns = uow.a2p_campaigns.all()
        return registration_read(row, campaigns, has_profile=has_profile)


def registration_read(
    row: A2PRegistration | None, campaigns: list[A2PCampaignRecord], *, has_profile: bool
) -> A2PRegistrationRead:
    if row is None:
        return A2PRegistrationRead(
            status="not_started",
            action="submit_business_profile",
            profile_version=0,
            low_volume=False,
            stages=[],
            campaigns=[],
            last_error=None,
        )
    stages = [
        StageRead(
            stage="customer_profile",
            sid=row.customer_profile_sid,
            twilio_status=row.customer_profile_status,
            failure_reason=row.customer_profile_failure,
        ),
        StageRead(
            stage="trust_product",
            sid=row.trust_product_sid,
            twilio_status=row.trust_product_status,
            failure_reason=row.trust_product_failure,
        ),
        StageRead(
            stage="brand",
            sid=row.brand_sid,
            twilio_status=row.brand_status,
            failure_reason=row.brand_failure,
        ),
    ]
    campaign_reads = [
        CampaignRead(
            messaging_service_sid=c.messaging_service_sid,
            sender_group_id=c.sender_group_id,
            sid=c.campaign_sid,
            twilio_status=c.status,
            use_case=c.usecase,
            errors=(c.errors or "").splitlines(),
        )
        for c in campaigns
    ]
    action = next_action(row, campaigns, has_profile=has_profile)
    if action in ("submit_business_profile", "fix_rejected_brand", "fix_rejected_campaign"):
        status = "action_required"
    elif action is None:
        status = "registered"
    elif row.brand_sid is None and row.trust_product_status is None:
        status = "in_progress"
    else:
        status = "awaiting_review"
    return A2PRegistrationRead(
        status=status,
        action=action,
        profile_version=row.profile_version,
        low_volume=row.low_volume,
        stages=stages,
        campaigns=campaign_reads,
        last_error=row.last_error,
    )


def next_action(
    row: A2PRegistration | None, campaigns: list[A2PCampaignRecord], *, has_profile: bool
) -> str | None:
    """What the retailer does next (docs/actions.md): the least advanced stage decides."""
    if row is None or not has_profile:
        return "submit_business_profile"
    rejected = ("noncompliant", "twilio-rejected")
    if row.customer_profile_status in rejected or row.trust_product_status in rejected:
        return "submit_business_profile"
    if row.brand_status == "FAILED":
        return "fix_rejected_brand"
    if row.brand_status != "APPROVED":
        return "await_brand_review"
    if any(c.status == "FAILED" for c in campaigns):
        return "fix_rejected_campaign"
    if not campaigns or any(c.status not in CAMPAIGN_FINAL for c in campaigns):
        return "await_campaign_review"
    return None


def chain_facts(
    row: A2PRegistration | None,
    campaigns: list[A2PCampaignRecord],
    product: TrustProductRecord | None,
    *,
    has_profile: bool,
) -> TrustProductFacts:
    """The US `trusted_product` of the status: the A2P chain (the trust product under the A2P
    messaging-profile policy, the brand and the campaigns). Its status is the least advanced
    stage, ``<stage>_<Twilio's status>`` (e.g. ``brand_pending``, ``campaign_failed``), or
    ``twilio-approved`` once every Messaging Service has a verified campaign; its failure
    reason is Twilio's for that stage; its action is the registration's next step."""
    documents = [
        DocumentFacts(
            sid=str(d.get("sid")),
            name=str(d.get("name") or ""),
            status=str(d.get("status") or ""),
            created_at=d.get("created_at"),
            updated_at=d.get("updated_at"),
        )
        for d in (product.documents if product is not None else [])
    ]
    product_sid = (row.trust_product_sid if row is not None else None) or (
        product.sid if product is not None else None
    )
    action = next_action(row, campaigns, has_profile=has_profile)
    status, failure = _least_advanced(row, campaigns)
    if row is None and product is not None:
        status = f"trust_product_{product.status}"
    return TrustProductFacts(
        status=status,
        sid=product_sid,
        failure_reason=failure,
        documents=documents,
        action=action,
    )


def _least_advanced(
    row: A2PRegistration | None, campaigns: list[A2PCampaignRecord]
) -> tuple[str, str | None]:
    """(status, failure reason) of the chain: a rejected stage first (what the retailer must
    fix), else the least advanced one (a brand under review stands for the bundles it waits
    on)."""
    if row is None:
        return "missing", None
    bundles = (
        ("customer_profile", row.customer_profile_status, row.customer_profile_failure),
        ("trust_product", row.trust_product_status, row.trust_product_failure),
    )
    for stage, status, failure in bundles:
        if status in ("noncompliant", "twilio-rejected"):
            return f"{stage}_{status}", failure
    if row.brand_status == "FAILED":
        return "brand_failed", row.brand_failure
    failed = [c for c in campaigns if c.status == "FAILED"]
    if failed:
        return "campaign_failed", "; ".join((failed[0].errors or "").splitlines()) or None
    if row.brand_sid is None:
        for stage, status, failure in bundles:
            if status != "twilio-approved":
                return f"{stage}_{status or 'missing'}", failure
        return "brand_missing", None
    if row.brand_status != "APPROVED":
        return f"brand_{(row.brand_status or 'missing').lower()}", row.brand_failure
    if not campaigns:
        return "campaign_missing", None
    for campaign in campaigns:
        if campaign.status != "VERIFIED":
            return f"campaign_{(campaign.status or 'missing').lower()}", None
    return "twilio-approved", None


__all__ = [
    "A2P_MESSAGING_PROFILE_POLICY",
    "chain_facts",
    "get_profile",
    "put_profile",
    "read_registration",
    "registration_read",
]


#: The statuses a customer profile or trust product's StatusCallback may carry (Trust Hub's).
REVIEW_STATUSES = frozenset(
    {"draft", "pending-review", "in-review", "twilio-rejected", "twilio-approved"}
)


def apply_status_callback(uows: UnitsOfWork, tenant_id: str, params: dict[str, str]) -> bool:
    """Record what a Trust Hub StatusCallback says of the tenant's customer profile or A2P
    trust product (`BundleSid`, `Status`, `FailureReason`), as a reconciliation reading it
    would. False when the SID is not one of them (nothing changes)."""
    sid, status = params.get("BundleSid", ""), params.get("Status", "")
    if status not in REVIEW_STATUSES:
        raise errors.BadRequest(
            f"'Status' must be one of {', '.join(sorted(REVIEW_STATUSES))}; got {status[:40]!r}."
        )
    failure = params.get("FailureReason") or None if status == "twilio-rejected" else None
    with uows.of(tenant_id) as uow:
        row = uow.a2p.current()
        if row is None or not sid:
            return False
        if sid == row.customer_profile_sid:
            row.customer_profile_status, row.customer_profile_failure = status, failure
        elif sid == row.trust_product_sid:
            row.trust_product_status, row.trust_product_failure = status, failure
        else:
            return False
        return True
