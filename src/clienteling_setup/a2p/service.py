"""The business profile and the registration's read model (the workflow is `registration`)."""

from __future__ import annotations

from clienteling_setup import errors
from clienteling_setup.a2p.models import A2PCampaignRecord, A2PRegistration
from clienteling_setup.a2p.registration import BRAND_FINAL, CAMPAIGN_FINAL
from clienteling_setup.a2p.schemas import (
    A2PRegistrationRead,
    BusinessProfileRead,
    BusinessProfileWrite,
    CampaignRead,
    StageRead,
)
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


__all__ = ["BRAND_FINAL", "get_profile", "put_profile", "read_registration", "registration_read"]
