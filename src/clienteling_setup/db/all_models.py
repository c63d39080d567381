"""Imports every model so Alembic and the metadata see all tables."""

from clienteling_setup.a2p.models import A2PCampaignRecord, A2PRegistration, BusinessProfile
from clienteling_setup.compliance.models import (
    BundleRecord,
    CountryRequirement,
    RegulationsRefresh,
    TrustProductRecord,
)
from clienteling_setup.db.base import Base
from clienteling_setup.jobs.models import JobBudget, OnboardingJob, OnboardingJobItem
from clienteling_setup.ledger.models import LedgerEntry
from clienteling_setup.numbers.models import NumberClaim, NumberRelease, OwnedNumberRecord
from clienteling_setup.offboarding.models import StoreOffboarding
from clienteling_setup.onboarding.models import SenderGroup, StoreOnboarding
from clienteling_setup.status.models import StoreFragment
from clienteling_setup.stores.models import Store
from clienteling_setup.tenants.models import (
    OptInTemplate,
    Reconciliation,
    Tenant,
    TenantDisabling,
)
from clienteling_setup.whatsapp.models import WhatsAppSenderRecord
from clienteling_setup.workflow.models import Lease

__all__ = [
    "A2PCampaignRecord",
    "A2PRegistration",
    "Base",
    "BusinessProfile",
    "BundleRecord",
    "CountryRequirement",
    "JobBudget",
    "Lease",
    "LedgerEntry",
    "NumberClaim",
    "NumberRelease",
    "OnboardingJob",
    "OnboardingJobItem",
    "OptInTemplate",
    "OwnedNumberRecord",
    "Reconciliation",
    "RegulationsRefresh",
    "SenderGroup",
    "Store",
    "StoreFragment",
    "StoreOffboarding",
    "StoreOnboarding",
    "Tenant",
    "TenantDisabling",
    "TrustProductRecord",
    "WhatsAppSenderRecord",
]
